"""A person's hiring decision, recorded beside the score it answers (`hireloop decide`).

The reviewer names the candidate by the HR system's id; the log keeps only the pseudonym
(hris.pseudonym with the installation's key), and the score the decision answers is looked
up in monitoring.scoring_log: the candidate's latest score, or the one with the request id
the interview tool was answered with. A decision on a candidate hireloop never scored is
refused with what to do: the model's score is what a person is deciding beside, and the
model never decides alone (its band never says reject).
"""

from __future__ import annotations

import uuid

from hris.pseudonym import pseudonym
from monitoring.hiring_decisions import (
    BANDS,
    DECISIONS,
    HiringDecision,
    append_decisions,
    person_problems,
    role_family_of,
    score_answered,
)


class DecisionRefused(ValueError):
    """A decision that cannot be recorded; the message says what to do."""


def check_decision(decision: object, reviewer: object, reason: object) -> list[str]:
    """Every problem with a person's decision, reviewer and reason (empty: none)."""
    problems = [] if decision in DECISIONS else [
        f"decision must be one of {', '.join(DECISIONS)}"]
    return problems + person_problems(reviewer, reason)


def record_decision(cursor, key: bytes, candidate_id: str, decision: str, reviewer: str,
                    reason: str, *, source: str = "cli", request_id: str | None = None
                    ) -> HiringDecision:
    """Append one person's decision on the HR system's `candidate_id` to the decision log,
    beside the score it answers (the caller commits). DecisionRefused says why not."""
    problems = check_decision(decision, reviewer, reason)
    if not candidate_id or not candidate_id.strip():
        problems.insert(0, "name the candidate by the HR system's candidate id")
    if problems:
        raise DecisionRefused("; ".join(problems))
    who = pseudonym(key, candidate_id)
    score = score_answered(cursor, who, request_id)
    family = role_family_of(cursor, who)
    if score is None:
        if request_id is not None:
            raise DecisionRefused(
                f"candidate {candidate_id} has no score with request id {request_id!r} in "
                "monitoring.scoring_log: check the id the endpoint answered with, or leave "
                "--request-id out to decide beside the latest score")
        if family is None:
            raise DecisionRefused(
                f"no candidate {candidate_id} is known to hireloop (not in the feature store, "
                "never scored): check that it is the HR system's candidate id, and import "
                "the export that holds the candidate (hireloop import) or score them "
                "through the endpoint (POST /candidates/score)")
        raise DecisionRefused(
            f"candidate {candidate_id} has not been scored yet: score them first (the "
            "interview tool's POST /candidates/score, or hireloop build's batch scores), "
            "then decide beside the score")
    made = HiringDecision(
        candidate_pseudonym=who, decision=decision, decided_by=reviewer, reason=reason,
        source=source, role_family=family, model_version=score["model_version"],
        probability=float(score["probability"]),
        band=score["band"] if score["band"] in BANDS else None,
        request_id=score["request_id"], entry_id=str(uuid.uuid4()))
    append_decisions(cursor, [made])
    return made
