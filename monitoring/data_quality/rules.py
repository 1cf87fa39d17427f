"""The raw row rules, read from the one spec both sides share: dbt_project.yml vars.

`raw_rules` (per table: key, near_duplicate, required, types, ranges, order, vocab,
not_future, plausible, orphans, personal) and `reject_reasons` are the contract between the
staging quarantine (dbt) and the Great Expectations raw suites; reading them here, never
restating them, is what keeps the two counts in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


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


@dataclass(frozen=True)
class RuleSpec:
    """All tables' rules plus the reject reasons in rule order."""

    tables: dict[str, TableRules]
    reject_reasons: tuple[str, ...]


def _order(entry: dict[str, Any]) -> OrderRule:
    if "before" in entry:
        return OrderRule(entry["column"], entry["before"], strict=True)
    if "not_before" in entry:
        return OrderRule(entry["column"], entry["not_before"], strict=False)
    raise ValueError(f"raw_rules order entry needs 'before' or 'not_before': {entry}")


def parse_rules(variables: dict[str, Any]) -> RuleSpec:
    """The RuleSpec of dbt vars (a dict as in dbt_project.yml `vars`)."""
    tables = {}
    for name, spec in variables["raw_rules"].items():
        tables[name] = TableRules(
            table=name,
            key=tuple(spec["key"]),
            near_duplicate=tuple(spec.get("near_duplicate", ())),
            required=tuple(spec.get("required", ())),
            types=dict(spec.get("types", {})),
            ranges=tuple(RangeRule(r["column"], r.get("min"), r.get("max"))
                         for r in spec.get("ranges", ())),
            order=tuple(_order(o) for o in spec.get("order", ())),
            vocab={c: tuple(variables[v]) for c, v in spec.get("vocab", {}).items()},
            not_future=tuple(spec.get("not_future", ())),
            plausible=tuple(spec.get("plausible", ())),
            orphans=tuple(OrphanRule(o["column"], o["parent"], o["parent_column"])
                          for o in spec.get("orphans", ())),
            personal=tuple(spec.get("personal", ())),
        )
    return RuleSpec(tables=tables, reject_reasons=tuple(variables["reject_reasons"]))


def load_rules(path: Path = DBT_PROJECT_YML) -> RuleSpec:
    """The rule spec of the dbt project (the one loader; tests and suites call this)."""
    with open(path) as fh:
        return parse_rules(yaml.safe_load(fh)["vars"])
