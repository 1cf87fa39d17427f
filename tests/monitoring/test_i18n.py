"""The message catalog of HR pages: complete, in step with the code, chosen by one setting."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from monitoring.i18n import LANGUAGES, SOURCE_LANGUAGE, check_language, po_path, translator
from monitoring.i18n.catalog import (
    extract_messages,
    missing_messages,
    placeholder_errors,
    read_catalog,
    untranslated,
    unused_messages,
)
from orchestration.config import Settings

TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]


def test_the_page_languages_are_english_and_chinese():
    assert set(LANGUAGES) == {"en", "zh"} and TRANSLATED == ["zh"]
    assert all(po_path(lang).exists() for lang in TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_its_translation(language):
    catalog = read_catalog(language)
    assert len(catalog) > 50
    assert untranslated(catalog) == []
    assert placeholder_errors(catalog) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_holds_exactly_the_messages_the_code_uses(language):
    """Extracted with Babel from monitoring/: a new `_("…")` the catalog lacks fails here
    (run `python -m monitoring.i18n.catalog`, then translate); so does a stale entry."""
    template, catalog = extract_messages(), read_catalog(language)
    assert "hireloop data quality" in template  # the extraction sees the pages' messages
    assert missing_messages(template, catalog) == []
    assert unused_messages(template, catalog) == []


def _po(entries: dict[str, str]) -> object:
    text = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n' + "".join(
        f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    return read_po(io.BytesIO(text.encode()), locale="zh")


def test_the_checks_catch_a_missing_translation_a_missing_message_and_a_broken_placeholder(
        tmp_path: Path):
    catalog = _po({"rows in": "导入行数", "share": "", "As-of date: {date}": "截至：{day}"})
    assert untranslated(catalog) == ["share"]
    assert placeholder_errors(catalog) == ["'As-of date: {date}': ['day'] != ['date']"]
    source = tmp_path / "page.py"
    source.write_text('_("rows in")\n_("a message nobody translated")\n', encoding="utf-8")
    template = extract_messages(tmp_path)
    assert missing_messages(template, catalog) == ["a message nobody translated"]
    assert set(unused_messages(template, catalog)) == {"share", "As-of date: {date}"}


def test_translator_translates_and_falls_back_to_the_msgid():
    zh, en = translator("zh"), translator("en")
    assert zh.gettext("hireloop data quality") == "hireloop 数据质量"
    assert en.gettext("hireloop data quality") == "hireloop data quality"
    assert (zh.html_lang, en.html_lang) == ("zh-Hans", "en")


def test_the_language_comes_from_one_setting_and_a_bad_one_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HIRELOOP_LANGUAGE", "ZH ")
    assert Settings.from_env().page_language == "zh"
    monkeypatch.delenv("HIRELOOP_LANGUAGE")
    assert Settings.from_env().page_language == "en"
    monkeypatch.setenv("HIRELOOP_LANGUAGE", "fr")
    with pytest.raises(ValueError, match="set HIRELOOP_LANGUAGE to one of en, zh"):
        Settings.from_env().page_language  # noqa: B018
    with pytest.raises(ValueError, match="unknown page language 'de'"):
        check_language("de")


def test_the_cli_refuses_an_unknown_language_in_one_line(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from orchestration.cli import app

    monkeypatch.setenv("HIRELOOP_HOME", str(tmp_path))
    monkeypatch.setenv("HIRELOOP_LANGUAGE", "fr")
    done = CliRunner().invoke(app, ["status"])
    assert done.exit_code == 2
    assert "unknown page language 'fr': set HIRELOOP_LANGUAGE to one of en, zh" in done.output
    assert "Traceback" not in done.output
