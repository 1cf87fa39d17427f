"""The raw row rules, read from the one spec every side shares: dbt_project.yml vars.

`raw_rules` (per table: key, near_duplicate, required, types, ranges, order, vocab, void,
not_future, plausible, orphans, personal) and `reject_reasons` are the contract between the
staging quarantine (dbt), the Great Expectations raw suites, the defect planter and the
contract's documentation; reading them here, never restating them, keeps them in step.

A bad value either quarantines its row (the default) or, for the columns a table lists in
`void`, voids only that field: NULL in staging, the row staged, the defect recorded in
`quarantine.field_defects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hris.contract import BOOL_FALSE, BOOL_TRUE
from hris.import_rules import ImportRules

DBT_PROJECT_YML = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"

QUARANTINE, VOID = "quarantine", "void"
# The rules a void column may carry: each voids the field with its reason.
VOID_REASONS = ("unparseable_value", "out_of_range", "invalid_value")


class RuleSpecError(ValueError):
    """The rule spec contradicts itself; the message names the table and column."""


@dataclass(frozen=True)
class OrderRule:
    """`column` must be before (strictly) / not before another column of the same row."""

    column: str
    other: str
    strict: bool  # True: column < other required ("before"); False: column >= other


@dataclass(frozen=True)
class OrphanRule:
    column: str
    parent: str
    parent_column: str


@dataclass(frozen=True)
class RangeRule:
    column: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class TableRules:
    """The row rules of one raw table."""

    table: str
    key: tuple[str, ...]
    near_duplicate: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)  # column -> date | number | bool
    ranges: tuple[RangeRule, ...] = ()
    order: tuple[OrderRule, ...] = ()
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> values
    not_future: tuple[str, ...] = ()
    plausible: tuple[str, ...] = ()
    orphans: tuple[OrphanRule, ...] = ()
    personal: tuple[str, ...] = ()
    void: tuple[str, ...] = ()
    vocab_names: dict[str, str] = field(default_factory=dict)  # column -> vocabulary var
    # The import profile in force (hris.import_rules): value columns with a mapping, date
    # columns with a format. Empty unless set by `with_imports`.
    mapped: frozenset[str] = frozenset()
    dated: frozenset[str] = frozenset()

    def policy(self, column: str) -> str:
        """What a bad value of `column` does: QUARANTINE the row or VOID the field."""
        return VOID if column in self.void else QUARANTINE

    def value_columns(self) -> list[str]:
        """Columns read as a (mapped, lower-cased) value: vocab, then bool columns."""
        return list(dict.fromkeys([*self.vocab, *(c for c, k in self.types.items()
                                                   if k == "bool")]))

    def with_imports(self, imports: ImportRules) -> TableRules:
        """These rules reading the import profile in force (only value columns map, only
        date columns take a format)."""
        values = set(self.value_columns())
        return replace(
            self, mapped=frozenset(c for c in imports.mapped.get(self.table, ()) if c in values),
            dated=frozenset(c for c in imports.dated.get(self.table, ())
                            if self.types.get(c) == "date"))

    def allowed_values(self, column: str) -> tuple[str, ...] | None:
        """The values `column` accepts (as staging compares them: lower-cased, trimmed), or
        None when it is not categorical. Booleans list the spellings staging reads."""
        if column in self.vocab:
            return self.vocab[column]
        if self.types.get(column) == "bool":
            return (*BOOL_TRUE, *BOOL_FALSE)
        return None

    def rule_columns(self) -> list[str]:
        """Columns any rule reads, in spec order."""
        return list(dict.fromkeys([
            *self.key, *self.near_duplicate, *self.required, *self.types, *self.vocab,
            *(r.column for r in self.ranges), *(c for o in self.order for c in (o.column, o.other)),
            *self.not_future, *(o.column for o in self.orphans)]))


@dataclass(frozen=True)
class RuleSpec:
    """All tables' rules plus the reject reasons in rule order."""

    tables: dict[str, TableRules]
    reject_reasons: tuple[str, ...]

    def allowed_values(self, table: str, column: str) -> tuple[str, ...] | None:
        """The values `table.column` accepts, or None when it is not categorical (or
        unknown): what a steward page lists beside an invalid_value."""
        rules = self.tables.get(table)
        return None if rules is None else rules.allowed_values(column)

    def relations(self) -> tuple[tuple[str, str, str, str], ...]:
        """(child, column, parent, parent column) of every orphans rule, in spec order."""
        return tuple((t, o.column, o.parent, o.parent_column)
                     for t, r in self.tables.items() for o in r.orphans)


def _order(entry: dict[str, Any]) -> OrderRule:
    if "before" in entry:
        return OrderRule(entry["column"], entry["before"], strict=True)
    if "not_before" in entry:
        return OrderRule(entry["column"], entry["not_before"], strict=False)
    raise RuleSpecError(f"raw_rules order entry needs 'before' or 'not_before': {entry}")


def _check_void(rules: TableRules) -> None:
    """A void column carries only rules that can void it (types, ranges, vocab)."""
    t = rules.table
    row_level = {
        "key": rules.key, "near_duplicate": rules.near_duplicate, "required": rules.required,
        "order": [c for o in rules.order for c in (o.column, o.other)],
        "not_future": rules.not_future, "orphans": [o.column for o in rules.orphans]}
    for column in rules.void:
        if column not in rules.types and column not in rules.vocab:
            raise RuleSpecError(f"raw_rules.{t}.void: {column} has no types or vocab rule")
        for name, columns in row_level.items():
            if column in columns:
                raise RuleSpecError(f"raw_rules.{t}.void: {column} is also in {name}; a "
                                    "field a row rule reads cannot be voided")


def parse_rules(variables: dict[str, Any]) -> RuleSpec:
    """The RuleSpec of dbt vars (a dict as in dbt_project.yml `vars`)."""
    tables = {}
    for name, spec in variables["raw_rules"].items():
        vocab_names = dict(spec.get("vocab", {}))
        rules = TableRules(
            table=name,
            key=tuple(spec["key"]),
            near_duplicate=tuple(spec.get("near_duplicate", ())),
            required=tuple(spec.get("required", ())),
            types=dict(spec.get("types", {})),
            ranges=tuple(RangeRule(r["column"], r.get("min"), r.get("max"))
                         for r in spec.get("ranges", ())),
            order=tuple(_order(o) for o in spec.get("order", ())),
            vocab={c: tuple(variables[v]) for c, v in vocab_names.items()},
            not_future=tuple(spec.get("not_future", ())),
            plausible=tuple(spec.get("plausible", ())),
            orphans=tuple(OrphanRule(o["column"], o["parent"], o["parent_column"])
                          for o in spec.get("orphans", ())),
            personal=tuple(spec.get("personal", ())),
            void=tuple(spec.get("void", ())),
            vocab_names=vocab_names,
        )
        _check_void(rules)
        tables[name] = rules
    return RuleSpec(tables=tables, reject_reasons=tuple(variables["reject_reasons"]))


def load_rules(path: Path = DBT_PROJECT_YML) -> RuleSpec:
    """The rule spec of the dbt project (the one loader; tests and suites call this)."""
    with open(path) as fh:
        return parse_rules(yaml.safe_load(fh)["vars"])


@lru_cache(maxsize=1)
def _project_rules() -> RuleSpec:
    return load_rules()


def allowed_values(table: str, column: str) -> tuple[str, ...] | None:
    """The values `table.column` of the raw contract accepts (None: not categorical)."""
    return _project_rules().allowed_values(table, column)
