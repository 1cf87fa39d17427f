"""The raw contract in full, as a markdown page, generated from the one spec.

Tables and columns come from hris.contract, every rule from the dbt project's `raw_rules`
(hris.rules), so the page cannot drift from what staging and the checks apply:
`hireloop contract` prints it, docs/CONTRACT.md is this output (a test keeps them equal;
regenerate with `python -m hris.contract_doc > docs/CONTRACT.md`).
"""

from __future__ import annotations

from hris.contract import PERSONAL_COLUMNS, PROTECTED_COLUMNS, RAW_TABLES, UNITS
from hris.rules import VOID, RuleSpec, TableRules, load_rules

_TYPES = {"date": "date", "number": "number", "bool": "yes/no"}

INTRO = """\
# The raw data contract

What an HR-system export must provide: one CSV or Parquet file per table below, every value
as text as the HR system wrote it. Generated from the rules staging and the data-quality
checks apply (`dbt_project/dbt_project.yml`, var `raw_rules`; `hris/contract.py`) by
`hris/contract_doc.py`: do not edit; `hireloop contract` prints the same page.

How to read a column:

- **column**: *required* columns must be in the file; *optional* ones may be left out (they
  load as empty). **value**: *required* means an empty value quarantines the row.
- **type**: dates are ISO 8601 (`YYYY-MM-DD`, a time part after it is ignored) unless an
  import profile gives the column a format (`dates:`), which is then read strictly
  (`2024/02/31` is no date); numbers are decimal (`3.5`, `1e3`); yes/no accepts
  `true/false, t/f, yes/no, y/n, 1/0` in any case.
- **allowed values** are compared trimmed and lower-cased; an import profile's `values:`
  maps another system's spellings (`男: male`) onto them, at build time: a corrected mapping
  releases rows on the next build without a re-import (a corrected column rename does
  need one).
- **bad value**: *quarantine row* sets the whole row aside (`quarantine.quarantine_<table>`,
  with its reason; its children follow as `parent_quarantined`); *void field* keeps the
  row with the field empty and records the defect in `quarantine.field_defects` (the value
  is shown there for allowed-value columns, never for personal ones).
- **personal** values never leave schema `raw`; **protected** attributes reach only the
  fairness audit, never a model.
"""


def _type(rules: TableRules, table: str, column: str) -> str:
    if column in rules.types:
        return _TYPES[rules.types[column]]
    if column in rules.vocab:
        return "category"
    if (column.endswith("_id") or column in rules.key) and column not in PERSONAL_COLUMNS:
        return "id"
    return "text"


def _number(value: float) -> str:
    return f"{value:g}"


def _range(rules: TableRules, table: str, column: str) -> str:
    parts = []
    for r in rules.ranges:
        if r.column == column:
            low = "" if r.min is None else _number(r.min)
            high = "" if r.max is None else _number(r.max)
            parts.append(f"{low}–{high}" if low and high else f"≥ {low}" if low else f"≤ {high}")
    for o in rules.order:
        if o.column == column:
            parts.append(f"before {o.other}" if o.strict else f"not before {o.other}")
    if column in rules.not_future:
        parts.append("not after the as-of date")
    for o in rules.orphans:
        if o.column == column:
            parts.append(f"refers to {o.parent}.{o.parent_column}")
    unit = UNITS.get((table, column))
    if unit:
        parts.insert(0, unit)
    return "; ".join(parts)


def _allowed(rules: TableRules, column: str) -> str:
    if column in rules.vocab:
        return ", ".join(f"`{v}`" for v in rules.vocab[column])
    if rules.types.get(column) == "bool":
        return "yes / no"
    return ""


def _required(rules: TableRules, table: str, column: str) -> str:
    present = "optional" if column in RAW_TABLES[table].optional else "required"
    value = "required" if column in (*rules.key, *rules.required) else "may be empty"
    return f"{present} / {value}"


def _reasons(rules: TableRules, column: str) -> list[str]:
    """The reasons a value of `column` can give, in rule order."""
    found = [
        ("missing_key", column in rules.key),
        ("missing_value", column in rules.required),
        ("unparseable_value", column in rules.types),
        ("out_of_range", any(r.column == column for r in rules.ranges)
         or any(o.column == column for o in rules.order)),
        ("invalid_value", column in rules.vocab),
        ("future_date", column in rules.not_future),
        ("orphan", any(o.column == column for o in rules.orphans)),
    ]
    return [reason for reason, applies in found if applies]


def _bad_value(rules: TableRules, column: str) -> str:
    reasons = _reasons(rules, column)
    if not reasons:
        return "—"
    action = "void field" if rules.policy(column) == VOID else "quarantine row"
    return f"{action} ({', '.join(f'`{r}`' for r in reasons)})"


def _privacy(column: str) -> str:
    kinds = [k for k, s in (("personal", PERSONAL_COLUMNS), ("protected", PROTECTED_COLUMNS))
             if column in s]
    return ", ".join(kinds)


def _row_rules(rules: TableRules) -> list[str]:
    out = [f"- key: ({', '.join(rules.key)}); an empty key part is `missing_key`, a repeat "
           "of the key `exact_duplicate` (same values) or `duplicate_key` (the first "
           "occurrence is used)."]
    if rules.near_duplicate:
        out.append(f"- the same ({', '.join(rules.near_duplicate)}) under another id is a "
                   "`near_duplicate`: the lowest id (as text) is kept.")
    for name in rules.plausible:
        text = {"interview_after_hire": "an interview dated after the hire date of the "
                                        "candidate's employee is `interview_after_hire`.",
                "review_before_hire": "a review whose period starts before the employee's "
                                      "hire date is `review_before_hire`."}.get(name, name)
        out.append(f"- {text}")
    return out


def render_table(rules: TableRules) -> str:
    """One table's section: its columns and its row rules."""
    t = rules.table
    lines = [f"## `{t}`", "", "| column | type | unit / range | allowed values | column / value "
             "| bad value | personal / protected |", "|---|---|---|---|---|---|---|"]
    for c in RAW_TABLES[t].columns:
        cells = [f"`{c}`", _type(rules, t, c), _range(rules, t, c), _allowed(rules, c),
                 _required(rules, t, c), _bad_value(rules, c), _privacy(c)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", "Row rules:", "", *_row_rules(rules), ""])


def render_contract(spec: RuleSpec | None = None) -> str:
    """The whole contract as markdown (what `hireloop contract` prints)."""
    spec = spec or load_rules()
    reasons = ", ".join(f"`{r}`" for r in spec.reject_reasons)
    parts = [INTRO, "A quarantined row has one reason, the first rule it breaks, in this "
             f"order: {reasons}.", ""]
    parts += [render_table(spec.tables[t]) for t in RAW_TABLES]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_contract(), end="")
