"""Expectation suites built from the rule spec: raw (text), staging (typed), feature store.

Each expectation carries meta {reason, column, table_level}: `reason` is a reject reason of
the quarantine for row rules, so per-reason counts line up with `quarantine.*`.
Raw is text, so its row rules are UnexpectedRowsExpectations over the same SQL as dbt's
validation macros (monitoring.data_quality.sql); their queries select only row hashes, and
result formats never carry values, so neither Data Docs nor dq_results hold an id or a
personal value. A raw table's rules are counted together, by one query computed once per
validation (expectations.TableRuleCounts, sql.counts_query); each keeps its expectation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import great_expectations.expectations as gxe

from hris.contract import RAW_TABLES
from monitoring.data_quality import sql
from monitoring.data_quality.expectations import ExpectNoUnexpectedRows
from monitoring.data_quality.rules import RuleSpec, TableRules

TABLE_LEVEL_REASONS = ("missing_column",)
STAGING_SCHEMA = "staging"
MARTS_SCHEMA = "marts"
FEATURE_TABLE = "fct_training_examples"


@dataclass
class SuiteSpec:
    """One suite on one relation (`schema.table`), with a kind: raw, staging, feature_store."""

    name: str
    kind: str
    schema: str
    table: str
    expectations: list[gxe.Expectation] = field(default_factory=list)

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


def _meta(reason: str, column: str | None = None, table_level: bool = False) -> dict:
    return {"reason": reason, "column": column, "table_level": table_level}


def _rows(query: str, reason: str, column: str | None, description: str) -> gxe.Expectation:
    return ExpectNoUnexpectedRows(
        unexpected_rows_query=sql.gx_query(query), description=description,
        meta=_meta(reason, column))


def _row_count() -> gxe.Expectation:
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=0, description="rows in the table (measured)", meta=_meta("row_count"))


def _any(conditions: list[str]) -> str:
    return " or ".join(f"({c})" for c in conditions)


RawRule = tuple[str, str | None, str, str, str | None]


def _raw_rules(rules: TableRules, as_of: dt.date) -> list[RawRule]:
    """(reason, columns, query, description, condition) per reason of `rules`: `condition`
    is the rule as a condition on one raw row `b` (the query's WHERE), None for the rules
    that need more than the row (duplicates, near duplicates, plausibility joins, orphans:
    they keep their own query, planned as a join)."""
    out: list[RawRule] = []

    def where(reason: str, columns: str | None, condition: str, description: str,
              in_scan: bool = True) -> None:
        out.append((reason, columns, sql.bad_row_query(condition), description,
                    condition if in_scan else None))

    where("missing_key", None, sql.missing_key(rules), f"key ({', '.join(rules.key)}) is missing")
    out += [("exact_duplicate", None, sql.duplicate_query(rules, exact=True),
             "an exact repeat of a row", None),
            ("duplicate_key", None, sql.duplicate_query(rules, exact=False),
             "a repeated key with other values", None)]
    if rules.near_duplicate:
        out.append(("near_duplicate", None, sql.near_duplicate_query(rules),
                    f"same ({', '.join(rules.near_duplicate)}) under another id", None))

    def per_reason(reason: str, items: list[tuple[str, str, str]], in_scan: bool = True
                   ) -> None:
        if items:
            columns = ", ".join(dict.fromkeys(c for c, _, _ in items))
            where(reason, columns, _any([q for _, q, _ in items]),
                  "; ".join(d for _, _, d in items), in_scan)

    per_reason("missing_value", [(c, sql.missing_value(c), f"{c} is empty")
                                 for c in rules.required])
    per_reason("unparseable_value", [(c, sql.unparseable(rules, c),
                                      f"{c} does not parse as {kind}")
                                     for c, kind in rules.types.items()])
    per_reason("out_of_range", [
        *[(r.column, sql.out_of_range(rules, r),
           f"{r.column} outside [{'' if r.min is None else r.min}, "
           f"{'' if r.max is None else r.max}]") for r in rules.ranges],
        *[(o.column, sql.out_of_order(rules, o),
           f"{o.column} {'not before' if o.strict else 'before'} {o.other}")
          for o in rules.order]])
    per_reason("invalid_value", [(c, sql.invalid_value(c, v), f"{c} not in {list(v)}")
                                 for c, v in rules.vocab.items()])
    per_reason("future_date", [(c, sql.future_date(rules, c, as_of), f"{c} after {as_of}")
                               for c in rules.not_future])
    for name in rules.plausible:
        out.append((name, None, sql.PLAUSIBLE[name], name.replace("_", " "), None))
    per_reason("orphan", [(o.column, sql.orphan(o),
                           f"{o.column} has no {o.parent}.{o.parent_column} in raw")
                          for o in rules.orphans],
               in_scan=False)  # NOT EXISTS as a FILTER would probe the parent row by row
    return out


def raw_row_rules(rules: TableRules, as_of: dt.date) -> list[tuple[str, str | None, str, str]]:
    """(reason, columns, query, description) per reason of `rules`, in reject_reasons order.

    One query per reason (the columns of a reason OR-ed), so a row breaking one rule on two
    columns (a review dated in the future twice) counts once, as in the quarantine.
    """
    return [r[:4] for r in _raw_rules(rules, as_of)]


def _shared_rows(rules: list[RawRule], table: TableRules | None = None
                 ) -> list[gxe.Expectation]:
    """One expectation per rule (reason, columns, query, description, condition), all
    reading one `table_rules_query` (sql.counts_query): about one scan for the lot."""
    shared = sql.gx_query(sql.counts_query([(cond, query) for *_, query, _, cond in rules],
                                           table))
    queries = [sql.gx_query(query) for _, _, query, _, _ in rules]
    return [ExpectNoUnexpectedRows(
        unexpected_rows_query=queries[i], table_rules_query=shared, table_rule_queries=queries,
        rule_index=i, description=description, meta=_meta(reason, columns))
        for i, (reason, columns, _, description, _) in enumerate(rules)]


def raw_suite(rules: TableRules, as_of: dt.date) -> SuiteSpec:
    """The raw suite of one table: required columns present (table level), then every row
    rule of `rules` measured on raw text (one expectation per reject reason, all counted by
    one shared query)."""
    t = rules.table
    suite = SuiteSpec(f"raw.{t}", "raw", sql.RAW, t)
    add = suite.expectations.append
    add(_row_count())
    for column in RAW_TABLES[t].required if t in RAW_TABLES else rules.required:
        add(gxe.ExpectColumnToExist(column=column, meta=_meta("missing_column", column, True),
                                    description=f"required column {column} is present"))
    suite.expectations += _shared_rows(_raw_rules(rules, as_of), rules)
    return suite


def raw_suites(spec: RuleSpec, as_of: dt.date) -> list[SuiteSpec]:
    """One raw suite per raw table of the rule spec."""
    return [raw_suite(rules, as_of) for rules in spec.tables.values()]


def _staged(table: str) -> str:
    return f"stg_hris__{table}"


# The plausible rules on staged rows (pseudonymised ids join as the raw ids do).
STAGING_PLAUSIBLE = {
    "interview_after_hire": (
        f"select 1 as bad from {{batch}} as b join {STAGING_SCHEMA}.stg_hris__candidates as c "
        f"on c.candidate_id = b.candidate_id join {STAGING_SCHEMA}.stg_hris__employees as e "
        "on e.employee_id = c.employee_id where b.interview_date > e.hire_date"),
    "review_before_hire": (
        f"select 1 as bad from {{batch}} as b join {STAGING_SCHEMA}.stg_hris__employees as e "
        "on e.employee_id = b.employee_id where b.period_start < e.hire_date"),
}


def staging_suite(rules: TableRules, as_of: dt.date, columns: Iterable[str]) -> SuiteSpec:
    """The same rules on the typed staging view; rules on columns staging drops are skipped."""
    t = rules.table
    have = set(columns)
    suite = SuiteSpec(f"staging.{_staged(t)}", "staging", STAGING_SCHEMA, _staged(t))
    add = suite.expectations.append
    add(_row_count())
    for k in rules.key:
        add(gxe.ExpectColumnValuesToNotBeNull(column=k, meta=_meta("missing_key", k)))
    if len(rules.key) == 1:
        add(gxe.ExpectColumnValuesToBeUnique(column=rules.key[0],
                                             meta=_meta("duplicate_key", rules.key[0])))
    else:
        # GX's compound-unique joins the view to its own grouped counts (4x the time of
        # this hash aggregate at 20k); the same count: one row per row of a repeated key,
        # rows with a key part missing left out (the inner join drops them there too).
        keys = ", ".join(f"b.{sql.q(k)}" for k in rules.key)
        present = " and ".join(f"b.{sql.q(k)} is not null" for k in rules.key)
        add(_rows(f"select 1 as bad from (select count(*) as n from {{batch}} as b where "
                  f"{present} group by {keys} having count(*) > 1) as g "
                  "cross join generate_series(1, g.n)", "duplicate_key", None,
                  f"a repeated key ({', '.join(rules.key)})"))
    if rules.near_duplicate and set(rules.near_duplicate) <= have:
        cols = ", ".join(sql.q(c) for c in rules.near_duplicate)
        add(_rows(f"select count(*) as n from {{batch}} as b group by {cols} "
                  "having count(*) > 1", "near_duplicate", None,
                  f"groups of the same ({', '.join(rules.near_duplicate)})"))
    for c in rules.required:
        if c in have:
            add(gxe.ExpectColumnValuesToNotBeNull(column=c, meta=_meta("missing_value", c)))
    for r in rules.ranges:
        if r.column in have:
            add(gxe.ExpectColumnValuesToBeBetween(
                column=r.column, min_value=r.min, max_value=r.max,
                meta=_meta("out_of_range", r.column)))
    for o in rules.order:
        if {o.column, o.other} <= have:
            # before: other > column; not_before: column >= other.
            a, b = (o.other, o.column) if o.strict else (o.column, o.other)
            add(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=a, column_B=b, or_equal=not o.strict,
                ignore_row_if="either_value_is_missing", meta=_meta("out_of_range", o.column)))
    for c, values in rules.vocab.items():
        if c in have:
            add(gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(values),
                                                meta=_meta("invalid_value", c)))
    for c in rules.not_future:
        if c in have:
            add(_rows(f"select 1 as bad from {{batch}} as b where b.{sql.q(c)} > "
                      f"date {sql.lit(as_of)}", "future_date", c, f"{c} after {as_of}"))
    for name in rules.plausible:
        if name in STAGING_PLAUSIBLE:
            add(_rows(STAGING_PLAUSIBLE[name], name, None, name.replace("_", " ")))
    for o in rules.orphans:
        if o.column in have:
            parent = f"{STAGING_SCHEMA}.{_staged(o.parent)}"
            add(_rows(f"select 1 as bad from {{batch}} as b where b.{sql.q(o.column)} is not "
                      f"null and not exists (select 1 from {parent} as p where "
                      f"p.{sql.q(o.parent_column)} = b.{sql.q(o.column)})", "orphan", o.column,
                      f"{o.column} has no staged {o.parent}"))
    return suite


def staging_suites(spec: RuleSpec, as_of: dt.date,
                   columns: Mapping[str, Iterable[str]]) -> list[SuiteSpec]:
    """One suite per stg_hris__* view; `columns` maps each view name to its columns."""
    return [staging_suite(r, as_of, columns.get(_staged(r.table), ()))
            for r in spec.tables.values()]


def staging_columns(cursor, tables: Iterable[str]) -> dict[str, list[str]]:
    """The columns of each stg_hris__<table> view (information_schema)."""
    views = [_staged(t) for t in tables]
    cursor.execute("SELECT table_name, column_name FROM information_schema.columns "
                   "WHERE table_schema = %s AND table_name = ANY(%s) ORDER BY ordinal_position",
                   [STAGING_SCHEMA, views])
    out: dict[str, list[str]] = {v: [] for v in views}
    for table, column in cursor.fetchall():
        out[table].append(column)
    return out
