"""The published contract of the interview-records routes, added to the endpoint's OpenAPI.

`POST /candidates/score` and `POST /candidates/features` take what an interview tool holds
(ml/interview_records.py checks it); their shape is generated from the record rules the
serving context carries (the raw contract's vocabularies and ranges) and from the limits
of ml.interview_records, so the document and the check cannot drift apart. Pure.
"""

from __future__ import annotations

from typing import Any

from ml import interview_records as ir
from ml.scoring_input import MAX_REQUEST_ID_CHARS, REQUEST_ID, field_spec
from ml.serving_context import RecordRules

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"}
_YEARS = field_spec("years_experience")
_ID = {"type": "string", "minLength": 1, "maxLength": ir.MAX_ID_CHARS}


def _object(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": props}


def _number(low: float, high: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", "minimum": low}
    if high is not None:
        out["maximum"] = high
    return out


def record_schemas(rules: RecordRules, max_candidates: int = ir.MAX_CANDIDATES
                   ) -> dict[str, dict[str, Any]]:
    """The components: CandidatesRequest, Candidate, Interview, Score, Answer, Features."""
    score = _object({"dimension": {"enum": list(rules.dimensions)},
                     "scored_by": {"enum": list(rules.scored_by)},
                     "score": _number(*rules.score_range)},
                    ["dimension", "scored_by", "score"])
    answer = _object({"question_id": {**_ID, "description": "the HR system's question id"},
                      "answered_fully": {"type": "boolean"},
                      "response_seconds": _number(0)},
                     ["question_id", "answered_fully"])
    interview = _object({
        "interview_id": {**_ID, "description": "the interview tool's id (not used in "
                                               "features)"},
        "round": {"enum": list(rules.rounds)},
        "interviewer_id": {**_ID, "description": "the HR system's interviewer id: the "
                                                 "server pseudonymises it and applies the "
                                                 "rater offset in force"},
        "date": {**_DATE, "description": "the interview's day, not in the future"},
        "duration_minutes": _number(0),
        "overall_rating": _number(*rules.rating_range),
        "recommendation": {"enum": list(rules.recommendations)},
        "scores": {"type": "array", "maxItems": ir.MAX_SCORES,
                   "items": {"$ref": "#/components/schemas/Score"},
                   "description": "one score per dimension and scorer"},
        "answers": {"type": "array", "maxItems": ir.MAX_ANSWERS,
                    "items": {"$ref": "#/components/schemas/Answer"},
                    "description": "one answer per question"},
    }, ["round", "date"])
    candidate = _object({
        ir.CANDIDATE_ID: {**_ID, "description": "the interview tool's candidate id: "
                                                "pseudonymised on the server, kept in the "
                                                "scoring log, never returned"},
        REQUEST_ID: {"type": "string", "maxLength": MAX_REQUEST_ID_CHARS,
                     "description": "the caller's id, returned with the prediction"},
        "role_id": {**_ID, "description": "the HR system's id of the role applied for"},
        "application_date": _DATE,
        "education": {"enum": list(rules.education_levels)},
        "years_experience": _number(_YEARS.low, _YEARS.high),
        "interviews": {"type": "array", "minItems": 1, "maxItems": ir.MAX_INTERVIEWS,
                       "items": {"$ref": "#/components/schemas/Interview"}},
    }, [ir.CANDIDATE_ID, "role_id", "application_date", "interviews"])
    request = _object({ir.CANDIDATES: {"type": "array", "minItems": 1,
                                       "maxItems": max_candidates,
                                       "items": {"$ref": "#/components/schemas/Candidate"}}},
                      [ir.CANDIDATES])
    features = {"type": "object", "required": ["features"], "properties": {"features": {
        "type": "array", "description": "per candidate, in order: role_family, education "
                                        "and the feature store's columns (null where the "
                                        "records give no value)",
        "items": {"type": "object"}}}}
    return {"CandidatesRequest": request, "Candidate": candidate, "Interview": interview,
            "Score": score, "Answer": answer, "Features": features}


def add_records_routes(document: dict[str, Any], rules: RecordRules) -> dict[str, Any]:
    """`document` (ml.endpoint_schema.endpoint_schema) with the two records routes added."""
    body = {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/CandidatesRequest"}}}}

    def answer(ref: str, what: str) -> dict[str, Any]:
        return {"description": what, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{ref}"}}}}

    errors = {s: answer("Error", d) for s, d in (
        ("400", "every problem of every candidate (row = candidate, field = its path); "
                "nothing scored"),
        ("413", "the body exceeds the size limit"), ("415", "not application/json"),
        ("503", "the endpoint has no serving context yet (run a build)"))}
    out = {**document, "paths": {**document["paths"]},
           "components": {"schemas": {**document["components"]["schemas"],
                                      **record_schemas(rules)}}}
    out["paths"]["/candidates/score"] = {"post": {
        "operationId": "scoreInterviewRecords", "requestBody": body,
        "responses": {"200": answer("Response", "one prediction per candidate, in order"),
                      **errors}}}
    out["paths"]["/candidates/features"] = {"post": {
        "operationId": "deriveFeatures", "requestBody": body,
        "responses": {"200": answer("Features", "the features the score would use; "
                                                "nothing is scored or logged"), **errors}}}
    return out
