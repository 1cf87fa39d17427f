"""The pages a build leaves under reports/ (hand-made HR export of tests/dbt, real dbt build,
real GX Data Docs): self-contained, dated, kept per build with an index, counts explained,
allowed values listed, no personal value, in English and Chinese with every message
translated."""

from __future__ import annotations

import datetime as dt
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hris.contract import PERSONAL_COLUMNS
from monitoring.data_quality import (
    DataQualityRunner,
    docs_dir_for,
    feature_store_suite,
    load_rules,
    raw_suites,
    write_docs_index,
)
from monitoring.data_quality.offline_docs import STATIC_VENDOR
from monitoring.data_quality_history import read_records, render_index
from monitoring.data_quality_report import (
    render_data_quality_page,
    shown_value,
    summarise_data_quality,
)
from monitoring.i18n import Translator, translator
from monitoring.i18n.catalog import extract_messages
from monitoring.store_report import build_store_report
from tests.dbt import conftest as dbt_conftest
from tests.dbt.hr_fixture import AS_OF
from tests.monitoring.outside_urls import outside_urls_under, page_outside_urls

dbt_world = dbt_conftest.dbt_world  # the session's dbt build of the hr fixture
RULES = load_rules()
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def summary(dbt_world):
    conn = dbt_world.connect()
    try:
        return summarise_data_quality(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reports(dbt_world, pg_server, tmp_path_factory):
    """$HIRELOOP_HOME/reports after two builds (en, then zh): Data Docs of the raw and the
    feature-store checks, their index, the steward's pages."""
    reports = tmp_path_factory.mktemp("home") / "reports"
    url = pg_server.url(dbt_world.env["HIRELOOP_PG_DBNAME"])
    docs = reports / "data_docs"
    DataQualityRunner(url, docs_dir_for(docs, "raw")).validate_all(
        raw_suites(RULES, AS_OF), "pages-run")
    DataQualityRunner(url, docs_dir_for(docs, "feature_store")).validate(
        feature_store_suite(), "pages-run")
    write_docs_index(docs)
    conn = dbt_world.connect()
    try:
        first = build_store_report(conn, reports, as_of=AS_OF.isoformat(), language="en")
        first_text = first.build_page.read_text(encoding="utf-8")
        second = build_store_report(conn, reports, as_of=AS_OF.isoformat(), language="zh")
    finally:
        conn.close()
    return reports, first, first_text, second


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang, self.charset = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "meta" and "charset" in attrs:
            self.charset = attrs["charset"]


def _head(text: str) -> tuple[str | None, str | None]:
    parser = _Head()
    parser.feed(text)
    return parser.lang, parser.charset


def test_the_scanner_finds_every_kind_of_outside_reference():
    """The checker below can fail: each GX-style outside reference is caught."""
    page = ('<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/b.css">'
            '<script src="//cdn.jsdelivr.net/npm/vega@5"></script>'
            '<img srcset="a.png 1x, http://x.test/b.png 2x">'
            '<style>@import "https://fonts.test/f.css"; .a{background:url(https://s3.test/l.png)}'
            '</style><div style="background-image:url(\'//x.test/i.png\')"></div>'
            '<a href="https://greatexpectations.io">GX</a><a href="../index.html">ok</a>'
            '<a href="file:///tmp/x.html">ok</a><a href="#top">ok</a>')
    assert len(page_outside_urls(page)) == 7


def test_every_page_under_reports_names_no_outside_url(reports):
    root, first, _text, _second = reports
    pages = {p.relative_to(root).as_posix() for p in root.rglob("*.html")}
    assert {"data_quality.html", "data_quality/index.html", "data_docs/index.html",
            "data_docs/raw/index.html", "data_docs/feature_store/index.html"} <= pages
    assert first.build_page.relative_to(root).as_posix() in pages
    assert sum("/validations/" in p for p in pages) > 5  # GX's own pages are scanned too
    assert outside_urls_under(root) == {}


def test_data_docs_validation_list_loads_its_scripts_from_the_site(reports):
    """The list is drawn by jQuery + bootstrap-table: both come from the site's own folder,
    before the inline script that draws it, and every local script and stylesheet exists."""
    root = reports[0] / "data_docs" / "raw"
    for page in [root / "index.html", *root.rglob("validations/**/*.html")]:
        text = page.read_text(encoding="utf-8")
        refs = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"#]+\.(?:js|css))"', text)
        assert refs, page
        for ref in refs:
            assert (page.parent / ref).resolve().is_file(), (page, ref)
            assert (page.parent / ref).resolve().parent == (root / STATIC_VENDOR).resolve()
        if page.name == "index.html":
            draws = text.index(".bootstrapTable(")
            assert text.index("jquery-3.7.1.min.js") < draws
            assert text.index("bootstrap-table-1.19.1.min.js") < draws
            assert "validations/" in text  # the list has its rows (one per validated table)


def test_each_build_is_kept_and_the_index_lists_every_build_with_its_trend(reports):
    root, first, first_text, second = reports
    assert first.build_page != second.build_page
    assert first.build_page.read_text(encoding="utf-8") == first_text  # never overwritten
    records = read_records(root / "data_quality")
    assert [r.page for r in records] == [first.build_page.name, second.build_page.name]
    assert all(r.rows_in > 0 and r.quarantined > 0 for r in records)
    index = second.history_index.read_text(encoding="utf-8")
    for record in records:
        assert f'href="{record.page}"' in index
    assert "<polyline" in index  # the trend of the quarantined share
    assert _head(index) == ("zh-Hans", "utf-8")


def test_page_is_dated_names_its_as_of_and_explains_why_the_two_tables_differ(reports):
    _root, _first, first_text, _second = reports
    assert _head(first_text) == ("en", "utf-8")
    assert "Generated at 20" in first_text
    assert f"As-of date: {AS_OF.isoformat()}" in first_text
    assert "counts each row once, under the first rule it breaks" in first_text
    assert "count every rule a row breaks" in first_text
    assert "<svg" not in first_text.split("Share of rows quarantined")[1].split("<h2>")[0]


def test_invalid_value_lists_the_allowed_values_of_each_column(summary):
    page = render_data_quality_page(summary, translator("en"), NOW, Path("."))
    invalid = summary.invalid_values
    assert len(invalid)
    for (table_name, column), _rows in invalid.groupby(["table", "column"]):
        allowed = RULES.tables[table_name].vocab[column]
        assert f"{table_name}.{column}" in page
        assert ", ".join(allowed) in page, (table_name, column)


def test_no_personal_value_and_nothing_that_looks_personal_is_shown(dbt_world, summary):
    page = "".join(render_data_quality_page(summary, translator(lang), NOW, Path("."))
                   for lang in ("en", "zh"))
    for frame in dbt_world.frames.values():
        for column in PERSONAL_COLUMNS & set(frame.columns):
            values = {str(v) for v in frame[column].dropna() if len(str(v)) >= 5}
            assert not [v for v in values if v in page], column
    t = translator("en")
    for value in ("ana@example.org", "+86 138 0013 8000", "110101199003077777", "<redacted>"):
        assert shown_value(value, t) == "(hidden: personal data)"
    assert shown_value("charisma", t) == "charisma"


class _Recording(gettext.NullTranslations):
    """Every msgid a page asks for, with the catalog's answer."""

    def __init__(self, inner: gettext.NullTranslations) -> None:
        super().__init__()
        self.inner, self.asked = inner, set()

    def gettext(self, message: str) -> str:
        self.asked.add(message)
        return self.inner.gettext(message)


def test_every_hr_page_renders_in_chinese_with_no_message_untranslated(summary, reports):
    """The steward's page and its index, in zh: every message asked for has a translation,
    is one the code marks (so the catalog tests cover it), and no English sentence shows."""
    recording = _Recording(translator("zh").catalog)
    t = Translator("zh", recording)
    records = read_records(reports[0] / "data_quality")
    pages = [render_data_quality_page(summary, t, NOW, Path("."), history_index=Path("i.html"),
                                      data_docs=Path("d.html")),
             render_index(records, t, NOW)]
    assert len(recording.asked) > 40
    assert sorted(m for m in recording.asked if recording.inner.gettext(m) == m) == []
    marked = {m.id for m in extract_messages() if m.id}
    assert recording.asked <= marked
    for page in pages:
        assert _head(page) == ("zh-Hans", "utf-8")
        text = re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1])
        english = [m for m in recording.asked if " " in m and m in text]
        assert english == []
        assert "数据质量" in text


def test_english_pages_ask_only_for_marked_messages(summary, reports):
    recording = _Recording(gettext.NullTranslations())
    t = Translator("en", recording)
    render_data_quality_page(summary, t, NOW, Path("."), history_index=Path("i.html"))
    render_index(read_records(reports[0] / "data_quality"), t, NOW)
    assert recording.asked <= {m.id for m in extract_messages() if m.id}
