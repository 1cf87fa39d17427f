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

from hris.import_rules import read_import_rules
from hris.profile import ImportProfile, record_profile
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


def _database(pg_server, name: str, rows: list[tuple], drop: str | None = None,
              then=None) -> str:
    """A raw schema whose job_roles hold `rows` (role_id, kpi_target), without column
    `drop` if given; `then(cursor)` runs last, in the same transaction."""
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
        if then:
            then(cur)
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


def _staging_tables(pg_server) -> str:
    """Staging views as tables, with planted defects: job_roles (missing, repeated and
    unknown values) and performance_reviews (ranges, order, missing values)."""
    database = pg_server.create_database("dq_staging_native")
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA staging; "
            "CREATE TABLE staging.stg_hris__job_roles (role_id text, role_family text, "
            "kpi_target float8, kpi_higher_is_better boolean); "
            "CREATE TABLE staging.stg_hris__employees (employee_id text, hire_date date); "
            "CREATE TABLE staging.stg_hris__performance_reviews (review_id text, "
            "employee_id text, period_start date, period_end date, kpi_value float8, "
            "kpi_target float8, okr_score float8, rating float8, submitted_at date)")
        cur.executemany("INSERT INTO staging.stg_hris__job_roles VALUES (%s, %s, %s, %s)", [
            ("r1", "sales", 1, True), ("r1", "sales", 2, True), ("r2", "pirates", None, True),
            (None, "rnd", 3, None), ("r3", None, 4, False), ("r4", "Sales", 5, True)])
        cur.execute("INSERT INTO staging.stg_hris__employees VALUES ('e1', '2023-01-01')")
        cur.executemany(
            "INSERT INTO staging.stg_hris__performance_reviews VALUES "
            "(%s, 'e1', %s, %s, %s, 10, %s, %s, '2024-01-01')", [
                ("v1", "2023-04-01", "2023-06-30", 5, 0.5, 3),
                ("v2", "2023-07-01", "2023-06-30", -1, 1.5, 6),
                ("v3", "2023-10-01", None, 0, None, 0),
                ("v4", None, "2023-12-31", 2, -0.1, None),
                ("v5", "2024-01-01", "2024-01-01", 3, 1.0, 5)])
    conn.commit()
    conn.close()
    return pg_server.url(database)


def _native(rules) -> list[gxe.Expectation]:
    """GX's own column expectations for the staging rules of `rules` that have one, each
    with meta reason 'gx:<reason>' and its column."""

    def meta(reason: str, column: str) -> dict:
        return {"reason": f"gx:{reason}", "column": column, "table_level": False}

    out: list[gxe.Expectation] = [
        *[gxe.ExpectColumnValuesToNotBeNull(column=k, meta=meta("missing_key", k))
          for k in rules.key],
        *[gxe.ExpectColumnValuesToNotBeNull(column=c, meta=meta("missing_value", c))
          for c in rules.required],
        *[gxe.ExpectColumnValuesToBeBetween(column=r.column, min_value=r.min, max_value=r.max,
                                            meta=meta("out_of_range", r.column))
          for r in rules.ranges],
        *[gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(v),
                                          meta=meta("invalid_value", c))
          for c, v in rules.vocab.items()]]
    if len(rules.key) == 1:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=rules.key[0],
                                                    meta=meta("duplicate_key", rules.key[0])))
    for o in rules.order:  # before: other > column; not_before: column >= other
        a, b = (o.other, o.column) if o.strict else (o.column, o.other)
        out.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=not o.strict,
            ignore_row_if="either_value_is_missing", meta=meta("out_of_range", o.column)))
    return out


@pytest.mark.parametrize("table", ["job_roles", "performance_reviews"])
def test_staging_rules_count_as_gx_column_expectations_do(pg_server, tmp_path, table):
    url = _staging_tables(pg_server)
    rules = RULES.tables[table]
    columns = [c for c in (*rules.key, *rules.required, *rules.types, *rules.vocab)]
    spec = staging_suite(rules, AS_OF, columns)
    native = _native(rules)
    spec.expectations += native
    outcome = DataQualityRunner(url, tmp_path).validate(spec, f"native-{table}",
                                                        build_docs=False)
    assert all(o.error is None for o in outcome.outcomes), outcome.outcomes
    ours: dict[tuple[str, str | None], int] = {}
    theirs: dict[tuple[str, str | None], int] = {}
    for o in outcome.outcomes:
        if o.reason.startswith("gx:"):
            theirs[(o.reason[3:], o.column)] = o.unexpected_count
        elif o.reason != "row_count":
            ours[(o.reason, o.column)] = ours.get((o.reason, o.column), 0) + o.unexpected_count
    assert len(theirs) == len(native)
    assert {k: ours.get(k) for k in theirs} == theirs
    assert sum(theirs.values()) >= 5  # the planted defects were seen, by both


def test_mapped_values_are_counted_as_staging_reads_them(pg_server, tmp_path, statements):
    """With an import profile mapping 销售 to sales and 是 to true, those rows break nothing;
    the shared query still counts every rule at once."""
    found = {}

    def foreign(cur) -> None:
        cur.execute("UPDATE raw.job_roles SET role_family = ' 销售 ', "
                    "kpi_higher_is_better = '是' WHERE role_id = 'r1'")
        cur.execute("UPDATE raw.job_roles SET role_family = '市场', "
                    "kpi_higher_is_better = '不' WHERE role_id = 'r2'")
        found["unmapped"] = read_import_rules(cur)
        record_profile(cur, ImportProfile(values={
            ("job_roles", "role_family"): {"销售": "sales"},
            ("job_roles", "kpi_higher_is_better"): {"是": "true"}}), "test")
        found["mapped"] = read_import_rules(cur)

    url = _database(pg_server, "dq_mapped", [("r1", "1"), ("r2", "2"), ("r3", "3")],
                    then=foreign)
    unmapped, imports = found["unmapped"], found["mapped"]
    runner = DataQualityRunner(url, tmp_path)

    def counts(rules) -> dict[str, int]:
        outcome = runner.validate(raw_suite(rules, AS_OF), "mapped-run", build_docs=False)
        assert all(o.error is None for o in outcome.outcomes), outcome.outcomes
        return outcome.by_reason()

    job_roles = RULES.tables["job_roles"]
    before = counts(job_roles.with_imports(unmapped))
    assert before == {"unparseable_value": 2, "invalid_value": 2}
    statements.clear()
    after = counts(job_roles.with_imports(imports))
    assert after == {"unparseable_value": 1, "invalid_value": 1}  # r2 only
    assert len([s for s in statements if "count(*) filter" in s]) == 1
