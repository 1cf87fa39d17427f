"""monitoring.dq_results: one row per expectation per validation, counts only.

What the demo's data-quality summary and a data steward read; never a value from the data.
`policy` says what a raw row rule does to the rows it counts: `quarantine` (the row is set
aside) or `void` (only the field is emptied, the row kept: quarantine.field_defects); NULL
for table checks and for the staging and feature-store suites, which route no row.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg2.extras import execute_values

from monitoring.data_quality.rules import QUARANTINE, VOID
from monitoring.data_quality.runner import ExpectationOutcome, SuiteOutcome

DQ_RESULTS_DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.dq_results (
    id bigserial PRIMARY KEY,
    suite text NOT NULL,
    suite_kind text NOT NULL,
    table_name text NOT NULL,
    expectation text NOT NULL,
    column_name text,
    reason text NOT NULL,
    table_level boolean NOT NULL,
    success boolean NOT NULL,
    unexpected_count bigint,
    element_count bigint,
    error text,
    run_id text NOT NULL,
    validated_at timestamptz NOT NULL,
    policy text
);
CREATE INDEX IF NOT EXISTS dq_results_run_idx ON monitoring.dq_results (run_id);
CREATE INDEX IF NOT EXISTS dq_results_validated_at_idx ON monitoring.dq_results (validated_at);
"""
# A table made before `policy` existed gets it (its old rows keep NULL).
ADD_POLICY = "ALTER TABLE monitoring.dq_results ADD COLUMN IF NOT EXISTS policy text"

COLUMNS = ("suite", "suite_kind", "table_name", "expectation", "column_name", "reason",
           "table_level", "success", "unexpected_count", "element_count", "error", "run_id",
           "validated_at", "policy")


def ensure_dq_results(cursor) -> None:
    """Create monitoring.dq_results if missing, add `policy` if it lacks it (idempotent; the
    ALTER, which locks the table, runs only when the column is missing)."""
    cursor.execute("SELECT to_regclass('monitoring.dq_results')")
    if cursor.fetchone()[0] is None:
        cursor.execute(DQ_RESULTS_DDL)
        return
    cursor.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                   "'monitoring' AND table_name = 'dq_results' AND column_name = 'policy'")
    if cursor.fetchone() is None:
        cursor.execute(ADD_POLICY)


def policy_of(suite: SuiteOutcome, outcome: ExpectationOutcome) -> str | None:
    """What the rule does to the rows it counts: VOID (field defect), QUARANTINE (a raw row
    rule), or None (a table check, the row count, a staging or feature-store check)."""
    if outcome.voids:
        return VOID
    if suite.kind == "raw" and not outcome.table_level and outcome.reason != "row_count":
        return QUARANTINE
    return None


def write_results(conn, outcomes: Iterable[SuiteOutcome]) -> int:
    """Append one row per expectation of `outcomes`; returns rows written (caller commits)."""
    rows = [
        (s.suite, s.kind, s.table, o.expectation, o.column, o.reason, o.table_level,
         o.success, o.unexpected_count, o.element_count, o.error, s.run_id,
         s.validated_at, policy_of(s, o))
        for s in outcomes for o in s.outcomes
    ]
    with conn.cursor() as cur:
        ensure_dq_results(cur)
        if rows:
            execute_values(cur, f"INSERT INTO monitoring.dq_results ({', '.join(COLUMNS)}) "
                                "VALUES %s", rows)
    return len(rows)
