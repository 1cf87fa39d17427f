"""Expectation suites built from the rule spec: raw (text), staging (typed), feature store.

Each expectation carries meta {reason, column, table_level}: `reason` is a reject reason of
the quarantine for row rules, so per-reason counts line up with `quarantine.*`.
Every rule is a counting UnexpectedRowsExpectation (expectations.ExpectNoUnexpectedRows),
and a suite's rules are counted together, by one query computed once per validation
(expectations.TableRuleCounts, sql.counts_query: about one scan per table instead of one
per rule, and about a fifth of the Python cost of GX's column-map expectations); each
rule keeps its own expectation and result. Raw is text, so its rules are the same SQL as
dbt's validation macros (monitoring.data_quality.sql); their queries select only row
hashes, and result formats never carry values, so neither Data Docs nor dq_results hold
an id or a personal value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import great_expectations.expectations as gxe

from hris.contract import RAW_TABLES
from hris.import_rules import NO_IMPORT_RULES, ImportRules
from monitoring.data_quality import sql
from monitoring.data_quality.expectations import ExpectNoUnexpectedRows
from monitoring.data_quality.rules import RuleSpec, TableRules

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


def _row_count() -> gxe.Expectation:
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=0, description="rows in the table (measured)", meta=_meta("row_count"))


def _any(conditions: list[str]) -> str:
    return " or ".join(f"({c})" for c in conditions)


# (reason, columns, query, description, condition): one rule of a suite, counted by the
# suite's shared query; `condition` is the rule as a condition on one row `b` (None for
# rules that need more than the row: their query is counted as a subquery).
Rule = tuple[str, str | None, str, str, str | None]


def row_rule(reason: str, column: str | None, condition: str, description: str,
             select: str = "1 as bad", in_scan: bool = True) -> Rule:
    """A rule on one row; its query selects `select` (raw: the row hash). With `in_scan`
    False it is counted by its own query, not as a condition of the shared scan."""
    return (reason, column, sql.bad_row_query(condition, select), description,
            condition if in_scan else None)


def query_rule(reason: str, column: str | None, query: str, description: str) -> Rule:
    return (reason, column, query, description, None)


def _raw_rules(rules: TableRules, as_of: dt.date) -> list[Rule]:
    """(reason, columns, query, description, condition) per reason of `rules`: `condition`
    is the rule as a condition on one raw row `b` (the query's WHERE), None for the rules
    that need more than the row (duplicates, near duplicates, plausibility joins, orphans:
    they keep their own query, planned as a join)."""
    out: list[Rule] = []

    def where(reason: str, columns: str | None, condition: str, description: str,
              in_scan: bool = True) -> None:
        out.append(row_rule(reason, columns, condition, description, "b._record_hash",
                            in_scan))

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
    void = set(rules.void)
    per_reason("unparseable_value", [(c, sql.unparseable(rules, c),
                                      f"{c} does not parse as {kind}")
                                     for c, kind in rules.types.items() if c not in void])
    per_reason("out_of_range", [
        *[(r.column, sql.out_of_range(rules, r),
           f"{r.column} outside [{sql.bound(r.min)}, {sql.bound(r.max)}]") for r in rules.ranges
          if r.column not in void],
        *[(o.column, sql.out_of_order(rules, o),
           f"{o.column} {'not before' if o.strict else 'before'} {o.other}")
          for o in rules.order]])
    per_reason("invalid_value", [(c, sql.invalid_value(rules, c, v), f"{c} not in {list(v)}")
                                 for c, v in rules.vocab.items() if c not in void])
    per_reason("future_date", [(c, sql.future_date(rules, c, as_of), f"{c} after {as_of}")
                               for c in rules.not_future])
    for name in rules.plausible:
        out.append((name, None, sql.PLAUSIBLE[name], name.replace("_", " "), None))
    per_reason("orphan", [(o.column, sql.orphan(o),
                           f"{o.column} has no {o.parent}.{o.parent_column} in raw")
                          for o in rules.orphans],
               in_scan=False)  # NOT EXISTS as a FILTER would probe the parent row by row
    return out


def _void_rules(rules: TableRules) -> list[Rule]:
    """One rule per void column and reason (unparseable_value, out_of_range, invalid_value):
    the rows whose field staging voids and lists in quarantine.field_defects, whatever
    happens to the row (the same per-column first reason: the rules exclude each other)."""
    out: list[Rule] = []
    for c in rules.void:
        checks = []
        if c in rules.types:
            checks.append(("unparseable_value", sql.unparseable(rules, c),
                           f"{c} does not parse as {rules.types[c]} (field voided)"))
        for r in rules.ranges:
            if r.column == c:
                checks.append(("out_of_range", sql.out_of_range(rules, r),
                               f"{c} outside [{sql.bound(r.min)}, {sql.bound(r.max)}] "
                               "(field voided)"))
        if c in rules.vocab:
            checks.append(("invalid_value", sql.invalid_value(rules, c, rules.vocab[c]),
                           f"{c} not in {list(rules.vocab[c])} (field voided)"))
        out += [row_rule(reason, c, cond, description, "b._record_hash")
                for reason, cond, description in checks]
    return out


def raw_void_rules(rules: TableRules) -> list[tuple[str, str | None, str, str]]:
    """(reason, column, query, description) per void column and reason: the field defects."""
    return [r[:4] for r in _void_rules(rules)]


def raw_row_rules(rules: TableRules, as_of: dt.date) -> list[tuple[str, str | None, str, str]]:
    """(reason, columns, query, description) per reason of `rules`, in reject_reasons order.

    One query per reason (the columns of a reason OR-ed), so a row breaking one rule on two
    columns (a review dated in the future twice) counts once, as in the quarantine.
    """
    return [r[:4] for r in _raw_rules(rules, as_of)]


def shared_rows(rules: list[Rule], table: TableRules | None = None,
                table_level: bool = False, voids: int = 0) -> list[gxe.Expectation]:
    """One expectation per rule, all reading one `table_rules_query` (sql.counts_query):
    about one scan for the lot. `table` (raw text only) parses each column once per row.
    The last `voids` rules are field defects (meta voids: not a quarantine count)."""
    shared = sql.gx_query(sql.counts_query([(cond, query) for *_, query, _, cond in rules],
                                           table))
    queries = [sql.gx_query(query) for _, _, query, _, _ in rules]
    return [ExpectNoUnexpectedRows(
        unexpected_rows_query=queries[i], table_rules_query=shared, table_rule_queries=queries,
        rule_index=i, description=description,
        meta={**_meta(reason, columns, table_level), "voids": i >= len(rules) - voids})
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
    voids = _void_rules(rules)
    suite.expectations += shared_rows(_raw_rules(rules, as_of) + voids, rules,
                                      voids=len(voids))
    return suite


def raw_suites(spec: RuleSpec, as_of: dt.date,
               imports: ImportRules = NO_IMPORT_RULES) -> list[SuiteSpec]:
    """One raw suite per raw table of the rule spec, reading the import profile in force
    (`imports`, hris.import_rules.read_import_rules) as staging does."""
    return [raw_suite(rules.with_imports(imports), as_of) for rules in spec.tables.values()]


def _staged(table: str) -> str:
    return f"stg_hris__{table}"


# The plausible rules on staged rows (pseudonymised ids join as the raw ids do).
STAGING_PLAUSIBLE = {
    "interview_after_hire": (
        f"select 1 as bad from {{batch}} as b join {STAGING_SCHEMA}.stg_hris__candidates as c "
        f"on c.candidate_id = b.candidate_id join {STAGING_SCHEMA}.stg_hris__employees as e "
        "on e.employee_id = c.employee_id where b.interview_date > e.hire_date "
        "and not coalesce(c.application_date > e.hire_date, false)"),
    "review_before_hire": (
        f"select 1 as bad from {{batch}} as b join {STAGING_SCHEMA}.stg_hris__employees as e "
        "on e.employee_id = b.employee_id where b.period_start < e.hire_date"),
}


def _staging_rules(rules: TableRules, as_of: dt.date, have: set[str]) -> list[Rule]:
    """The rules of `rules` on the typed staging view, in reject_reasons order; rules on
    columns staging drops are skipped."""
    c = sql.q
    out = [row_rule("missing_key", k, f"b.{c(k)} is null", f"{k} is missing")
           for k in rules.key]
    # One row per row of a repeated key, rows with a key part missing left out (as GX's
    # unique and compound-unique count; theirs join the view to its grouped counts).
    keys = ", ".join(f"b.{c(k)}" for k in rules.key)
    present = " and ".join(f"b.{c(k)} is not null" for k in rules.key)
    out.append(query_rule(
        "duplicate_key", rules.key[0] if len(rules.key) == 1 else None,
        f"select 1 as bad from (select count(*) as n from {{batch}} as b where {present} "
        f"group by {keys} having count(*) > 1) as g cross join generate_series(1, g.n)",
        f"a repeated key ({', '.join(rules.key)})"))
    if rules.near_duplicate and set(rules.near_duplicate) <= have:
        cols = ", ".join(c(x) for x in rules.near_duplicate)
        out.append(query_rule(
            "near_duplicate", None, f"select count(*) as n from {{batch}} as b group by "
            f"{cols} having count(*) > 1",
            f"groups of the same ({', '.join(rules.near_duplicate)})"))
    out += [row_rule("missing_value", x, f"b.{c(x)} is null", f"{x} is empty")
            for x in rules.required if x in have]
    for r in rules.ranges:
        if r.column in have:
            out.append(row_rule(
                "out_of_range", r.column, sql.outside(f"b.{c(r.column)}", r.min, r.max),
                f"{r.column} outside [{sql.bound(r.min)}, {sql.bound(r.max)}]"))
    for o in rules.order:
        if {o.column, o.other} <= have:
            # before: other > column; not_before: column >= other (missing values pass).
            a, b = (o.other, o.column) if o.strict else (o.column, o.other)
            out.append(row_rule(
                "out_of_range", o.column, f"not (b.{c(a)} {'>' if o.strict else '>='} "
                f"b.{c(b)})", f"{o.column} {'not before' if o.strict else 'before'} "
                f"{o.other}"))
    out += [row_rule("invalid_value", x, sql.not_in(f"b.{c(x)}", values),
                      f"{x} not in {list(values)}")
            for x, values in rules.vocab.items() if x in have]
    # a voided field is NULL in staging: the ranges above and the vocab rule hold as well
    out += [row_rule("future_date", x, f"b.{c(x)} > date {sql.lit(as_of)}",
                      f"{x} after {as_of}") for x in rules.not_future if x in have]
    out += [query_rule(name, None, STAGING_PLAUSIBLE[name], name.replace("_", " "))
            for name in rules.plausible if name in STAGING_PLAUSIBLE]
    for o in rules.orphans:
        if o.column in have:
            parent = f"{STAGING_SCHEMA}.{_staged(o.parent)}"
            out.append(query_rule(
                "orphan", o.column, f"select 1 as bad from {{batch}} as b where "
                f"b.{c(o.column)} is not null and not exists (select 1 from {parent} as p "
                f"where p.{c(o.parent_column)} = b.{c(o.column)})",
                f"{o.column} has no staged {o.parent}"))
    return out


def staging_suite(rules: TableRules, as_of: dt.date, columns: Iterable[str]) -> SuiteSpec:
    """The same rules on the typed staging view, counted together by one shared query."""
    t = rules.table
    suite = SuiteSpec(f"staging.{_staged(t)}", "staging", STAGING_SCHEMA, _staged(t))
    suite.expectations = [_row_count(), *shared_rows(_staging_rules(rules, as_of,
                                                                    set(columns)))]
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
