"""Every raw row is staged or quarantined; planted bad values are quarantined with their reason."""

from __future__ import annotations

import pytest

from hris.contract import RAW_TABLES
from hris.pseudonym import pseudonym
from tests.dbt.hr_fixture import PLANTED

_ENTITY_KEY_IS_ID = {"dimension", "scored_by"}  # key columns that are not ids


@pytest.mark.parametrize("table", list(RAW_TABLES))
def test_rows_are_conserved(dbt_world, table):
    (raw,) = dbt_world.query(f"select count(*) from raw.{table}")[0]
    (staged,) = dbt_world.query(f"select count(*) from staging.stg_hris__{table}")[0]
    (quarantined,) = dbt_world.query(f"select count(*) from quarantine.quarantine_{table}")[0]
    assert raw == len(dbt_world.frames[table])
    assert raw == staged + quarantined


def test_every_planted_row_is_quarantined_with_its_reason(dbt_world):
    assert len(PLANTED) >= 30
    for planted in PLANTED:
        key_cols = RAW_TABLES[planted.table].key
        where = []
        params: list = []
        for col, value in zip(key_cols, planted.key, strict=True):
            if value is None:
                where.append(f"{col} is null")
            else:
                where.append(f"{col} = %s")
                is_id = col not in _ENTITY_KEY_IS_ID
                params.append(pseudonym(dbt_world.key, value) if is_id else value)
        rows = dbt_world.query(
            f"select reject_reason, reject_column from quarantine.quarantine_{planted.table} "
            f"where {' and '.join(where)} and _dup_seq = %s", (*params, planted.dup_seq))
        assert rows == [(planted.reason, planted.column)], planted


def test_quarantine_never_copies_personal_values(dbt_world):
    rows = dbt_world.query(
        "select reject_value from quarantine.quarantine_candidates where reject_column = "
        "'birth_date'")
    assert rows == [("<redacted>",)]


def test_only_planted_rows_are_quarantined(dbt_world):
    expected: dict[str, int] = {}
    for planted in PLANTED:
        expected[planted.table] = expected.get(planted.table, 0) + 1
    for table in RAW_TABLES:
        (n,) = dbt_world.query(f"select count(*) from quarantine.quarantine_{table}")[0]
        assert n == expected.get(table, 0), table
