"""Import profiles: parsing and validation (hris.profile), and PostgreSQL reading the date
patterns a profile may give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hris import contract
from hris.profile import (
    DATE_SEPARATORS,
    ENCODINGS,
    ImportProfile,
    ProfileError,
    column_rules,
    date_pattern_problem,
    load_profile,
    profile_change,
    profile_in_force,
)
from hris.raw_store import ensure_raw_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import-profile.example.yaml"


def _write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_profile_loads_as_it_says():
    profile = load_profile(EXAMPLE)
    assert profile.encoding == "gb18030"
    assert profile.columns["candidates"]["性别"] == "gender"
    assert profile.values[("candidates", "gender")] == {"男": "male", "女": "female"}
    assert profile.values[("interviews", "recommendation")]["不录用"] == "no"
    assert profile.values[("interview_answers", "answered_fully")] == {"是": "true", "否": "false"}
    assert profile.dates[("candidates", "application_date")] == "YYYY年FMMM月FMDD日"


def test_every_scalar_stays_text_as_written(tmp_path):
    # Unquoted, YAML 1.1 would read yes/no as booleans and 01 as the number 1.
    profile = load_profile(_write(tmp_path, (
        "values:\n"
        "  interviews.recommendation: {yes: yes, no: no, 01: strong_yes, on: strong_no}\n"
        "  interview_answers.answered_fully: {Y: true, N: false}\n")))
    assert profile.values[("interviews", "recommendation")] == {
        "yes": "yes", "no": "no", "01": "strong_yes", "on": "strong_no"}
    assert profile.values[("interview_answers", "answered_fully")] == {"Y": "true", "N": "false"}


def test_targets_are_stored_in_the_vocabularys_spelling(tmp_path):
    profile = load_profile(_write(tmp_path, "values:\n  interviews.round: {一面: HR}\n"))
    assert profile.values[("interviews", "round")] == {"一面": "hr"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("utf-8", "utf-8"), ("UTF8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("GB18030", "gb18030"),
     ("gbk", "gbk"), ("cp936", "gbk"), ("latin-1", "iso8859-1")],
)
def test_encodings_are_stored_by_their_canonical_name(tmp_path, name, expected):
    assert load_profile(_write(tmp_path, f"encoding: {name}\n")).encoding == expected
    assert expected in ENCODINGS


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("encodings: gb18030\n", ["'encodings'", "unknown key", "did you mean 'encoding'"]),
        ("encoding: klingon\n", ["encoding", "'klingon'", "not an encoding Python knows"]),
        ("encoding: utf-16\n", ["encoding", "'utf-16'", "not supported", "gb18030"]),
        ("columns:\n  candidate: {姓名: full_name}\n",
         ["columns.candidate", "unknown table", "did you mean 'candidates'"]),
        ("columns:\n  candidates: {姓名: fullname}\n",
         ["columns.candidates.姓名", "'fullname'", "not a column of candidates",
          "did you mean 'full_name'"]),
        ("columns:\n  candidates: {姓名: full_name, 名字: full_name}\n",
         ["columns.candidates", "'姓名' and '名字' both rename to 'full_name'"]),
        ("columns:\n  candidates: [姓名]\n", ["columns.candidates", "expected a mapping"]),
        ("values:\n  candidates.full_name: {a: b}\n",
         ["values.candidates.full_name", "not a categorical column", "candidates.gender"]),
        ("values:\n  candidates.application_date: {a: b}\n",
         ["values.candidates.application_date", "not a categorical column",
          "a date column: give its format under `dates`"]),
        ("values:\n  interviews.recommendation: {hire: hired}\n",
         ["values.interviews.recommendation", "'hire' maps to 'hired'",
          "allowed: strong_yes, yes, no, strong_no"]),
        ("values:\n  interview_answers.answered_fully: {是: yes}\n",
         ["values.interview_answers.answered_fully", "allowed: true, false"]),
        ("values:\n  interviews.round: {HR: hr, ' hr ': business}\n",
         ["values.interviews.round", "the same export value"]),
        ("values:\n  interviews.round: {}\n", ["values.interviews.round", "empty mapping"]),
        ("values:\n  gender: {男: male}\n", ["values.gender", "table.column"]),
        ("values:\n  candidates.sex: {男: male}\n",
         ["values.candidates.sex", "no column 'sex'"]),
        ("values:\n  candidates.gender: {男: male, 男: female}\n",
         ["line 2", "'男' given twice"]),
        ("dates:\n  candidates.status: YYYY-MM-DD\n",
         ["dates.candidates.status", "not a date column", "candidates.application_date"]),
        ("dates:\n  candidates.application_date: yyyy-mm-dd\n",
         ["dates.candidates.application_date", "'y' is neither a token"]),
        ("dates:\n  candidates.application_date: YYYY-MM\n",
         ["dates.candidates.application_date", "needs the day exactly once (DD or FMDD)"]),
        ("dates:\n  candidates.application_date: YYYY-MM-FMMM-DD\n",
         ["dates.candidates.application_date", "needs the month exactly once (MM or FMMM)"]),
        ("dates:\n  candidates.application_date: YYYY-MM-DD HH24:MI\n",
         ["dates.candidates.application_date", "'H' is neither a token"]),
        ("dates:\n  candidates.application_date: ''\n",
         ["dates.candidates.application_date", "expected a date pattern"]),
        ("encoding: [utf-8\n", ["not valid YAML", "line 2"]),
        ("- encoding\n", ["a profile is a mapping"]),
        ("", ["empty", "{}"]),
    ],
    ids=lambda v: v.split("\n")[0][:40] if isinstance(v, str) else "",
)
def test_a_bad_profile_is_refused_naming_the_file_and_the_key(tmp_path, text, names):
    path = _write(tmp_path, text)
    with pytest.raises(ProfileError) as refused:
        load_profile(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    for name in names:
        assert name in message


def test_a_profile_not_saved_as_utf8_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("values:\n  candidates.gender: {男: male}\n".encode("gbk"))
    with pytest.raises(ProfileError, match="must be saved as UTF-8"):
        load_profile(path)
    with pytest.raises(ProfileError, match="cannot read the profile"):
        load_profile(tmp_path / "missing.yaml")


def test_an_empty_mapping_is_a_profile_with_no_rules(tmp_path):
    assert load_profile(_write(tmp_path, "{}\n")) == ImportProfile()


def test_the_mappable_columns_come_from_the_rule_spec_and_the_contract():
    rules = column_rules()
    # Every vocabulary of the rule spec is one of the contract's (one definition).
    vocabularies = {v for k, v in vars(contract).items() if k.isupper() and isinstance(v, tuple)}
    for (table, column), vocabulary in rules.categorical.items():
        assert column in contract.RAW_TABLES[table].columns
        if vocabulary is not None:
            assert vocabulary in vocabularies | {("true", "false")}, (table, column)
    assert rules.categorical[("interviews", "recommendation")] == contract.RECOMMENDATIONS
    assert rules.categorical[("interview_answers", "answered_fully")] == ("true", "false")
    for key in [("candidates", "gender"), ("employees", "gender"),
                ("candidates", "education"), ("candidates", "race_ethnicity")]:
        assert key in rules.categorical
    assert ("interviews", "interview_date") in rules.dates
    assert ("candidates", "full_name") not in rules.categorical


@pytest.mark.parametrize(
    ("pattern", "text"),
    [("YYYY/MM/DD", "2024/03/05"), ("DD.MM.YYYY", "05.03.2024"), ("MM/DD/YYYY", "03/05/2024"),
     ("YYYY年MM月DD日", "2024年03月05日"), ("YYYYMMDD", "20240305"), ("DD MM YYYY", "05 03 2024"),
     ("YYYY-MM-DD", "2024-03-05"), ("YYYY年FMMM月FMDD日", "2024年3月5日"),
     ("FMMM/FMDD/YYYY", "3/5/2024")],
)
def test_every_accepted_pattern_reads_and_prints_its_date_in_postgresql(new_db, pattern, text):
    # Staging parses strictly: to_date, and to_char must give the text back.
    assert date_pattern_problem(pattern) is None
    assert set(pattern) - set("YMDF") <= set(DATE_SEPARATORS)
    conn = new_db()
    with conn.cursor() as cur:
        cur.execute("SELECT to_date(%s, %s), to_char(to_date(%s, %s), %s)",
                    [text, pattern, text, pattern, pattern])
        assert cur.fetchone() == (dt.date(2024, 3, 5), text)


def test_recording_by_hand_says_what_acts_when(new_db, tmp_path):
    conn = new_db()
    rules_only = load_profile(_write(tmp_path, "values:\n  candidates.gender: {男: male}\n"))
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        first = profile_change(cur, rules_only, "p1.yaml")
        assert first.recorded and first.needs_reimport == ()
        assert "1 value rule(s) and 0 date format(s) act on the next build" in first.message
        assert "re-import" not in first.message.replace("without a re-import", "")

        again = profile_change(cur, rules_only, "p1.yaml")
        assert not again.recorded and again.profile_id == first.profile_id
        assert "in force already" in again.message

        renamed = load_profile(_write(tmp_path, "encoding: gbk\ncolumns:\n  candidates: "
                                                "{性别: gender}\nvalues:\n  candidates.gender: "
                                                "{男: male}\n", "p2.yaml"))
        second = profile_change(cur, renamed, "p2.yaml")
        assert second.recorded and second.needs_reimport == ("encoding", "columns")
        assert "re-import the export with --profile FILE" in second.message
        assert profile_in_force(cur)[0] == second.profile_id
        cur.execute("SELECT table_name, column_name, source_value, contract_value "
                    "FROM raw._value_map")
        assert cur.fetchall() == [("candidates", "gender", "男", "male")]
