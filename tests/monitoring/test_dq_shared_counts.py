"""The raw suites' rules share one query per table (monitoring.data_quality.expectations
TableRuleCounts): GX runs it once per validation, and a rule that cannot run fails alone.
The staging compound-key rule counts as GX's compound uniqueness does.

Counts agreeing with the quarantine per reason is test_data_quality's job; here, how the
counts are computed.
"""

from __future__ import annotations

import datetime as dt

import great_expectations.expectations as gxe
import pytest
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from hris.raw_store import ensure_raw_schema
from monitoring.data_quality import DataQualityRunner, load_rules, raw_suite, staging_suite
from monitoring.data_quality.suites import raw_row_rules

RULES = load_rules()
AS_OF = dt.date(2025, 1, 1)


@pytest.fixture()
def statements(monkeypatch) -> list[str]:
    """Every statement GX's SQL engine executes during the test (recorded, then run)."""
    seen: list[str] = []
    execute = SqlAlchemyExecutionEngine.execute_query

    def recording(self, query):
        seen.append(str(query))
        return execute(self, query)

    monkeypatch.setattr(SqlAlchemyExecutionEngine, "execute_query", recording)
    return seen


def _database(pg_server, name: str, rows: list[tuple], drop: str | None = None) -> str:
    """A raw schema whose job_roles hold `rows` (role_id, kpi_target), without column
    `drop` if given."""
    database = pg_server.create_database(name)
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        for i, (role_id, kpi_target) in enumerate(rows):
            cur.execute("INSERT INTO raw.job_roles (role_id, role_family, title, level, "
                        "kpi_name, kpi_target, kpi_higher_is_better, _dup_seq, _record_hash) "
                        "VALUES (%s, 'sales', 'Rep', 'L2', 'quota', %s, 'true', 1, %s)",
                        [role_id, kpi_target, f"h{i}"])
        if drop:
            cur.execute(f'ALTER TABLE raw.job_roles DROP COLUMN "{drop}"')
    conn.commit()
    conn.close()
    return pg_server.url(database)


def test_one_query_counts_every_rule_of_a_table(pg_server, tmp_path, statements):
    # one row without a key, one with an unparseable target, one with both defects
    url = _database(pg_server, "dq_shared", [(" ", "12"), ("r2", "lots"), ("", "x"),
                                             ("r4", "3")])
    outcome = DataQualityRunner(url, tmp_path).validate(
        raw_suite(RULES.tables["job_roles"], AS_OF), "shared-run", build_docs=False)
    shared = [s for s in statements if "count(*) filter" in s]
    assert len(shared) == 1, statements
    reasons = [r for r, *_ in raw_row_rules(RULES.tables["job_roles"], AS_OF)]
    rules = [o for o in outcome.outcomes if o.reason in reasons]
    assert [o.reason for o in rules] == reasons  # one expectation per rule, in order
    counts = {o.reason: o.unexpected_count for o in rules}
    assert counts["missing_key"] == 2 and counts["unparseable_value"] == 2
    assert all(o.error is None for o in outcome.outcomes)
    assert {o.reason for o in rules if not o.success} == {"missing_key", "unparseable_value"}


def test_a_rule_that_cannot_run_fails_alone(pg_server, tmp_path):
    url = _database(pg_server, "dq_shared_missing", [("", "1")], drop="role_family")
    outcome = DataQualityRunner(url, tmp_path).validate(
        raw_suite(RULES.tables["job_roles"], AS_OF), "missing-run", build_docs=False)
    reasons = {r: q for r, _, q, _ in raw_row_rules(RULES.tables["job_roles"], AS_OF)}
    failed = {o.reason for o in outcome.outcomes if o.error is not None}
    assert failed == {r for r, q in reasons.items() if '"role_family"' in q}, outcome.outcomes
    assert failed  # the rules reading role_family, and only they
    missing_key = next(o for o in outcome.outcomes if o.reason == "missing_key")
    assert missing_key.error is None and missing_key.unexpected_count == 1


def test_staging_compound_key_counts_as_gx_compound_unique(pg_server, tmp_path):
    database = pg_server.create_database("dq_compound")
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA staging; CREATE TABLE staging.stg_hris__interview_answers "
                    "(interview_id text, question_id text)")
        cur.executemany("INSERT INTO staging.stg_hris__interview_answers VALUES (%s, %s)",
                        [("i1", "q1"), ("i1", "q1"), ("i1", "q2"), (None, "q1"), (None, "q1"),
                         ("i2", None), ("i2", None), ("i3", "q3"), ("i3", "q3"), ("i3", "q3"),
                         (None, None), (None, None)])
    conn.commit()
    conn.close()
    rules = RULES.tables["interview_answers"]
    assert len(rules.key) == 2
    spec = staging_suite(rules, AS_OF, ["interview_id", "question_id"])
    ours = [e for e in spec.expectations if e.meta["reason"] == "duplicate_key"]
    spec.expectations = [*ours, gxe.ExpectCompoundColumnsToBeUnique(
        column_list=list(rules.key), meta={"reason": "gx", "column": None,
                                           "table_level": False})]
    outcome = DataQualityRunner(pg_server.url(database), tmp_path).validate(
        spec, "compound-run", build_docs=False)
    counts = {o.reason: o.unexpected_count for o in outcome.outcomes}
    assert counts["duplicate_key"] == counts["gx"] == 5, outcome.outcomes
