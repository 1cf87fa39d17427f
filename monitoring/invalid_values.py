"""For rows quarantined as `invalid_value`: which column, how many, and the allowed values.

"Choose one of the allowed values" helps only beside the values; they come from the one
rule spec the checks and staging use (monitoring.data_quality.rules). The offending
values are not shown: a vocabulary column may hold personal data.
"""

from __future__ import annotations

import pandas as pd

from ml.datasets import read_frame
from monitoring.data_quality.rules import RuleSpec, load_rules

REASON = "invalid_value"


def invalid_value_columns(conn, rules: RuleSpec | None = None) -> pd.DataFrame:
    """Per table and column: rows quarantined as invalid_value and the allowed values."""
    rules = rules or load_rules()
    rows = []
    for table, spec in rules.tables.items():
        counts = read_frame(conn, f"""
            SELECT reject_column AS "column", count(*) AS rows
            FROM quarantine.quarantine_{table} WHERE reject_reason = %s
            GROUP BY 1 ORDER BY 1""", [REASON])
        for r in counts.itertuples(index=False):
            allowed = spec.vocab.get(str(r.column))
            rows.append((table, r.column, int(r.rows),
                         ", ".join(allowed) if allowed else "(no vocabulary rule)"))
    return pd.DataFrame(rows, columns=["table", "column", "rows", "allowed values"])


def format_invalid_values(frame: pd.DataFrame) -> str:
    """The terminal view; empty when no row was quarantined as invalid_value."""
    if frame.empty:
        return ""
    return ("== invalid_value: the allowed values (map others with an import profile) ==\n"
            + frame.to_string(index=False))
