"""The one log of hiring decisions, `monitoring.hiring_decisions`: a person's decision on a
candidate, beside the score it answers.

The model never decides: its band (advance / review / hold) never says reject, and every
decision here names who made it (`decided_by`). Rows come from the simulated quarters
(source 'simulation', orchestration/quarters.py), and from a person through the CLI ('cli')
or the interview tool's HTTP API ('http'). Only the candidate's pseudonym is kept (the
feature store's and the scoring log's key), never the HR system's id; `request_id` joins a
decision to its row of `monitoring.scoring_log`. Append-only: a changed mind is a new row.
A simulated row's `request_id` is unique, so a simulated quarter run again adds nothing; a
person's decision carries its own `entry_id` (a UUID made when it was taken), so a decision
ingested twice from the endpoint's decision log is one row, while a second decision on the
same score is a second row.

A person is named by a staff handle (`j.smith`, a login), recorded as given: the decision
must say who took it (GDPR Art. 22(3), EU AI Act Art. 14), and a handle is not what the
personal-data scan looks for (candidates' and employees' full names, national ids, emails,
phones). A full name (spaces), an email, a phone or an id-like code is refused in the
reviewer, and email, phone and id shapes are refused in the reason, so neither carries a
person's data out of `raw`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from hris.personal_values import looks_personal
from hris.simulator.recruiter import DECISIONS

SOURCES = ("simulation", "cli", "http")
PERSON_SOURCES = ("cli", "http")  # a person's own decision: a staff handle, checked reasons
BANDS = ("advance", "review", "hold")
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_REASON_CHARS = 2000


def published_rules() -> tuple[tuple[str, ...], str, int]:
    """The decision vocabulary, the reviewer handle's pattern and the reason's length limit,
    as the endpoint's published contract states them (ml.decision_route.add_decision_route:
    ml does not import monitoring, so the rules are handed over from here)."""
    return DECISIONS, HANDLE.pattern, MAX_REASON_CHARS

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
    decision            text NOT NULL CHECK (decision IN ({decisions})),
    decided_by          text NOT NULL,
    reason              text NOT NULL,
    source              text NOT NULL CHECK (source IN ('simulation', 'cli', 'http')),
    quarter             text,
    as_of               date,
    decided_at          timestamptz NOT NULL DEFAULT now(),
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
DO $$
BEGIN
    -- a person's own id for each decision (added to logs made before it existed)
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'monitoring'
                   AND table_name = 'hiring_decisions' AND column_name = 'entry_id') THEN
        ALTER TABLE monitoring.hiring_decisions ADD COLUMN entry_id text;
    END IF;
    -- the first index made every (source, request_id) unique: a person's second decision
    -- on one score would have been dropped; only simulated rows are unique per score now
    IF to_regclass('monitoring.hiring_decisions__request') IS NOT NULL THEN
        DROP INDEX monitoring.hiring_decisions__request;
    END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS hiring_decisions__simulated_request
    ON monitoring.hiring_decisions (request_id)
    WHERE source = 'simulation' AND request_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS hiring_decisions__entry
    ON monitoring.hiring_decisions (entry_id) WHERE entry_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS hiring_decisions__candidate
    ON monitoring.hiring_decisions (candidate_pseudonym);
COMMENT ON TABLE monitoring.hiring_decisions IS 'Every hiring decision a person made, '
    'with the score it answers (request_id joins monitoring.scoring_log); append-only.';
""".format(decisions=", ".join(f"'{d}'" for d in DECISIONS))
COLUMNS = ("candidate_pseudonym", "role_family", "model_version", "probability", "band",
           "request_id", "decision", "decided_by", "reason", "source", "quarter", "as_of",
           "decided_at", "entry_id")
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
    entry_id: str | None = None

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
        if self.source in PERSON_SOURCES:
            problems = person_problems(self.decided_by, self.reason)
            if problems:
                raise ValueError("; ".join(problems))


def person_problems(reviewer: object, reason: object) -> list[str]:
    """What is wrong with a person's reviewer and reason (empty: nothing), in words that
    say what to send instead. The one check of the CLI and the HTTP route."""
    problems = []
    if not isinstance(reviewer, str) or not HANDLE.fullmatch(reviewer) or looks_personal(
            reviewer):
        problems.append("reviewer must be the reviewer's staff handle or login (letters, "
                        "digits, '.', '_', '-', up to 64 characters, e.g. j.smith): not a "
                        "full name, an email or a phone number")
    if not isinstance(reason, str) or not reason.strip():
        problems.append("reason must say why, in words (it is shown to the candidate who "
                        "asks)")
    elif len(reason) > MAX_REASON_CHARS:
        problems.append(f"reason may hold at most {MAX_REASON_CHARS} characters")
    elif looks_personal(reason):
        problems.append("reason must not hold an email address, a phone number or an id "
                        "(personal data never leaves the HR system): describe, don't quote")
    return problems


def ensure_schema(cursor) -> None:
    """Create the table and its indexes (idempotent)."""
    cursor.execute(DDL)


def append_decisions(cursor, decisions: Iterable[HiringDecision]) -> int:
    """Append decisions (inside the caller's transaction); returns rows added. A simulated
    decision whose request_id is logged already, or a person's whose entry_id is, is
    skipped."""
    ensure_schema(cursor)
    added = 0
    values = ", ".join("coalesce(%s, now())" if c == "decided_at" else "%s" for c in COLUMNS)
    for d in decisions:
        cursor.execute(
            f"INSERT INTO monitoring.hiring_decisions ({', '.join(COLUMNS)}) VALUES "
            f"({values}) ON CONFLICT DO NOTHING",
            [getattr(d, c) for c in COLUMNS])
        added += cursor.rowcount
    return added


def read_decisions(cursor, source: str | None = None, candidate_pseudonym: str | None = None
                   ) -> pd.DataFrame:
    """Every decision (of `source`, of one candidate, if given), oldest first."""
    ensure_schema(cursor)
    conditions = [(c, v) for c, v in (("source", source),
                                      ("candidate_pseudonym", candidate_pseudonym)) if v]
    where = ("WHERE " + " AND ".join(f"{c} = %s" for c, _ in conditions)) if conditions else ""
    args = [v for _, v in conditions]
    cursor.execute(f"SELECT decision_id, {', '.join(COLUMNS)}, recorded_at FROM "
                   f"monitoring.hiring_decisions {where} ORDER BY decision_id", args)
    names = [c.name for c in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=names)


SCORE_COLUMNS = ("model_version", "probability", "band", "request_id", "scored_at",
                 "input_hash")


def score_answered(cursor, candidate_pseudonym: str, request_id: str | None = None,
                   before: dt.datetime | None = None) -> dict | None:
    """The score a person's decision answers: the candidate's score with `request_id` when
    given, else the candidate's latest score (scored no later than `before`, if given), from
    monitoring.scoring_log; None when the log holds none. Keys SCORE_COLUMNS."""
    cursor.execute("SELECT to_regclass('monitoring.scoring_log') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    conditions, args = ["candidate_pseudonym = %s"], [candidate_pseudonym]
    if request_id is not None:
        conditions.append("request_id = %s")
        args.append(request_id)
    if before is not None:
        conditions.append("scored_at <= %s")
        args.append(before)
    cursor.execute(f"SELECT {', '.join(SCORE_COLUMNS)} FROM monitoring.scoring_log WHERE "
                   f"{' AND '.join(conditions)} ORDER BY scored_at DESC, score_id DESC "
                   "LIMIT 1", args)
    row = cursor.fetchone()
    return None if row is None else dict(zip(SCORE_COLUMNS, row, strict=True))


def role_family_of(cursor, candidate_pseudonym: str) -> str | None:
    """The candidate's role family in the feature store (None: not in it, or not built)."""
    cursor.execute("SELECT to_regclass('marts.dim_candidates') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT role_family FROM marts.dim_candidates WHERE candidate_id = %s "
                   "LIMIT 1", [candidate_pseudonym])
    row = cursor.fetchone()
    return None if row is None else row[0]
