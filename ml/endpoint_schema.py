"""The scoring endpoint's published contract: an OpenAPI 3.1 document (JSON Schema 2020-12).

Generated from the model version's own `InputContract`, the one definition of a valid row
(ml/scoring_input.py), so an integrator reads what the endpoint checks: the fields of
`accepted_fields(contract)` and no other (`additionalProperties: false`), each field's type
and range from its FieldSpec, the role families, what each family requires (`allOf` of
`if`/`then`), the batch limit, the success body and the refusal body. Logged with every
version (`endpoint_schema.json`, by ml.pyfunc_model.log_pyfunc), served at
`GET /openapi.json` and printed by `hireloop endpoint-schema`. Pure: no MLflow here.

`info.version` is the model version; the document's own format is `x-schema-format`, raised
when the document's shape changes (not when a model's fields do).
"""

from __future__ import annotations

from typing import Any

from ml.rater_offsets import MAX_RATERS, RATER_IDS
from ml.reason_details import DIRECTIONS, LOG_ODDS_PLACES, N_REASONS, SIZES, size_rule
from ml.scoring_input import (
    MAX_REQUEST_ID_CHARS,
    REQUEST_ID,
    ROLE_FAMILY,
    FieldSpec,
    InputContract,
    accepted_fields,
)

SCHEMA_FORMAT = "2"  # 2: reason_details
SCHEMA_ARTIFACT = "endpoint_schema.json"
BANDS = ("advance", "review", "hold")  # ml.model.BANDS (a test keeps them equal)
_NULL = {"type": "null"}


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """One field as JSON Schema: null allowed (absent or null where not required)."""
    if spec.kind == "category":
        out: dict[str, Any] = {"type": ["string", "null"], "enum": [*spec.categories, None]}
    else:
        out = {"type": ["integer" if spec.kind == "count" else "number", "null"]}
        if spec.low is not None:
            out["minimum"] = spec.low
        if spec.high is not None:
            out["maximum"] = spec.high
    out["description"] = f"{spec.label or spec.name}: {spec.describe()}"
    return out


def row_schema(contract: InputContract) -> dict[str, Any]:
    """One request row: exactly the accepted fields, role_family required, then per family
    the fields its interviews assess (present and not null)."""
    acc = contract.accepted
    props: dict[str, Any] = {
        ROLE_FAMILY: {"type": "string", "enum": list(contract.families),
                      "description": "the role family the candidate applies for"},
        REQUEST_ID: {"type": ["string", "null"], "maxLength": MAX_REQUEST_ID_CHARS,
                     "description": "the caller's id, returned with the prediction"},
    }
    if acc.rater_ids:
        props[RATER_IDS] = {
            "type": ["string", "null"],
            "description": "comma-separated interviewer pseudonyms (32 lowercase hex "
                           f"characters, at most {MAX_RATERS}); scores are rater-adjusted "
                           "on the server",
        }
    props.update({name: field_schema(spec) for name, spec in acc.specs.items()})
    by_family = [
        {"if": {"properties": {ROLE_FAMILY: {"const": family}}, "required": [ROLE_FAMILY]},
         "then": {"required": list(names),
                  "properties": {n: {"not": _NULL} for n in names}}}
        for family, names in sorted(acc.required.items()) if names
    ]
    out: dict[str, Any] = {"type": "object", "properties": props, "required": [ROLE_FAMILY],
                           "additionalProperties": False}
    if by_family:
        out["allOf"] = by_family
    return out


def _reason() -> dict[str, Any]:
    """One entry of reason_details (ml/reason_details.py), with the words the layer adds."""
    return {"type": "object", "additionalProperties": False,
            "required": ["dimension", "log_odds", "direction", "size", "text"],
            "properties": {
                "dimension": {"type": "string",
                              "description": "the interview dimension or signal, in English "
                                             "(a stable key: e.g. communication)"},
                "log_odds": {"type": "number",
                             "description": "its SHAP contribution to the log-odds of meeting "
                                            f"the KPI, signed, {LOG_ODDS_PLACES} decimals"},
                "direction": {"type": "string", "enum": list(DIRECTIONS),
                              "description": "raises when log_odds >= 0, lowers when < 0"},
                "size": {"type": "string", "enum": list(SIZES), "description": size_rule()},
                "text": {"type": "string",
                         "description": "the reason in plain words in the platform's language "
                                        "(HIRELOOP_LANGUAGE: en or zh), for a recruiter"}}}


def _prediction() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": [REQUEST_ID, "probability", "score", "band", "reasons",
                         "reason_details", "model_version"],
            "properties": {
                REQUEST_ID: {"type": ["string", "null"]},
                "probability": {"type": "number", "minimum": 0, "maximum": 1,
                                "description": "calibrated probability of meeting the "
                                               "role's KPI in the first year"},
                "score": {"type": "number", "minimum": 0, "maximum": 100,
                          "description": "100 x probability"},
                "band": {"type": "string", "enum": list(BANDS)},
                "reasons": {"type": "string",
                            "description": "the three largest contributions (log-odds)"},
                "reason_details": {"type": "array", "maxItems": N_REASONS,
                                   "items": {"$ref": "#/components/schemas/Reason"},
                                   "description": "the same reasons, in the same order "
                                                  "(largest first), one object each"},
                "model_version": {"type": "string"}}}


def _error_body() -> tuple[dict[str, Any], dict[str, Any]]:
    problem = {"type": "object", "additionalProperties": False,
               "required": ["row", "field", "rule", "message"],
               "properties": {"row": {"type": ["integer", "null"], "minimum": 0},
                              "field": {"type": ["string", "null"]},
                              "rule": {"type": "string",
                                       "description": "a stable keyword to branch on"},
                              "message": {"type": "string"}}}
    return {"type": "object", "additionalProperties": False,
            "required": ["error_code", "message", "errors", "error_count"],
            "properties": {"error_code": {"type": "string"}, "message": {"type": "string"},
                           "errors": {"type": "array",
                                      "items": {"$ref": "#/components/schemas/Problem"}},
                           "error_count": {"type": "integer", "minimum": 0}}}, problem


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def endpoint_schema(contract: InputContract, max_rows: int, model_version: str,
                    model_name: str = "hireloop-kpi") -> dict[str, Any]:
    """The OpenAPI 3.1 document of `POST /invocations` for this contract and batch limit."""
    error, problem = _error_body()
    request = {"type": "object", "additionalProperties": False,
               "required": ["dataframe_records"],
               "properties": {"dataframe_records": {
                   "type": "array", "minItems": 1, "maxItems": int(max_rows),
                   "items": {"$ref": "#/components/schemas/Row"}}}}
    refusals = {"400": "a bad request; every problem of every row is listed, nothing scored",
                "408": "the body was not received in time",
                "413": "the body exceeds the size limit; split the batch",
                "415": "the body was not sent as application/json",
                "500": "the endpoint failed; the server log has the detail"}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": f"{model_name} scoring endpoint", "version": str(model_version),
                 "x-schema-format": SCHEMA_FORMAT,
                 "description": "Scores candidates from their aggregated interview "
                                "features. A batch is scored whole or refused whole. The "
                                "body is at most 1 MB (413). The endpoint also reads "
                                "pandas' dataframe_split shape; dataframe_records is the "
                                "documented one. rater_ids entries are checked on the "
                                "server (32 lowercase hex characters each)."},
        "paths": {"/invocations": {"post": {
            "operationId": "score",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Request"}}}},
            "responses": {"200": _json("Response", "one prediction per row, in order"),
                          **{s: _json("Error", d) for s, d in refusals.items()}}}}},
        "components": {"schemas": {
            "Request": request, "Row": row_schema(contract),
            "Response": {"type": "object", "additionalProperties": False,
                         "required": ["predictions"],
                         "properties": {"predictions": {"type": "array",
                                                        "items": _prediction()}}},
            "Reason": _reason(), "Error": error, "Problem": problem}},
        "x-accepted-fields": accepted_fields(contract),
    }


def schema_for(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A standalone JSON Schema (2020-12) of component `name`, references resolvable: what a
    validator needs (`jsonschema.Draft202012Validator(schema_for(doc, "Request"))`)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{name}", "components": document["components"]}


__all__ = ["SCHEMA_ARTIFACT", "SCHEMA_FORMAT", "endpoint_schema", "field_schema",
           "row_schema", "schema_for"]
