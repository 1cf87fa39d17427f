"""Personal data never leaves raw; ids become keyed pseudonyms; the key leaks nowhere."""

from __future__ import annotations

import secrets

from hris.contract import PERSONAL_COLUMNS, RAW_SCHEMA
from hris.pseudonym import hmac_pads, pseudonym
from tests.dbt.conftest import DBT_PROJECT_DIR

# Rebuilding a base table drops the staging view on it (cascade): rebuild both.
_ROLES_MODELS = ("base_hris__job_roles", "stg_hris__job_roles")
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", RAW_SCHEMA)


def _text_columns(dbt_world) -> list[tuple[str, str, str]]:
    return dbt_world.query(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t using (table_schema, table_name) "
        "where c.table_schema <> all(%s) and c.data_type in ('text', 'character varying') "
        "and t.table_type in ('BASE TABLE', 'VIEW')", (list(_SYSTEM_SCHEMAS),))


def test_no_personal_column_outside_raw(dbt_world):
    rows = dbt_world.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema <> all(%s) and column_name = any(%s)",
        (list(_SYSTEM_SCHEMAS), sorted(PERSONAL_COLUMNS)))
    assert rows == []
    (staged_tables,) = dbt_world.query(
        "select count(*) from information_schema.tables where table_schema = 'staging'")[0]
    assert staged_tables >= 8


def test_no_personal_or_raw_id_value_outside_raw(dbt_world):
    candidates, employees = dbt_world.frames["candidates"], dbt_world.frames["employees"]
    secrets_ = set()
    for frame in (candidates, employees):
        for col in ("full_name", "national_id", "email", "phone", "birth_date"):
            secrets_ |= {v for v in frame[col].dropna()}
    ids = set(candidates["candidate_id"].dropna()) | set(employees["employee_id"].dropna())
    ids |= set(dbt_world.frames["interviews"]["interview_id"].dropna())
    columns = _text_columns(dbt_world)
    assert len(columns) > 20
    for schema, table, column in columns:
        values = {v for (v,) in dbt_world.query(
            f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null')}
        assert not values & secrets_, (schema, table, column)
        assert not values & ids, (schema, table, column)


def test_pseudonyms_match_the_python_reference(dbt_world):
    raw_ids = sorted(set(dbt_world.frames["candidates"]["candidate_id"].dropna()))
    staged = {c for (c,) in dbt_world.query(
        "select candidate_id from staging.stg_hris__candidates")}
    expected = {pseudonym(dbt_world.key, i) for i in raw_ids}
    quarantined = {c for (c,) in dbt_world.query(
        "select candidate_id from quarantine.quarantine_candidates "
        "where candidate_id is not null")}
    # every raw id is staged or quarantined, under the pseudonym Python computes
    assert staged and staged | quarantined == expected
    assert all(len(p) == 32 and p == p.lower() for p in staged)


def test_pseudonyms_are_stable_per_key_and_change_with_it(dbt_world):
    def role_ids() -> dict[str, str]:
        return {family: rid for rid, family in dbt_world.query(
            "select role_id, role_family from staging.stg_hris__job_roles")}

    before = role_ids()
    other = secrets.token_bytes(32)
    try:
        dbt_world.install_key(other)
        assert dbt_world.dbt("run", "--select", *_ROLES_MODELS).returncode == 0
        changed = role_ids()
    finally:
        dbt_world.install_key(dbt_world.key)
        rerun = dbt_world.dbt("run", "--select", *_ROLES_MODELS)
    assert rerun.returncode == 0
    assert role_ids() == before  # same key, same pseudonyms
    assert set(changed) == set(before)
    for family, rid in changed.items():
        assert rid != before[family]
        raw = next(r for r, f in zip(dbt_world.frames["job_roles"]["role_id"],
                                     dbt_world.frames["job_roles"]["role_family"], strict=True)
                   if f == family)
        assert rid == pseudonym(other, raw)
        assert before[family] == pseudonym(dbt_world.key, raw)


def test_key_is_in_no_dbt_artifact_or_log(dbt_world):
    assert dbt_world.dbt("docs", "generate").returncode == 0
    ipad, opad = hmac_pads(dbt_world.key)
    needles = [dbt_world.key, dbt_world.key.hex().encode(), ipad.hex().encode(),
               opad.hex().encode()]
    files = [p for d in ("target", "logs") for p in (DBT_PROJECT_DIR / d).rglob("*")
             if p.is_file()]
    assert any(p.name == "run_results.json" for p in files)
    assert any(p.name == "dbt.log" for p in files)
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, path
