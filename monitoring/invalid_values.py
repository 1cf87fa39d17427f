"""For `invalid_value`: which column, how many, what it did, and the allowed values.

"Choose one of the allowed values" helps only beside the values; they come from the one
rule spec the checks and staging use (monitoring.data_quality.rules). A bad value of a
column that decides the row quarantines it; one of a descriptive column (the spec's `void`)
only voids that field, the row kept (quarantine.field_defects): both are listed, with what
they did. The offending values are not shown: a vocabulary column may hold personal data.
"""

from __future__ import annotations

import pandas as pd

from monitoring.data_quality.rules import RuleSpec, load_rules
from monitoring.data_quality_report import DataQualitySummary

REASON = "invalid_value"
QUARANTINED, VOIDED = "row quarantined", "field voided, row kept"


def invalid_value_columns(summary: DataQualitySummary,
                          rules: RuleSpec | None = None) -> pd.DataFrame:
    """Per table and column: rows quarantined or fields voided as invalid_value (`effect`),
    and the allowed values; counted from the summary the steward page is made of (no
    second pass over the quarantine)."""
    rules = rules or load_rules()
    quarantined = _rows_per_column(summary.invalid_values, "rows")
    defects = summary.field_defects
    voided = _rows_per_column(
        None if defects is None else defects[defects["reason"] == REASON], "fields")
    rows = []
    for table, spec in rules.tables.items():
        found = [(QUARANTINED, c, n) for (t, c), n in quarantined.items() if t == table]
        found += [(VOIDED, c, n) for (t, c), n in voided.items() if t == table]
        for effect, column, n in found:
            allowed = spec.vocab.get(str(column))
            rows.append((table, column, n, effect,
                         ", ".join(allowed) if allowed else "(no vocabulary rule)"))
    return pd.DataFrame(rows, columns=["table", "column", "rows", "effect", "allowed values"])


def _rows_per_column(frame: pd.DataFrame | None, count: str) -> dict[tuple[str, str], int]:
    """{(table, column): summed `count`}, sorted by table and column."""
    if frame is None or frame.empty:
        return {}
    sums = frame.groupby(["table", "column"], sort=True)[count].sum()
    return {key: int(n) for key, n in sums.items()}


def format_invalid_values(frame: pd.DataFrame) -> str:
    """The terminal view; empty when no value was invalid."""
    if frame.empty:
        return ""
    return ("== invalid_value: the allowed values (map others with an import profile) ==\n"
            + frame.to_string(index=False))
