"""GX suites on the hand-made HR export (tests/dbt hr_fixture) after a real dbt build.

The raw suites measure the quarantine's rules on raw text: per reason, every row staging
quarantines for it breaks the GX rule, and every other row GX flags was quarantined for an
earlier reason (one reason per row there); with one defect per row the counts are equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from hris.contract import PERSONAL_COLUMNS, RAW_TABLES
from hris.import_rules import read_import_rules
from hris.pseudonym import pseudonym
from hris.raw_store import ensure_raw_schema
from monitoring.data_quality import (
    DataQualityRunner,
    FeatureStoreBounds,
    RawTablePolicy,
    docs_dir_for,
    feature_store_suite,
    load_rules,
    raw_suite,
    raw_suites,
    staging_columns,
    staging_suites,
    table_failures,
    write_docs_index,
    write_results,
)
from monitoring.data_quality.suites import raw_row_rules, raw_void_rules
from tests.dbt import conftest as dbt_conftest
from tests.dbt.hr_fixture import AS_OF

dbt_world = dbt_conftest.dbt_world  # the session's dbt build of the hr fixture
profile_world = dbt_conftest.profile_world  # the same with foreign values and a profile

RULES = load_rules()
# Reasons of the quarantine that are consequences in staging, not rules on a raw row.
NOT_RAW_RULES = {"parent_quarantined"}
_NOT_IDS = {"dimension", "scored_by"}


@pytest.fixture(scope="module")
def url(dbt_world, pg_server) -> str:
    return pg_server.url(dbt_world.env["HIRELOOP_PG_DBNAME"])


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data_docs")


@pytest.fixture(scope="module")
def raw_outcomes(url, docs_dir):
    return DataQualityRunner(url, docs_dir_for(docs_dir, "raw"), workers=2).validate_all(
        raw_suites(RULES, AS_OF), "raw-run")


def test_rule_spec_covers_the_contract_and_the_reasons():
    assert set(RULES.tables) == set(RAW_TABLES)
    for name, rules in RULES.tables.items():
        assert rules.key == RAW_TABLES[name].key
        assert set(rules.personal) <= PERSONAL_COLUMNS
        reasons = [r for r, *_ in raw_row_rules(rules, AS_OF)]
        assert set(reasons) <= set(RULES.reject_reasons)
        # in reject_reasons order, so the quarantine's first reason is GX's first too
        assert reasons == sorted(reasons, key=RULES.reject_reasons.index)
    measured = {r for t in RULES.tables.values() for r, *_ in raw_row_rules(t, AS_OF)}
    assert set(RULES.reject_reasons) - measured == NOT_RAW_RULES


def _raw_hashes(world, table: str) -> dict[tuple, str]:
    """(staging key, _dup_seq) -> the raw row's record hash."""
    key = RAW_TABLES[table].key
    out = {}
    for *values, seq, digest in world.query(
            f"select {', '.join(key)}, _dup_seq, _record_hash from raw.{table}"):
        staged = tuple(v if v is None or c in _NOT_IDS else pseudonym(world.key, v)
                       for c, v in zip(key, values, strict=True))
        out[(*staged, seq)] = digest
    return out


def _quarantined(world, table: str) -> dict[str, Counter]:
    """reason -> Counter of the record hashes of the raw rows quarantined for it."""
    hashes = _raw_hashes(world, table)
    key = RAW_TABLES[table].key
    out: dict[str, Counter] = {}
    for *k, seq, reason in world.query(
            f"select {', '.join(key)}, _dup_seq, reject_reason "
            f"from quarantine.quarantine_{table}"):
        out.setdefault(reason, Counter())[hashes[(*k, seq)]] += 1
    return out


@pytest.fixture(scope="module")
def flagged(dbt_world) -> dict[str, dict[str, Counter]]:
    """table -> reason -> Counter of the record hashes the raw rule's query flags."""
    return {table: {reason: Counter(h for (h,) in dbt_world.query(
                        query.replace("{batch}", f"raw.{table}").replace("%", "%%")))
                    for reason, _, query, _ in raw_row_rules(rules, AS_OF)}
            for table, rules in RULES.tables.items()}


def test_raw_counts_agree_with_the_quarantine_per_reason(dbt_world, raw_outcomes, flagged):
    outcomes = {o.table: o for o in raw_outcomes}
    compared = 0
    for table, rules in RULES.tables.items():
        quarantined = _quarantined(dbt_world, table)
        by_reason = outcomes[f"raw.{table}"].by_reason()
        earlier: Counter = Counter()
        for reason, *_ in raw_row_rules(rules, AS_OF):
            gx = flagged[table][reason]
            assert by_reason.get(reason, 0) == sum(gx.values()), (table, reason)
            q = quarantined.get(reason, Counter())
            # every row quarantined for the reason breaks the GX rule ...
            assert not q - gx, (table, reason)
            # ... and GX flags no other row but ones quarantined for an earlier reason
            assert not (gx - q) - earlier, (table, reason)
            earlier += q
            compared += sum(q.values())
        assert set(quarantined) - {r for r, *_ in raw_row_rules(rules, AS_OF)} <= NOT_RAW_RULES
    assert compared >= 25  # the fixture plants every reason GX measures


def test_one_defect_rows_give_equal_counts_per_reason(dbt_world, flagged):
    """Rows that break exactly one raw rule: GX and the quarantine count them alike."""
    equal = 0
    for table in RULES.tables:
        by_hash: Counter = Counter()
        for gx in flagged[table].values():
            by_hash.update(set(gx))
        single = {h for h, n in by_hash.items() if n == 1}
        quarantined = _quarantined(dbt_world, table)
        for reason, gx in flagged[table].items():
            ours = Counter({h: n for h, n in gx.items() if h in single})
            theirs = Counter({h: n for h, n in quarantined.get(reason, Counter()).items()
                              if h in single})
            assert ours == theirs, (table, reason)
            equal += sum(ours.values())
    assert equal >= 25


def _field_defects(world, table: str) -> dict[tuple[str, str], Counter]:
    """(column, reason) -> Counter of the record hashes of the raw rows whose field staging
    voided (quarantine.field_defects)."""
    hashes = _raw_hashes(world, table)
    key = RAW_TABLES[table].key
    out: dict[tuple[str, str], Counter] = {}
    for *k, seq, column, reason in world.query(
            f"select {', '.join(key)}, _dup_seq, column_name, reason "
            "from quarantine.field_defects where table_name = %s", (table,)):
        out.setdefault((column, reason), Counter())[hashes[(*k, seq)]] += 1
    return out


def test_raw_void_counts_equal_the_field_defects(dbt_world, raw_outcomes):
    """Per table, column and reason, GX flags exactly the rows whose field staging voided."""
    outcomes = {o.table: o for o in raw_outcomes}
    compared = 0
    for table, rules in RULES.tables.items():
        recorded = _field_defects(dbt_world, table)
        flagged = {(column, reason): Counter(h for (h,) in dbt_world.query(
                       query.replace("{batch}", f"raw.{table}").replace("%", "%%")))
                   for reason, column, query, _ in raw_void_rules(rules)}
        assert {k: v for k, v in flagged.items() if v} == recorded, table
        assert outcomes[f"raw.{table}"].field_defects() == {
            k: sum(v.values()) for k, v in recorded.items()}, table
        compared += sum(sum(v.values()) for v in recorded.values())
    assert compared >= 7  # the fixture's voided fields


def test_staging_suites_pass_in_full_on_clean_rows(dbt_world, url, docs_dir):
    conn = dbt_world.connect()
    try:
        with conn.cursor() as cur:
            columns = staging_columns(cur, RULES.tables)
    finally:
        conn.close()
    outcomes = DataQualityRunner(url, docs_dir_for(docs_dir, "staging")).validate_all(
        staging_suites(RULES, AS_OF, columns), "staging-run")
    assert len(outcomes) == len(RAW_TABLES)
    for o in outcomes:
        assert o.success, (o.table, [(f.label, f.unexpected_count, f.error) for f in o.failed])
        assert o.rows and o.rows > 0
    reasons = {x.reason for o in outcomes for x in o.outcomes}
    assert {"missing_key", "duplicate_key", "out_of_range", "invalid_value", "orphan",
            "future_date"} <= reasons


def test_feature_store_suite_and_its_bounds(url, docs_dir):
    runner = DataQualityRunner(url, docs_dir_for(docs_dir, "feature_store"))
    loose = runner.validate(feature_store_suite(FeatureStoreBounds(
        label_rate_min=0.0, label_rate_max=1.0, min_rows_per_family=1)), "fs-ok")
    assert loose.success, [(f.label, f.unexpected_count) for f in loose.failed]
    strict = runner.validate(feature_store_suite(FeatureStoreBounds(
        label_rate_min=0.999, label_rate_max=1.0, min_rows_per_family=10_000)), "fs-bad")
    failed = {f.reason: f.unexpected_count for f in strict.failed}
    # every family misses both bounds (4 families, each row is one family)
    assert failed == {"label_rate": 4, "min_rows": 4}


def test_results_table_holds_one_row_per_expectation(dbt_world, raw_outcomes):
    conn = dbt_world.connect()
    try:
        written = write_results(conn, raw_outcomes)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("select count(*), count(distinct suite), sum(unexpected_count) "
                        "filter (where not table_level and reason <> 'row_count') "
                        "from monitoring.dq_results where run_id = 'raw-run'")
            n, suites, unexpected = cur.fetchone()
    finally:
        conn.close()
    assert written == n == sum(len(o.outcomes) for o in raw_outcomes)
    assert suites == len(RAW_TABLES)
    assert unexpected == sum(sum(o.by_reason().values()) + sum(o.field_defects().values())
                             for o in raw_outcomes)


def test_orphans_above_the_limit_fail_the_table(raw_outcomes):
    candidates = next(o for o in raw_outcomes if o.table == "raw.candidates")
    assert table_failures(candidates) == []  # 1 orphan of 87 rows is within 20 %
    failures = table_failures(candidates, RawTablePolicy(max_orphan_share=0.001))
    assert len(failures) == 1
    assert failures[0].startswith(f"raw.candidates: 1 of {candidates.rows} rows")
    assert "applied_role_id" in failures[0]


def test_a_missing_required_column_fails_the_table(pg_server, tmp_path):
    database = pg_server.create_database("dq_schema")
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        cur.execute("ALTER TABLE raw.job_roles DROP COLUMN kpi_target")
    conn.commit()
    conn.close()
    outcome = DataQualityRunner(pg_server.url(database), tmp_path).validate(
        raw_suite(RULES.tables["job_roles"], dt.date(2025, 1, 1)), "schema-run")
    failures = table_failures(outcome)
    assert any(f == "raw.job_roles: required column kpi_target is present failed"
               for f in failures), failures
    missing = [o for o in outcome.outcomes if o.reason == "missing_column" and not o.success]
    assert [o.column for o in missing] == ["kpi_target"]


def test_data_docs_and_results_carry_no_ids_or_personal_values(dbt_world, raw_outcomes,
                                                               docs_dir):
    index = write_docs_index(docs_dir).read_text()
    assert 'href="raw/index.html"' in index and (docs_dir / "raw" / "index.html").exists()
    assert all(o.docs_url and o.docs_url.startswith("file://") for o in raw_outcomes)
    secrets = set()
    for frame in dbt_world.frames.values():
        for column in frame.columns:
            if column in PERSONAL_COLUMNS or column.endswith("_id"):
                secrets |= {str(v) for v in frame[column].dropna() if len(str(v)) >= 5}
    assert len(secrets) > 100
    pages = list(docs_dir.rglob("*.html"))
    assert len(list((docs_dir / "raw").rglob("validations/**/*.html"))) == len(RAW_TABLES)
    text = "\n".join(p.read_text(errors="replace") for p in pages)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    leaks = sorted(set(pattern.findall(text)))
    assert leaks == [], leaks[:10]
    conn = dbt_world.connect()
    try:
        write_results(conn, raw_outcomes)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("select string_agg(concat_ws('|', suite, table_name, expectation, "
                        "column_name, reason, error), '\n') from monitoring.dq_results")
            results_text = cur.fetchone()[0] or ""
    finally:
        conn.close()
    assert pattern.findall(results_text) == []


def test_suites_run_side_by_side_as_they_do_one_by_one(url, raw_outcomes, tmp_path):
    """validate_all with two workers (two GX contexts) gives the serial run's results, in
    the order of the suites, and one site with every validation page."""
    serial = DataQualityRunner(url, tmp_path / "serial", workers=1).validate_all(
        raw_suites(RULES, AS_OF), "serial-run")

    def results(outcomes):
        return [(s.suite, [(o.reason, o.column, o.unexpected_count, o.success)
                           for o in s.outcomes]) for s in outcomes]

    assert results(raw_outcomes) == results(serial)
    assert sum(sum(s.by_reason().values()) for s in serial) > 0  # defects were counted
    pages = {Path(o.docs_url.removeprefix("file://")) for o in raw_outcomes}
    assert len(pages) == len(RAW_TABLES) and all(p.exists() for p in pages)


def test_raw_counts_agree_with_staging_under_an_import_profile(profile_world, pg_server,
                                                               tmp_path):
    """With value mappings and a date format in force, GX reads raw as staging does: per
    reason every quarantined row is flagged (others only for an earlier reason), and the
    field defects are the same rows."""
    world = profile_world.world
    conn = world.connect()
    try:
        with conn.cursor() as cur:
            imports = read_import_rules(cur)
    finally:
        conn.close()
    assert imports.mapped["candidates"] == {"gender", "education"}
    assert imports.dated == {"performance_reviews": frozenset({"submitted_at"})}
    url = pg_server.url(world.env["HIRELOOP_PG_DBNAME"])
    outcomes = {o.table: o for o in DataQualityRunner(url, tmp_path, workers=1).validate_all(
        raw_suites(RULES, AS_OF, imports), "profile-run")}
    compared = 0
    for table, plain in RULES.tables.items():
        rules = plain.with_imports(imports)
        quarantined = _quarantined(world, table)
        by_reason = outcomes[f"raw.{table}"].by_reason()
        earlier: Counter = Counter()
        for reason, _, query, _ in raw_row_rules(rules, AS_OF):
            gx = Counter(h for (h,) in world.query(
                query.replace("{batch}", f"raw.{table}").replace("%", "%%")))
            assert by_reason.get(reason, 0) == sum(gx.values()), (table, reason)
            q = quarantined.get(reason, Counter())
            assert not q - gx and not (gx - q) - earlier, (table, reason)
            earlier += q
            compared += sum(q.values())
        recorded = _field_defects(world, table)
        assert outcomes[f"raw.{table}"].field_defects() == {
            k: sum(v.values()) for k, v in recorded.items()}, table
    assert compared >= 25
    # the profile released the reviews and the mapped values (not flagged any more)
    reviews = outcomes["raw.performance_reviews"].by_reason()
    assert reviews.get("unparseable_value") == 2  # V-KPI and the foreign 2024/02/31
    assert ("gender", "invalid_value") not in outcomes["raw.candidates"].field_defects()
