"""`POST /candidates/decision`: a person's hiring decision, sent by the interview tool.

Body: `{"candidate_id": "<the HR system's id>", "decision": "advance", "reviewer": "j.smith",
"reason": "...", "request_id": "<optional: the score it answers>"}`. The endpoint checks it
(the decision vocabulary, a staff handle, a reason with no personal data: the checks of
`hireloop decide`, handed in by ml.scoring_app from monitoring), pseudonymises the candidate
with the installation's key, and appends one line to the decision log, a JSON-lines file
beside the inference log (`decisions.jsonl`). The answer is 202: accepted, with the
decision's own `entry_id`.

Why a file, not the database: the endpoint has no database connection by design (scores
reach monitoring.scoring_log the same way, through the inference log), so it needs no
credentials and the least-privilege roles gain no writer. The decision log is ingested
with the inference log (orchestration's `inference_log_ingest`, monitoring.decision_log):
scores first, so the decision joins the score it answers (by request id, else the
candidate's latest score before the decision) in monitoring.hiring_decisions. A line whose
score cannot be found is kept in monitoring.scoring_log_rejects with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.pyfunc_model import append_inference_log
from ml.scoring_input import Problem

DECISION_PATH = "/candidates/decision"
DECISION_LOG_NAME = "decisions.jsonl"
FIELDS = ("candidate_id", "decision", "reviewer", "reason", "request_id")
MAX_ID_CHARS = 128
Check = Callable[[object, object, object], list[str]]  # (decision, reviewer, reason)


def decision_log_path(inference_log: Path) -> Path:
    """The decision log: beside the inference log (one folder the scan and ingest read)."""
    return Path(inference_log).with_name(DECISION_LOG_NAME)


class DecisionRefused(Exception):
    """A refused decision request: HTTP status, error code, message and the problems."""

    def __init__(self, status: int, code: str, message: str, problems: list[Problem]):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems


class DecisionRoute:
    """Checks a decision, pseudonymises its candidate and appends it to the decision log."""

    def __init__(self, log_path: Path | None, pseudonymise: Callable[[str], str] | None,
                 check: Check, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.log_path, self.pseudonymise, self.check, self.now = (
            log_path, pseudonymise, check, now)

    def handle(self, data: Any) -> dict[str, Any]:
        if self.pseudonymise is None:
            raise DecisionRefused(503, "SERVICE_UNAVAILABLE", "the endpoint was started "
                                  "without the pseudonym key: it cannot read the HR "
                                  "system's ids (start it with hireloop ui, or pass "
                                  "--pseudonym-key-file)", [])
        if self.log_path is None:
            raise DecisionRefused(503, "SERVICE_UNAVAILABLE", "the endpoint has no inference "
                                  "log (HIRELOOP_INFERENCE_LOG), so no decision log beside "
                                  "it: start it with hireloop serve", [])
        problems = self._problems(data)
        if problems:
            raise DecisionRefused(400, "INVALID_PARAMETER_VALUE", "the decision was not "
                                  "recorded: " + "; ".join(p.message for p in problems),
                                  problems)
        entry = {"entry_id": str(uuid.uuid4()),
                 "candidate_pseudonym": self.pseudonymise(data["candidate_id"]),
                 "decision": data["decision"], "decided_by": data["reviewer"],
                 "reason": data["reason"], "request_id": data.get("request_id"),
                 "decided_at": self.now().isoformat()}
        append_inference_log(self.log_path, [entry])  # the same locked, one-write append
        return {"status": "accepted", "entry_id": entry["entry_id"],
                "decided_at": entry["decided_at"],
                "message": "recorded in the decision log; it joins the score it answers in "
                           "monitoring.hiring_decisions when the logs are ingested"}

    def _problems(self, data: Any) -> list[Problem]:
        if not isinstance(data, dict):
            return [Problem(None, None, "format", 'the body must be a JSON object: '
                            '{"candidate_id", "decision", "reviewer", "reason"[, '
                            '"request_id"]}')]
        problems = [Problem(None, k, "unknown", f"unknown field {k!r}: send only "
                            f"{', '.join(FIELDS)}") for k in sorted(set(data) - set(FIELDS))
                    if isinstance(k, str)]
        for name in ("candidate_id", "request_id"):
            value = data.get(name)
            if value is None and name == "request_id":
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
                problems.append(Problem(None, name, "required" if value is None else "type",
                                        f"{name} must be a non-empty string of at most "
                                        f"{MAX_ID_CHARS} characters"))
        for message in self.check(data.get("decision"), data.get("reviewer"),
                                  data.get("reason")):
            field = message.split(" ", 1)[0]
            problems.append(Problem(None, field if field in FIELDS else None,
                                    "required" if data.get(field) is None else "format",
                                    message))
        return problems


def add_decision_route(document: dict[str, Any], decisions: tuple[str, ...],
                       reviewer_pattern: str, max_reason_chars: int) -> dict[str, Any]:
    """`document` (the endpoint's OpenAPI) with `POST /candidates/decision` added; the
    rules are handed in (ml does not import monitoring, where they are defined)."""
    text = {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS}
    request = {"type": "object", "additionalProperties": False,
               "required": ["candidate_id", "decision", "reviewer", "reason"],
               "properties": {
                   "candidate_id": {**text, "description": "the HR system's candidate id "
                                    "(pseudonymised by the endpoint, never logged)"},
                   "decision": {"enum": list(decisions)},
                   "reviewer": {"type": "string", "pattern": f"^{reviewer_pattern}$",
                                "description": "the reviewer's staff handle or login"},
                   "reason": {"type": "string", "minLength": 1,
                              "maxLength": max_reason_chars,
                              "description": "why, in words; no email, phone or id"},
                   "request_id": {**text, "description": "the score it answers (default: "
                                  "the candidate's latest score before the decision)"}}}
    accepted = {"type": "object", "required": ["status", "entry_id", "decided_at"],
                "properties": {"status": {"const": "accepted"}, "entry_id": {"type": "string"},
                               "decided_at": {"type": "string", "format": "date-time"},
                               "message": {"type": "string"}}}

    def answer(ref: str, what: str) -> dict[str, Any]:
        return {"description": what, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{ref}"}}}}

    out = {**document, "paths": {**document["paths"]},
           "components": {"schemas": {**document["components"]["schemas"],
                                      "DecisionRequest": request,
                                      "DecisionAccepted": accepted}}}
    out["paths"][DECISION_PATH] = {"post": {
        "operationId": "recordDecision",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/DecisionRequest"}}}},
        "responses": {"202": answer("DecisionAccepted", "recorded in the decision log; joined "
                                    "to the score it answers when the logs are ingested"),
                      "400": answer("Error", "every problem of the decision; nothing "
                                    "recorded"),
                      "415": answer("Error", "not application/json"),
                      "503": answer("Error", "the endpoint has no pseudonym key or no "
                                    "inference log")}}}
    return out
