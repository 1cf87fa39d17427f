"""monitoring.dq_results: one row per expectation per validation, counts only.

What the demo's data-quality summary and a data steward read; never a value from the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg2.extras import execute_values

from monitoring.data_quality.runner import SuiteOutcome

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
    validated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dq_results_run_idx ON monitoring.dq_results (run_id);
CREATE INDEX IF NOT EXISTS dq_results_validated_at_idx ON monitoring.dq_results (validated_at);
"""

COLUMNS = ("suite", "suite_kind", "table_name", "expectation", "column_name", "reason",
           "table_level", "success", "unexpected_count", "element_count", "error", "run_id",
           "validated_at")


def ensure_dq_results(cursor) -> None:
    """Create monitoring.dq_results if missing (idempotent)."""
    cursor.execute("SELECT to_regclass('monitoring.dq_results')")
    if cursor.fetchone()[0] is None:
        cursor.execute(DQ_RESULTS_DDL)


def write_results(conn, outcomes: Iterable[SuiteOutcome]) -> int:
    """Append one row per expectation of `outcomes`; returns rows written (caller commits)."""
    rows = [
        (s.suite, s.kind, s.table, o.expectation, o.column, o.reason, o.table_level,
         o.success, o.unexpected_count, o.element_count, o.error, s.run_id,
         s.validated_at)
        for s in outcomes for o in s.outcomes
    ]
    with conn.cursor() as cur:
        ensure_dq_results(cur)
        if rows:
            execute_values(cur, f"INSERT INTO monitoring.dq_results ({', '.join(COLUMNS)}) "
                                "VALUES %s", rows)
    return len(rows)

