"""Import-profile rules where staging reads (hris.import_rules): the strict date parser and
which columns the profile in force maps or dates."""

from __future__ import annotations

import pytest

from hris.import_rules import NO_IMPORT_RULES, read_import_rules
from hris.profile import ImportProfile, record_profile
from hris.raw_store import ensure_raw_schema
from hris.rules import load_rules


@pytest.mark.parametrize(("text", "fmt", "parsed"), [
    ("2024/02/29", "YYYY/MM/DD", "2024-02-29"),
    ("2024年03月05日", "YYYY年MM月DD日", "2024-03-05"),
    ("05.03.2024", "DD.MM.YYYY", "2024-03-05"),
    ("2024/02/31", "YYYY/MM/DD", None),   # no such day
    ("2023/02/29", "YYYY/MM/DD", None),   # not a leap year
    ("2024/2/3", "YYYY/MM/DD", None),     # to_date reads it; the round trip does not
    ("2024-02-03", "YYYY/MM/DD", None),   # another format
    ("2024/13/01", "YYYY/MM/DD", None),
    ("soon", "YYYY/MM/DD", None),
    ("", "YYYY/MM/DD", None),
    (None, "YYYY/MM/DD", None),
])
def test_dates_parse_strictly_with_a_format(new_db, text, fmt, parsed):
    conn = new_db()
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        cur.execute("SELECT raw._to_date_strict(%s, %s)::text", [text, fmt])
        assert cur.fetchone()[0] == parsed


def test_the_columns_in_force_are_read_back(new_db):
    conn = new_db()
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        assert read_import_rules(cur) == NO_IMPORT_RULES
        record_profile(cur, ImportProfile(
            values={("candidates", "gender"): {"男": "male"},
                    ("interviews", "recommendation"): {"hire": "yes"},
                    ("candidates", "full_name"): {"x": "y"}},
            dates={("interviews", "interview_date"): "YYYY/MM/DD"}), "test")
        imports = read_import_rules(cur)
    assert imports.mapped == {"candidates": {"gender", "full_name"},
                              "interviews": {"recommendation"}}
    rules = load_rules()
    # only vocab / bool columns map, only date columns take a format
    candidates = rules.tables["candidates"].with_imports(imports)
    assert candidates.mapped == {"gender"} and candidates.dated == frozenset()
    assert rules.tables["interviews"].with_imports(imports).dated == {"interview_date"}


def test_a_database_without_profile_tables_has_none_in_force(new_db):
    conn = new_db()
    with conn.cursor() as cur:
        assert read_import_rules(cur) == NO_IMPORT_RULES
