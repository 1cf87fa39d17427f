"""SQL for the raw row rules, the same expressions as the dbt macros (macros/safe_casts.sql,
macros/hris_validation.sql), so that GX on `raw` and the staging quarantine count alike.

Every function returns a PostgreSQL boolean / value expression over raw text columns of
the alias `b`; `bad_row_query` wraps a condition into an UnexpectedRowsExpectation query
that selects only the row hash (never an id or a personal value). Queries carry a
`{batch}` placeholder (the raw table); `gx_query` escapes them for GX.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from monitoring.data_quality.rules import OrderRule, OrphanRule, RangeRule, TableRules

RAW = "raw"


def q(name: str) -> str:
    """A quoted identifier (contract names are plain, quoting keeps `round` etc. safe)."""
    return '"' + name.replace('"', '""') + '"'


def clean(column: str, alias: str = "b") -> str:
    """macros/safe_casts.sql clean_text: trimmed, blank -> NULL."""
    return f"nullif(trim({alias}.{q(column)}), '')"


def safe_date(expr: str) -> str:
    return (
        f"case when translate(left({expr}, 10), '0123456789', '0000000000') = '0000-00-00' "
        f"and (length({expr}) = 10 or substr({expr}, 11, 1) in ('T', ' ')) "
        f"and pg_input_is_valid(left({expr}, 10), 'date') then left({expr}, 10)::date end"
    )


def safe_number(expr: str) -> str:
    return (
        f"case when ltrim({expr}, '0123456789.eE+-') = '' "
        f"and pg_input_is_valid({expr}, 'float8') then ({expr})::double precision end"
    )


def safe_bool(expr: str) -> str:
    return (
        f"case lower({expr}) when 'true' then true when 't' then true when 'yes' then true "
        "when 'y' then true when '1' then true when '1.0' then true "
        "when 'false' then false when 'f' then false when 'no' then false "
        "when 'n' then false when '0' then false when '0.0' then false end"
    )


_PARSERS = {"date": safe_date, "number": safe_number, "bool": safe_bool}


def value(rules: TableRules, column: str, alias: str = "b") -> str:
    """A vocab or bool column as staging reads it: the contract value the import profile
    maps its lower(trim(text)) to, else lower(trim(text)) (hris.import_rules)."""
    text = f"lower({clean(column, alias)})"
    if column not in rules.mapped:
        return text
    return (f"coalesce((select m.contract_value from {RAW}._value_map as m where "
            f"m.table_name = {lit(rules.table)} and m.column_name = {lit(column)} and "
            f"m.source_value = {text}), {text})")


def profile_date(rules: TableRules, column: str, expr: str) -> str:
    """A date column with an import-profile format: parsed strictly with it."""
    return (f"{RAW}._to_date_strict({expr}, (select f.format from {RAW}._date_formats as f "
            f"where f.table_name = {lit(rules.table)} and f.column_name = {lit(column)}))")


def personal_date(column: str, expr: str, alias: str = "b") -> str:
    """A personal date column as staging types it: its ciphertext cannot be parsed, so the
    check made at load (`_<column>_check`, hris.raw_protect) stands for the date: NULL when
    it does not parse, +infinity when it is not before its reference date, else -infinity
    (macro hris_typed_columns does the same)."""
    check = f"{alias}._{column}_check"
    return (f"case when {expr} is null then null when {check} = 'unparseable_value' then null "
            f"when {check} = 'out_of_range' then 'infinity'::date else '-infinity'::date end")


def parse(rules: TableRules, column: str, expr: str, alias: str = "b") -> str:
    """`expr` (the column's clean text, or its value for a bool) parsed as staging does."""
    kind = rules.types[column]
    if kind == "date" and column in rules.personal:
        return personal_date(column, expr, alias)
    if kind == "date" and column in rules.dated:
        return profile_date(rules, column, expr)
    return _PARSERS[kind](expr)


def typed(rules: TableRules, column: str, alias: str = "b") -> str:
    """The column as staging types it: parsed when it has a type, else its value (vocab)
    or clean text."""
    kind = rules.types.get(column)
    if kind == "bool":
        return parse(rules, column, value(rules, column, alias))
    if kind:
        return parse(rules, column, clean(column, alias), alias)
    if column in rules.vocab:
        return value(rules, column, alias)
    return clean(column, alias)


def lit(value: str | dt.date) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def key_present(rules: TableRules, alias: str = "b") -> str:
    return " and ".join(f"{clean(k, alias)} is not null" for k in rules.key)


def missing_key(rules: TableRules) -> str:
    return " or ".join(f"{clean(k)} is null" for k in rules.key)


def duplicate_query(rules: TableRules, exact: bool) -> str:
    """Repeats of a key (`_dup_seq > 1`): exact (the first occurrence's record hash) or not.

    A semi-join from the few repeats, so the key index finds each first occurrence.
    """
    same = " and ".join(f"f.{q(k)} = b.{q(k)}" for k in rules.key)
    first = (f"exists (select 1 from {RAW}.{q(rules.table)} as f where {same} "
             "and f._dup_seq = 1 and f._record_hash = b._record_hash)")
    return (f"select b._record_hash from {{batch}} as b where b._dup_seq > 1 "
            f"and {key_present(rules)} and {'' if exact else 'not '}{first}")


def near_duplicate_query(rules: TableRules) -> str:
    """Same near-duplicate values (clean text, all present) under another id: every row of
    such a group but the lowest id's (text order, collation "C"), among first occurrences."""
    parts = ", ".join(clean(c, "r") for c in rules.near_duplicate)
    present = " and ".join(f"{clean(c, 'r')} is not null" for c in rules.near_duplicate)
    order = ", ".join(f'{clean(k, "r")} collate "C"' for k in rules.key)
    inner = (f"select r._record_hash, row_number() over (partition by {parts} order by {order}) "
             f"as n from {{batch}} as r where r._dup_seq = 1 and {key_present(rules, 'r')} "
             f"and {present}")
    return f"select _record_hash from ({inner}) as ranked where n > 1"


def missing_value(column: str) -> str:
    return f"{clean(column)} is null"


def unparseable(rules: TableRules, column: str) -> str:
    return f"{clean(column)} is not null and ({typed(rules, column)}) is null"


def out_of_range(rules: TableRules, rule: RangeRule) -> str:
    return outside(f"({typed(rules, rule.column)})", rule.min, rule.max)


def out_of_order(rules: TableRules, rule: OrderRule) -> str:
    a, b = f"({typed(rules, rule.column)})", f"({typed(rules, rule.other)})"
    return f"{a} >= {b}" if rule.strict else f"{a} < {b}"


def invalid_value(rules: TableRules, column: str, values: tuple[str, ...]) -> str:
    read = value(rules, column)
    return f"({read}) is not null and {not_in(f'({read})', values)}"


def future_date(rules: TableRules, column: str, as_of: dt.date) -> str:
    return f"({typed(rules, column)}) > date {lit(as_of)}"


def orphan(rule: OrphanRule) -> str:
    return (f"{clean(rule.column)} is not null and not exists (select 1 from {RAW}."
            f"{q(rule.parent)} as p where {clean(rule.parent_column, 'p')} = "
            f"{clean(rule.column)})")


# Cross-table plausibility rules (raw_rules `plausible`), against the first occurrence of
# the related rows in raw.
PLAUSIBLE: dict[str, str] = {
    # An interview dated after the hire date of the candidate it belongs to, unless the
    # candidate applied after that hire date (a re-application by the employee). The hire
    # date per candidate is joined first, fenced by OFFSET 0: with no statistics on the
    # trimmed ids, PostgreSQL otherwise joined interviews to employees first as a cross
    # product filtered by the dates (over 15 minutes at 1M applicants).
    "interview_after_hire": (
        f"select b._record_hash from {{batch}} as b "
        f"join (select {clean('candidate_id', 'c')} as candidate_key, "
        f"{safe_date(clean('hire_date', 'e'))} as hire_date "
        f"from {RAW}.candidates as c join {RAW}.employees as e on e._dup_seq = 1 "
        f"and {clean('employee_id', 'e')} = {clean('employee_id', 'c')} "
        f"where c._dup_seq = 1 and not coalesce(({safe_date(clean('application_date', 'c'))})"
        f" > ({safe_date(clean('hire_date', 'e'))}), false) "
        f"offset 0) as h on h.candidate_key = {clean('candidate_id')} "
        f"where ({safe_date(clean('interview_date'))}) > h.hire_date"
    ),
    # A review whose period starts before the employee was hired.
    "review_before_hire": (
        f"select b._record_hash from {{batch}} as b "
        f"join {RAW}.employees as e on e._dup_seq = 1 "
        f"and {clean('employee_id', 'e')} = {clean('employee_id')} "
        f"where ({safe_date(clean('period_start'))}) < "
        f"({safe_date(clean('hire_date', 'e'))})"
    ),
}


def bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def outside(expr: str, low: float | None, high: float | None) -> str:
    """`expr` below `low` or above `high` (a missing value is not outside)."""
    return " or ".join([*([f"{expr} < {float(low)!r}"] if low is not None else []),
                        *([f"{expr} > {float(high)!r}"] if high is not None else [])])


def not_in(expr: str, values: Iterable[str]) -> str:
    """`expr` present and not one of `values`."""
    return f"{expr} not in ({', '.join(lit(v) for v in values)})"


def bad_row_query(condition: str, select: str = "b._record_hash") -> str:
    """The rows meeting `condition`, as `select` (raw: the row hash, never an id or a
    personal value); plain SQL with a `{batch}` placeholder."""
    return f"select {select} from {{batch}} as b where {condition}"


def _columns(rules: TableRules) -> list[str]:
    """The columns the row rules of `rules` read, in rule order."""
    return list(dict.fromkeys([
        *rules.key, *rules.near_duplicate, *rules.required, *rules.types, *rules.vocab,
        *rules.not_future, *(r.column for r in rules.ranges),
        *(c for o in rules.order for c in (o.column, o.other))]))


def _precomputed(rules: TableRules, conditions: list[str]) -> tuple[str, list[str]]:
    """`{batch} as b` with each column's clean text and parsed value computed once per row,
    and `conditions` reading them: the same expressions, evaluated once instead of in
    every rule that reads them (a date parse is most of a row rule's cost).

    OFFSET 0 keeps PostgreSQL from flattening the subqueries, which would inline the
    expressions back into every rule (LATERAL VALUES is flattened too: measured)."""
    text = " ".join(conditions)
    cleaned = [c for c in _columns(rules) if clean(c) in text]
    parsed = [c for c in cleaned if c in rules.types and typed(rules, c) in text]
    if not cleaned:
        return "{batch} as b", conditions
    out = []
    for cond in conditions:
        for c in parsed:  # the parse first: it contains the clean text
            cond = cond.replace(typed(rules, c), f"b.{q('__t_' + c)}")
        for c in cleaned:
            cond = cond.replace(clean(c), f"b.{q('__c_' + c)}")
        out.append(cond)
    # the raw row itself only where a condition still reads it (narrower rows are cheaper)
    rest = "b.*, " if re.search(r'\bb\.(?!"__[ct]_)', " ".join(out)) else ""
    level1 = ", ".join(f"{clean(c)} as {q('__c_' + c)}" for c in cleaned)
    if not rest:  # the checks a personal date's parse reads (personal_date)
        level1 += "".join(f", b.{q('_' + c + '_check')}" for c in parsed
                          if c in rules.personal and rules.types[c] == "date")
    relation = f"(select {rest}{level1} from {{batch}} as b offset 0) as b"
    if parsed:
        level2 = ", ".join(f"{typed(rules, c).replace(clean(c), 'b.' + q('__c_' + c))} as "
                           f"{q('__t_' + c)}" for c in parsed)
        relation = f"(select b.*, {level2} from {relation} offset 0) as b"
    return relation, out


def counts_query(rules: list[tuple[str | None, str]], table: TableRules | None = None) -> str:
    """One row of every rule's count, in order: one scan of `{batch}` for the rules given
    as a condition on `b` (`count(*) FILTER`), a scalar subquery for the others (a query
    of their rows, e.g. a join or a window), each of which counts as that query would.

    With `table` (the rules' TableRules), the scan computes each column's clean text and
    parsed value once per row (`_precomputed`)."""
    conditions = [cond for cond, _ in rules if cond is not None]
    relation = "{batch} as b"
    if table is not None and conditions:
        relation, conditions = _precomputed(table, conditions)
    shared = iter(conditions)
    parts = [f"count(*) filter (where {next(shared)})" if cond is not None
             else f"(select count(*) from ({query}) as rule_rows)"
             for cond, query in rules]
    columns = ", ".join(f"{p} as n{i}" for i, p in enumerate(parts))
    return f"select {columns}" + (f" from {relation}" if conditions else "")


def gx_query(query: str) -> str:
    """`query` for GX, which runs str.format on it: braces doubled except `{batch}`."""
    marker = "\0"
    escaped = (query.replace("{batch}", marker).replace("{", "{{").replace("}", "}}")
               .replace(marker, "{batch}"))
    # GX substitutes an aliased subquery (or a parenthesised one when the query joins):
    # wrapped once more, our own alias works either way.
    return re.sub(r"\{batch\} as (\w+)", r"(select * from {batch}) as \1", escaped)
