"""Personal values exported in the wrong column never leave `raw`: an email in `status` (a
vocabulary column that quarantines its row), national ids in `years_experience` (a number
field that voids), a full name in `education` (a vocabulary field that voids) — masked or
withheld in quarantine, in staging and on every steward page, found by content."""

from __future__ import annotations

import pytest

from hris.personal_values import looks_personal, mask
from hris.pseudonym import pseudonym
from monitoring.personal_scan import find_in_text, format_scan, read_needles, scan_personal_data
from monitoring.store_report import build_store_report
from tests.dbt.conftest import _built_world
from tests.dbt.hr_fixture import build_export

EMAIL_IN_STATUS, ID_IN_YEARS, DIGIT_ID_IN_YEARS, NAME_IN_EDUCATION = (
    "C-LEAK-MAIL", "C-LEAK-NID", "C-LEAK-DIGITS", "C-LEAK-NAME")
DIGIT_ID = "110105194912310021"  # a resident id of digits only: it parses as a number


@pytest.fixture(scope="module")
def leaky_world(pg_server):
    frames = build_export()
    candidates = frames["candidates"]
    template = candidates.iloc[10].to_dict()
    other = candidates.iloc[20]  # whose values are exported in the wrong columns
    rows = [
        {**template, "candidate_id": EMAIL_IN_STATUS, "status": other["email"]},
        {**template, "candidate_id": ID_IN_YEARS, "years_experience": other["national_id"]},
        {**template, "candidate_id": DIGIT_ID_IN_YEARS, "years_experience": DIGIT_ID,
         "national_id": DIGIT_ID},
        {**template, "candidate_id": NAME_IN_EDUCATION,
         "education": other["full_name"].upper()},
    ]
    for row in rows:
        candidates.loc[len(candidates)] = row
    return _built_world(pg_server, "dbt_leak", frames)


def test_the_build_succeeds(leaky_world):
    assert leaky_world.build.returncode == 0, leaky_world.build.stdout[-3000:]


def test_an_email_in_status_is_withheld_in_quarantine(leaky_world):
    rows = leaky_world.query(
        "select reject_reason, reject_column, reject_value from quarantine.quarantine_candidates"
        " where candidate_id = %s", (pseudonym(leaky_world.key, EMAIL_IN_STATUS),))
    assert rows == [("invalid_value", "status", "<redacted>")]
    # an ordinary invalid vocabulary value is still shown, to be mapped in a profile
    assert leaky_world.query(
        "select reject_value from quarantine.quarantine_candidates where candidate_id = %s",
        (pseudonym(leaky_world.key, "C-STATUS"),)) == [("maybe",)]


def test_a_name_in_education_is_withheld_and_the_field_voided(leaky_world):
    key = pseudonym(leaky_world.key, NAME_IN_EDUCATION)
    assert leaky_world.query("select education from staging.stg_hris__candidates "
                             "where candidate_id = %s", (key,)) == [(None,)]
    assert leaky_world.query(
        "select reason, value from quarantine.field_defects where candidate_id = %s "
        "and column_name = 'education'", (key,)) == [("invalid_value", "<redacted>")]
    # 本科 (no one's name) is still shown for mapping
    assert ("本科",) in leaky_world.query(
        "select value from quarantine.field_defects where column_name = 'education'")


def test_national_ids_in_years_experience_are_voided_not_staged(leaky_world):
    for cid in (ID_IN_YEARS, DIGIT_ID_IN_YEARS):
        key = pseudonym(leaky_world.key, cid)
        assert leaky_world.query("select years_experience from staging.stg_hris__candidates "
                                 "where candidate_id = %s", (key,)) == [(None,)], cid
        assert leaky_world.query(
            "select value from quarantine.field_defects where candidate_id = %s", (key,)
        ) == [(None,)], cid


def test_no_schema_outside_raw_holds_a_raw_personal_value(leaky_world):
    result = scan_personal_data(lambda _database: leaky_world.connect(), other_databases=())
    assert result.needles > 100 and result.columns > 50
    assert result.clean, format_scan(result)


def test_every_steward_page_and_the_terminal_report_show_none(leaky_world, tmp_path):
    conn = leaky_world.connect()
    try:
        needles = read_needles(conn)
        texts = [build_store_report(conn, tmp_path / lang, language=lang).text
                 for lang in ("en", "zh")]
    finally:
        conn.close()
    pages = sorted(tmp_path.rglob("*.html"))
    assert len(pages) >= 4
    for text in texts + [p.read_text(encoding="utf-8") for p in pages]:
        assert find_in_text(text, needles) == []
        assert DIGIT_ID not in text


@pytest.mark.parametrize("text", [
    "oliver.martinez.1@example.com", "+44 7700 900585", "13812345678", "(555) 123-4567",
    "908-60-3354", "11010519491231002X", "QQ 12 34 56 C", "AB123456C", "C0000001", "hire",
    "2024-03-15", "116561.55", "R-SAL", "n/a", "strong_no_hire", "本科", "555-1234", "maybe",
])
def test_sql_and_python_agree_on_what_looks_personal(leaky_world, sql_macros, text):
    """The macros looks_personal and mask_value are hris.personal_values' rules in SQL."""
    looks, masked = sql_macros
    assert leaky_world.query(f"select {looks}, {masked}", {"v": text}) == [
        (looks_personal(text), mask(text))]


@pytest.fixture(scope="module")
def sql_macros(leaky_world) -> tuple[str, str]:
    """The two macros as dbt renders them, with %(v)s for the value."""
    found = leaky_world.dbt("compile", "--inline",
                            "select {{ looks_personal('$v') }} as a, {{ mask_value('$v') }}",
                            "--quiet")
    assert found.returncode == 0, found.stdout
    body = found.stdout.strip()
    body = body[body.index("select") + len("select"):].replace("%", "%%")
    looks, masked = body.split(" as a,")
    return looks.replace("$v", "%(v)s"), masked.replace("$v", "%(v)s")
