"""The endpoint's decision log (ml/decision_route.py) ingested into monitoring.hiring_decisions.

Each line is a person's decision the interview tool sent (`POST /candidates/decision`),
already pseudonymised by the endpoint. Ingestion joins it to the score it answers, which the
same pass has just ingested from the inference log: the score with the line's request id,
else the candidate's latest score no later than the decision. As with the inference log the
offset reached is stored with the rows in the caller's transaction, and each decision's
`entry_id` is unique, so a second pass adds nothing. A line that cannot be recorded (not
JSON, a field that fails the decision checks, no score to answer) is kept in
monitoring.scoring_log_rejects with the reason, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from monitoring.hiring_decisions import (
    BANDS,
    HiringDecision,
    append_decisions,
    role_family_of,
    score_answered,
)
from monitoring.scoring_log import ensure_schema, read_offset, reject_line, store_offset


@dataclass(frozen=True)
class DecisionIngest:
    """What one pass over the decision log did."""

    added: int
    duplicates: int
    rejected: int
    offset: int


def _decision(cursor, record: Any) -> HiringDecision:
    """The line as a decision beside its score; ValueError says why it cannot be one."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    try:
        at = datetime.fromisoformat(str(record.get("decided_at")))
    except ValueError as exc:
        raise ValueError("decided_at is not ISO 8601") from exc
    who = str(record.get("candidate_pseudonym") or "")
    request_id = record.get("request_id")
    score = score_answered(cursor, who, request_id, before=None if request_id else at)
    if score is None:
        raise ValueError("no score of this candidate in monitoring.scoring_log"
                         + (" with this request id" if request_id else " before the decision")
                         + ": the interview tool decided on a candidate hireloop never "
                           "scored; score them (POST /candidates/score) and send it again")
    return HiringDecision(
        candidate_pseudonym=who, decision=record.get("decision"),
        decided_by=record.get("decided_by"), reason=record.get("reason"), source="http",
        role_family=role_family_of(cursor, who), model_version=score["model_version"],
        probability=float(score["probability"]),
        band=score["band"] if score["band"] in BANDS else None,
        request_id=score["request_id"], decided_at=at, entry_id=record.get("entry_id"))


def ingest_decision_log(cursor, path: Path) -> DecisionIngest:
    """Append the decision log's new complete lines to monitoring.hiring_decisions; the
    caller ingests the inference log first (same transaction) and commits."""
    ensure_schema(cursor)
    key = str(Path(path).resolve())
    offset = read_offset(cursor, key)
    if not Path(path).exists():
        return DecisionIngest(0, 0, 0, offset)
    if Path(path).stat().st_size < offset:
        offset = 0
    added = parsed = rejected = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # still being written
            line_at, offset = offset, offset + len(raw)
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                decision = _decision(cursor, json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                rejected += reject_line(cursor, key, line_at, line, "not UTF-8 JSON")
                continue
            except (ValueError, TypeError, AttributeError) as exc:
                rejected += reject_line(cursor, key, line_at, line, str(exc))
                continue
            parsed += 1
            added += append_decisions(cursor, [decision])
    store_offset(cursor, key, offset)
    return DecisionIngest(added, parsed - added, rejected, offset)
