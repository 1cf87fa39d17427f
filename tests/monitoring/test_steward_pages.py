"""The pages a build leaves under reports/ (hand-made HR export of tests/dbt, real dbt build,
real GX Data Docs): self-contained, dated, kept per build with an index, counts explained,
allowed values listed, voided fields listed as quarantine.field_defects records them, no
personal value, in English and Chinese with every message translated."""

from __future__ import annotations

import datetime as dt
import gettext
import html
import re
from collections import Counter
from dataclasses import replace
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
    write_results,
)
from monitoring.data_quality.offline_docs import STATIC_VENDOR
from monitoring.data_quality.rules import VOID_REASONS
from monitoring.data_quality_history import read_records, render_index
from monitoring.data_quality_report import (
    format_data_quality,
    render_data_quality_page,
    shown_value,
    summarise_data_quality,
    void_columns,
)
from monitoring.i18n import Translator, translator
from monitoring.i18n.catalog import extract_messages
from monitoring.store_report import build_store_report
from tests.dbt import conftest as dbt_conftest
from tests.dbt.hr_fixture import AS_OF, VOIDED
from tests.monitoring.outside_urls import outside_urls_under, page_outside_urls

dbt_world = dbt_conftest.dbt_world  # the session's dbt build of the hr fixture
RULES = load_rules()
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def summary(dbt_world, reports):
    """The summary after the pages' checks were recorded (monitoring.dq_results)."""
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
    outcomes = DataQualityRunner(url, docs_dir_for(docs, "raw")).validate_all(
        raw_suites(RULES, AS_OF), "pages-run")
    outcomes.append(DataQualityRunner(url, docs_dir_for(docs, "feature_store")).validate(
        feature_store_suite(), "pages-run"))
    write_docs_index(docs)
    conn = dbt_world.connect()
    try:
        write_results(conn, outcomes)  # as the build records them: the page's check table
        conn.commit()
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


def _section(page: str, title: str) -> str:
    """The HTML of the <h2> section titled `title`, up to the next <h2>."""
    return page.split(f"<h2>{title}</h2>", 1)[1].split("<h2>", 1)[0]


def _cells(section: str) -> list[list[str]]:
    """The body rows of a section's table, each cell as plain text."""
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in
             re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def _recorded(dbt_world) -> Counter:
    """(table.column, reason) -> fields of quarantine.field_defects."""
    return Counter({(f"{t}.{c}", r): int(n) for t, c, r, n in dbt_world.query(
        "select table_name, column_name, reason, count(*) from quarantine.field_defects "
        "group by 1, 2, 3")})


def test_the_page_lists_exactly_the_voided_fields_of_field_defects(dbt_world, summary):
    recorded = _recorded(dbt_world)
    assert recorded == Counter((f"{v.table}.{v.column}", v.reason) for v in VOIDED)
    page = render_data_quality_page(summary, translator("en"), NOW, Path("."))
    rows = _cells(_section(page, "Fields voided (rows kept)"))
    assert Counter({(r[0], r[1]): int(r[2]) for r in rows}) == recorded
    assert len(rows) == len(recorded)  # one row per column and reason
    assert all(r[3] == r[2] for r in rows)  # every fixture defect is in a kept row
    by_column = {r[0]: r for r in rows}
    for v in VOIDED:
        accepted, found = by_column[f"{v.table}.{v.column}"][4:]
        if v.reason == "invalid_value":  # the vocabulary beside the value found
            assert accepted == ", ".join(RULES.tables[v.table].vocab[v.column])
            assert f"{v.value} (1)" in found, v
        else:  # a number column: its rule, never its value
            assert v.value is None and found == "—", v
    assert by_column["candidates.years_experience"][4] == "0 – 60"
    assert by_column["interviews.duration_minutes"][4] == "a number"
    assert "half an hour" not in page
    assert "keeps its row" not in page and "the row is kept" in page  # the explanation
    # the per-table table counts them per table, beside the quarantine
    per_table = {r[0]: r for r in _cells(_section(
        page, "Per table (each quarantined row counted once)"))}
    for name, fields in Counter(v.table for v in VOIDED).items():
        assert int(per_table[name][5]) == fields, name
    assert summary.voided == len(VOIDED)


def test_the_terminal_printout_lists_the_voided_fields_without_values(dbt_world, reports,
                                                                      summary):
    text = format_data_quality(summary)
    voided = text.split("== Fields voided (rows kept): ")[1]
    assert voided.startswith(f"{len(VOIDED)} descriptive fields")
    lines = voided.splitlines()[2:]
    got = Counter({(f"{t}.{c}", r): int(n) for t, c, r, n, _kept in
                   (line.split() for line in lines)})
    assert got == _recorded(dbt_world)
    for value in {v.value for v in VOIDED if v.value}:  # names only, never a value
        assert value not in voided
    # the store report's invalid_value section names the voided vocabulary columns too
    allowed = reports[1].text.split("== invalid_value: the allowed values")[1]
    for v in VOIDED:
        if v.reason == "invalid_value":
            assert re.search(rf"{v.table}\s+{v.column}\s+1\s+field voided, row kept", allowed)


def test_reason_texts_name_the_descriptive_fields_that_void_instead(summary):
    for v in VOIDED:
        assert f"{v.table}.{v.column}" in void_columns(RULES, v.reason)
    for reason in VOID_REASONS:  # a void column only voids, never quarantines
        for name in void_columns(RULES, reason):
            table_name, column = name.split(".")
            assert column in RULES.tables[table_name].void
    page = render_data_quality_page(summary, translator("en"), NOW, Path("."))
    meaning = {r[0]: r[2] for r in _cells(_section(page, "Why rows were quarantined"))}
    assert set(VOID_REASONS) <= set(meaning)  # the fixture plants each
    for reason in VOID_REASONS:
        assert f"({', '.join(void_columns(RULES, reason))})" in meaning[reason], reason
        assert "voids only the field and keeps the row" in meaning[reason]
    assert "not checked" in meaning["interview_after_hire"]  # re-applications after hire
    zh = render_data_quality_page(summary, translator("zh"), NOW, Path("."))
    assert "已置空的字段（保留行）" in zh and "描述性字段（candidates.gender" in zh


def test_the_failing_check_table_shows_each_rules_policy(dbt_world, summary):
    policies = dict(dbt_world.query(
        "select column_name || ' ' || reason, policy from monitoring.dq_results "
        "where run_id = 'pages-run' and not success and policy is not null"))
    for v in VOIDED:
        assert policies[f"{v.column} {v.reason}"] == "void", v
    assert policies["score out_of_range"] == "quarantine"
    assert dbt_world.query("select count(*) from monitoring.dq_results where run_id = "
                           "'pages-run' and policy is null and suite_kind = 'raw' "
                           "and not table_level and reason <> 'row_count'") == [(0,)]
    page = render_data_quality_page(summary, translator("en"), NOW, Path("."))
    rows = _cells(_section(page, "Great Expectations: failing checks of the latest run"))
    shown = {(r[1], r[2], r[3]): r[4] for r in rows}
    for v in VOIDED:
        assert shown[(f"raw.{v.table}", v.column, v.reason)] == "field voided, row kept", v
    assert shown[("raw.interview_scores", "score", "out_of_range")] == "row quarantined"


def test_a_voided_value_that_looks_personal_is_hidden(summary):
    """field_defects shows vocabulary values; one that looks like an email, phone or national
    id (an export with a shifted column) is never printed on the page."""
    defects = summary.field_defects.copy()
    gender = defects.index[defects["column"] == "gender"][0]
    defects.loc[gender, "value"] = "ana@example.org"
    page = render_data_quality_page(replace(summary, field_defects=defects), translator("en"),
                                    NOW, Path("."))
    section = _section(page, "Fields voided (rows kept)")
    assert "ana@example.org" not in page
    assert "(hidden: personal data) (1)" in section
