"""The loop's decision log, `monitoring.loop_decisions`: one row per look the loop takes.

Every evaluation of the retraining trigger and every retrain ends in exactly one row:
`no_action` (figures inside the thresholds), `retrained_promoted`, `retrained_kept` (no
challenger beat the champion by more than noise) or `refused` (a challenger stopped for
cause). Reasons are plain sentences naming the figure and its threshold; `figures` holds the
numbers they were computed from, so a reader (or a test) can recompute the decision.
Append-only: a decision is never updated, a later look adds a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DECISIONS = ("no_action", "retrained_promoted", "retrained_kept", "refused")

DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.loop_decisions (
    decision_id     bigserial PRIMARY KEY,
    decided_at      timestamptz NOT NULL DEFAULT now(),
    as_of           date NOT NULL,
    quarter         text NOT NULL,
    decision        text NOT NULL CHECK (decision IN
                        ('no_action', 'retrained_promoted', 'retrained_kept', 'refused')),
    reasons         jsonb NOT NULL,
    figures         jsonb NOT NULL,
    champion_before text,
    champion_after  text,
    run_key         text,
    dagster_run_id  text
);
"""


@dataclass(frozen=True)
class LoopDecision:
    """One decision of the loop, as recorded."""

    as_of: str                  # ISO date of the export the figures come from
    quarter: str                # the quarter looked at, "YYYY-Qn"
    decision: str               # one of DECISIONS
    reasons: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    champion_before: str | None = None
    champion_after: str | None = None
    run_key: str | None = None
    dagster_run_id: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"unknown loop decision {self.decision!r}; expected one of "
                             f"{DECISIONS}")
        if not self.reasons:
            raise ValueError("a loop decision needs at least one reason")


def ensure_schema(cursor) -> None:
    """Create the table (idempotent)."""
    cursor.execute(DDL)


def record_decision(cursor, decision: LoopDecision) -> int:
    """Append one decision; returns its decision_id."""
    ensure_schema(cursor)
    cursor.execute(
        "INSERT INTO monitoring.loop_decisions (as_of, quarter, decision, reasons, figures, "
        "champion_before, champion_after, run_key, dagster_run_id) "
        "VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s) RETURNING decision_id",
        (decision.as_of, decision.quarter, decision.decision, json.dumps(decision.reasons),
         json.dumps(decision.figures, default=float), decision.champion_before,
         decision.champion_after, decision.run_key, decision.dagster_run_id),
    )
    return int(cursor.fetchone()[0])


def read_decisions(cursor) -> pd.DataFrame:
    """Every decision, oldest first (reasons and figures parsed)."""
    ensure_schema(cursor)
    cursor.execute("SELECT decision_id, decided_at, as_of, quarter, decision, reasons, figures, "
                   "champion_before, champion_after, run_key, dagster_run_id "
                   "FROM monitoring.loop_decisions ORDER BY decision_id")
    columns = [d[0] for d in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


__all__ = ["DECISIONS", "LoopDecision", "ensure_schema", "read_decisions", "record_decision"]
