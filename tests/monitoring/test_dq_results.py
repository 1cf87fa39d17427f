"""monitoring.dq_results gains `policy` in place: a table an earlier version made (no policy
column, rows already in it) is migrated where it is ensured, its old rows kept with NULL,
the new rows filled from their outcomes; the steward page reads both."""

from __future__ import annotations

import datetime as dt

from monitoring.data_quality import write_results
from monitoring.data_quality.results import DQ_RESULTS_DDL, ensure_dq_results
from monitoring.data_quality.runner import ExpectationOutcome, SuiteOutcome
from monitoring.data_quality_report import failing_checks

WHEN = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# The table as hireloop made it before the column existed.
OLD_DDL = DQ_RESULTS_DDL.replace(",\n    policy text", "")


def _outcome(reason: str, column: str | None, voids: bool = False,
             table_level: bool = False) -> ExpectationOutcome:
    return ExpectationOutcome(expectation="expect_no_unexpected_rows", column=column,
                              reason=reason, table_level=table_level, success=False,
                              unexpected_count=2, element_count=10, voids=voids)


def _columns(cur) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'monitoring' AND table_name = 'dq_results' ORDER BY ordinal_position")
    return [c for (c,) in cur.fetchall()]


def test_an_old_table_gets_the_policy_column_and_new_rows_their_policy(pg_server):
    assert "policy" not in OLD_DDL and "policy text" in DQ_RESULTS_DDL
    conn = pg_server.endpoint.connect(pg_server.create_database("dq_policy"))
    try:
        with conn.cursor() as cur:
            cur.execute(OLD_DDL)
            cur.execute("INSERT INTO monitoring.dq_results (suite, suite_kind, table_name, "
                        "expectation, reason, table_level, success, run_id, validated_at) "
                        "VALUES ('raw_candidates', 'raw', 'raw.candidates', 'e', 'orphan', "
                        "false, false, 'old-run', %s)", [WHEN - dt.timedelta(days=1)])
        conn.commit()
        with conn.cursor() as cur:
            assert "policy" not in _columns(cur)
            assert failing_checks(conn)["policy"].isna().all()  # readable before migration
        raw = SuiteOutcome("raw_interviews", "raw", "raw.interviews", "new-run", WHEN, 0.1, [
            _outcome("invalid_value", "recommendation", voids=True),
            _outcome("invalid_value", "round"),
            _outcome("missing_column", "round", table_level=True)])
        staged = SuiteOutcome("staging_interviews", "staging", "staging.stg_hris__interviews",
                              "new-run", WHEN, 0.1, [_outcome("invalid_value", "round")])
        assert write_results(conn, [raw, staged]) == 4
        conn.commit()
        with conn.cursor() as cur:
            assert _columns(cur)[-1] == "policy"
            ensure_dq_results(cur)  # idempotent
            cur.execute("SELECT run_id, suite_kind, column_name, table_level, policy "
                        "FROM monitoring.dq_results ORDER BY id")
            assert cur.fetchall() == [
                ("old-run", "raw", None, False, None),  # kept as it was
                ("new-run", "raw", "recommendation", False, "void"),
                ("new-run", "raw", "round", False, "quarantine"),
                ("new-run", "raw", "round", True, None),  # a table check routes no row
                ("new-run", "staging", "round", False, None)]
        checks = failing_checks(conn)  # the latest run, as the page shows it
        assert list(zip(checks["column"], checks["policy"], strict=True)) == [
            ("recommendation", "void"), ("round", "quarantine"), ("round", None),
            ("round", None)]
    finally:
        conn.close()
