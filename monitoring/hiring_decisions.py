"""The one log of hiring decisions, `monitoring.hiring_decisions`: a person's decision on a
candidate, beside the score it answers.

The model never decides: its band (advance / review / hold) never says reject, and every
decision here names who made it (`decided_by`). Rows come from the simulated quarters
(source 'simulation', orchestration/quarters.py), and from a person through the CLI ('cli')
or the interview tool's HTTP API ('http'). Only the candidate's pseudonym is kept (the
feature store's and the scoring log's key), never the HR system's id; `request_id` joins a
decision to its row of `monitoring.scoring_log`. Append-only: a changed mind is a new row.
A row's `request_id` is unique per source, so a simulated quarter run again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

DECISIONS = ("offer", "reject", "advance", "hold")
SOURCES = ("simulation", "cli", "http")
BANDS = ("advance", "review", "hold")

DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.hiring_decisions (
    decision_id         bigserial PRIMARY KEY,
    candidate_pseudonym text NOT NULL,
    role_family         text,
    model_version       text,
    probability         double precision CHECK (probability BETWEEN 0 AND 1),
    band                text CHECK (band IN ('advance', 'review', 'hold')),
    request_id          text,
    decision            text NOT NULL CHECK (decision IN ('offer', 'reject', 'advance',
                                                            'hold')),
    decided_by          text NOT NULL,
    reason              text NOT NULL,
    source              text NOT NULL CHECK (source IN ('simulation', 'cli', 'http')),
    quarter             text,
    as_of               date,
    decided_at          timestamptz NOT NULL DEFAULT now(),
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS hiring_decisions__request
    ON monitoring.hiring_decisions (source, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS hiring_decisions__candidate
    ON monitoring.hiring_decisions (candidate_pseudonym);
COMMENT ON TABLE monitoring.hiring_decisions IS 'Every hiring decision a person made, '
    'with the score it answers (request_id joins monitoring.scoring_log); append-only.';
"""
COLUMNS = ("candidate_pseudonym", "role_family", "model_version", "probability", "band",
           "request_id", "decision", "decided_by", "reason", "source", "quarter", "as_of",
           "decided_at")
_PSEUDONYM_CHARS = 32  # hris.pseudonym.PSEUDONYM_HEX_CHARS (a test keeps them equal)


@dataclass(frozen=True)
class HiringDecision:
    """One decision, as recorded. `decided_at` None: now (the database's clock)."""

    candidate_pseudonym: str
    decision: str
    decided_by: str
    reason: str
    source: str
    role_family: str | None = None
    model_version: str | None = None
    probability: float | None = None
    band: str | None = None
    request_id: str | None = None
    quarter: str | None = None
    as_of: dt.date | None = None
    decided_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        if self.band is not None and self.band not in BANDS:
            raise ValueError(f"band must be one of {', '.join(BANDS)} (or none)")
        pseudonym = self.candidate_pseudonym
        if len(pseudonym) != _PSEUDONYM_CHARS or any(c not in "0123456789abcdef"
                                                     for c in pseudonym):
            raise ValueError("candidate_pseudonym must be the candidate's pseudonym (32 "
                             "lowercase hex characters), never the HR system's id")
        if not self.decided_by.strip() or not self.reason.strip():
            raise ValueError("a decision needs who decided (decided_by) and why (reason)")


def ensure_schema(cursor) -> None:
    """Create the table and its indexes (idempotent)."""
    cursor.execute(DDL)


def append_decisions(cursor, decisions: Iterable[HiringDecision]) -> int:
    """Append decisions (inside the caller's transaction); returns rows added. A decision
    whose (source, request_id) is logged already is skipped."""
    ensure_schema(cursor)
    added = 0
    for d in decisions:
        cursor.execute(
            f"INSERT INTO monitoring.hiring_decisions ({', '.join(COLUMNS)}) VALUES "
            f"({', '.join(['%s'] * (len(COLUMNS) - 1))}, coalesce(%s, now())) "
            "ON CONFLICT (source, request_id) WHERE request_id IS NOT NULL DO NOTHING",
            [getattr(d, c) for c in COLUMNS])
        added += cursor.rowcount
    return added


def read_decisions(cursor, source: str | None = None) -> pd.DataFrame:
    """Every decision (of `source`, if given), oldest first."""
    ensure_schema(cursor)
    where, args = ("WHERE source = %s", [source]) if source else ("", [])
    cursor.execute(f"SELECT decision_id, {', '.join(COLUMNS)}, recorded_at FROM "
                   f"monitoring.hiring_decisions {where} ORDER BY decision_id", args)
    names = [c.name for c in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=names)
