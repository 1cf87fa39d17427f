"""For `invalid_value`: which column, how many, what it did, and the allowed values.

"Choose one of the allowed values" helps only beside the values; they come from the one
rule spec the checks and staging use (monitoring.data_quality.rules). A bad value of a
column that decides the row quarantines it; one of a descriptive column (the spec's `void`)
only voids that field, the row kept (quarantine.field_defects): both are listed, with what
they did. The offending values are not shown: a vocabulary column may hold personal data.
"""

from __future__ import annotations

import pandas as pd

from ml.datasets import read_frame
from monitoring.data_quality.rules import RuleSpec, load_rules

REASON = "invalid_value"
QUARANTINED, VOIDED = "row quarantined", "field voided, row kept"


def _has_field_defects(conn) -> bool:
    return bool(read_frame(conn, "SELECT to_regclass('quarantine.field_defects') IS NOT NULL "
                                 "AS ok")["ok"].iloc[0])


def invalid_value_columns(conn, rules: RuleSpec | None = None) -> pd.DataFrame:
    """Per table and column: rows quarantined or fields voided as invalid_value (`effect`),
    and the allowed values."""
    rules = rules or load_rules()
    voided = (read_frame(conn, """
        SELECT table_name AS "table", column_name AS "column", count(*) AS rows
        FROM quarantine.field_defects WHERE reason = %s GROUP BY 1, 2""", [REASON])
        if _has_field_defects(conn) else pd.DataFrame(columns=["table", "column", "rows"]))
    rows = []
    for table, spec in rules.tables.items():
        counts = read_frame(conn, f"""
            SELECT reject_column AS "column", count(*) AS rows
            FROM quarantine.quarantine_{table} WHERE reject_reason = %s
            GROUP BY 1 ORDER BY 1""", [REASON])
        found = [(QUARANTINED, r) for r in counts.itertuples(index=False)]
        found += [(VOIDED, r) for r in voided[voided["table"] == table].sort_values(
            "column").itertuples(index=False)]
        for effect, r in found:
            allowed = spec.vocab.get(str(r.column))
            rows.append((table, r.column, int(r.rows), effect,
                         ", ".join(allowed) if allowed else "(no vocabulary rule)"))
    return pd.DataFrame(rows, columns=["table", "column", "rows", "effect", "allowed values"])


def format_invalid_values(frame: pd.DataFrame) -> str:
    """The terminal view; empty when no value was invalid."""
    if frame.empty:
        return ""
    return ("== invalid_value: the allowed values (map others with an import profile) ==\n"
            + frame.to_string(index=False))
