"""The scoring endpoint over real HTTP (loopback): `mlflow models serve` of `@champion`.

One server per module: the pyfunc is logged to a PostgreSQL-backed MLflow, registered,
promoted and served from a clean process; then valid, bad and extra-field payloads go over
HTTP. Every bad payload must end in a 4xx that names the problem, never a 5xx.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from ml.promotion import promote
from ml.pyfunc_model import INFERENCE_LOG_ENV, OUTPUT_COLUMNS, log_pyfunc
from ml.registry import MODEL_NAME, register_version
from ml.serving import ServeSpec
from monitoring.scoring_log import ingest_inference_log
from orchestration.services import EndpointProcess
from orchestration.supervisor import Supervisor
from tests.ml.model_fixture import trained_model
from tests.ml.test_pyfunc import valid_rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Endpoint:
    host: str
    port: int
    version: str
    log: Path
    model: object

    def post(self, body: bytes | str, content_type: str = "application/json"
             ) -> tuple[int, str]:
        data = body.encode() if isinstance(body, str) else body
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request("POST", "/invocations", body=data,
                         headers={"Content-Type": content_type})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def score(self, frame: pd.DataFrame) -> tuple[int, str]:
        return self.post(records(frame))


def records(frame: pd.DataFrame) -> str:
    """dataframe_records JSON; NaN and None both become null (allow_nan for NaN tests)."""
    rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]
    return json.dumps({"dataframe_records": rows})


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name} in the response")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def endpoint(mlflow_target, tmp_path_factory, feature_store):
    model = trained_model(feature_store)
    with mlflow.start_run() as run:
        log_pyfunc(model, "model", model_name=MODEL_NAME)
    version = register_version(mlflow_target.client, run.info.run_id, "model")
    promote(mlflow_target.client, version.version, actor="test", why="endpoint test")
    folder = tmp_path_factory.mktemp("endpoint")
    log = folder / "inference" / "online.jsonl"
    spec = ServeSpec(tracking_uri=mlflow_target.tracking_uri, port=free_port(),
                     extra_env={INFERENCE_LOG_ENV: str(log)})
    process = EndpointProcess(Supervisor(folder), spec, ready_timeout_s=120)
    # Start from an empty folder: the server must import `ml` from the model's own code.
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        process.start(served_version=str(version.version))
    finally:
        os.chdir(cwd)
    try:
        yield Endpoint(spec.host, spec.port, str(version.version), log, model)
    finally:
        process.stop()


def test_valid_payload_answers_200_with_every_field(endpoint):
    rows = valid_rows(endpoint.model, 6)
    rows.loc[3, "request_id"] = None
    status, text = endpoint.score(rows)
    assert status == 200, text
    preds = strict_json(text)["predictions"]
    assert len(preds) == 6
    for pred in preds:
        assert set(pred) == set(OUTPUT_COLUMNS)
        assert 0.0 <= pred["probability"] <= 1.0
        assert pred["score"] == pytest.approx(100 * pred["probability"])
        assert pred["band"] in {"advance", "review", "hold"}
        assert pred["model_version"] == endpoint.version
        assert pred["reasons"] and len(pred["reasons"].split("; ")) <= 3
    assert [p["request_id"] for p in preds[:3]] == ["req-0", "req-1", "req-2"]
    assert len(preds[3]["request_id"]) == 32


def test_served_prediction_equals_in_process(endpoint):
    rows = valid_rows(endpoint.model, 8, seed=5)
    status, text = endpoint.score(rows)
    assert status == 200, text
    served = pd.DataFrame(strict_json(text)["predictions"])
    local = pd.DataFrame(mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion").predict(rows))
    np.testing.assert_allclose(served["probability"], local["probability"], rtol=0, atol=1e-12)
    for col in ("request_id", "band", "reasons", "model_version"):
        assert served[col].tolist() == local[col].tolist()


def test_extra_field_is_ignored(endpoint):
    rows = valid_rows(endpoint.model, 3, seed=2)
    _, plain = endpoint.score(rows)
    status, text = endpoint.score(rows.assign(shoe_size=44.0, favourite_colour="green"))
    assert status == 200, text
    assert strict_json(text) == strict_json(plain)


def _sales(endpoint, request_id: str) -> dict:
    rows = valid_rows(endpoint.model, 4, seed=9)
    row = rows[rows["role_family"] == "sales"].iloc[0].dropna().to_dict()
    row["request_id"] = request_id
    return row


def _score_field(endpoint) -> str:
    return next(c for c in endpoint.model.families["sales"].required
                if c.startswith("interviewer_"))


def _bad_payloads(endpoint) -> list[tuple[str, str, str, list[str]]]:
    """(case, body, content type, fragments the error message must contain)."""
    rid = f"bad-{uuid.uuid4().hex[:8]}"
    good = _sales(endpoint, rid)
    score = _score_field(endpoint)
    missing = {k: v for k, v in good.items() if k != score}

    def body(*rows: dict, allow_nan: bool = False) -> str:
        return json.dumps({"dataframe_records": list(rows)}, allow_nan=allow_nan)

    json_ct = "application/json"
    return [
        ("missing required field", body(missing), json_ct,
         [f"row 0: missing required field '{score}'"]),
        ("wrong type", body({**good, score: "excellent"}), json_ct, [score, "excellent"]),
        ("null", body({**good, score: None}), json_ct, [f"row 0: required field '{score}'"]),
        ("NaN", body({**good, score: float("nan")}, allow_nan=True), json_ct,
         [f"row 0: required field '{score}' is null"]),
        ("out-of-range score", body(good, {**good, score: 11}), json_ct,
         [f"row 1: field '{score}' = 11 is out of range"]),
        ("negative response time", body({**good, "mean_response_seconds": -5}), json_ct,
         ["row 0: field 'mean_response_seconds' = -5 is out of range"]),
        ("rating below 1", body({**good, "overall_rating_mean": 0}), json_ct,
         ["row 0: field 'overall_rating_mean' = 0 is out of range"]),
        ("unknown role family", body(good, good, {**good, "role_family": "astronaut"}), json_ct,
         ["row 2: field 'role_family' = 'astronaut' is not a known role family"]),
        ("null role family", body({**good, "role_family": None}), json_ct,
         ["row 0: field 'role_family' is null"]),
        ("no role family", body({k: v for k, v in good.items() if k != "role_family"}),
         json_ct, ["role_family"]),
        ("request id not a string", body({**good, "request_id": 42}), json_ct,
         ["row 0: field 'request_id' must be a string"]),
        # rater_ids reaches the pyfunc through MLflow's signature (unknown columns would be
        # dropped silently): a malformed one is refused by name
        ("bad rater ids", body(good, {**good, "rater_ids": "E0000001"}), json_ct,
         ["row 1: field 'rater_ids'", "not an interviewer pseudonym"]),
        ("empty body", "", json_ct, ["valid JSON"]),
        ("malformed JSON", '{"dataframe_records": [{"role_family": "sales",', json_ct,
         ["valid JSON"]),
        ("huge batch", body(*[good] * 1001), json_ct,
         ["batch of 1001 rows exceeds the maximum of 1000"]),
        ("wrong top-level key", json.dumps({"data": [good]}), json_ct,
         ["exactly one of the input fields", "dataframe_records"]),
        ("top-level list", json.dumps([good]), json_ct, ["Received a list"]),
        ("no rows", body(), json_ct, ["role_family"]),
        ("wrong content type", body(good), "text/plain", ["content types"]),
    ]


def test_bad_payloads_answer_4xx_naming_the_problem(endpoint):
    cases = _bad_payloads(endpoint)
    assert len(cases) >= 10
    lines_before = endpoint.log.read_text().count("\n") if endpoint.log.exists() else 0
    answers = {}
    for case, body, content_type, fragments in cases:
        status, text = endpoint.post(body, content_type)
        answers[case] = status
        assert 400 <= status < 500, f"{case}: {status} {text[-400:]}"
        message = text
        if content_type == "application/json":
            error = strict_json(text)
            assert error["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"), case
            message = error["message"]
        for fragment in fragments:
            assert fragment in message, f"{case}: {fragment!r} not in {message[-400:]!r}"
    assert all(s == 400 for c, s in answers.items() if c != "wrong content type")
    # nothing refused was scored or logged
    lines_after = endpoint.log.read_text().count("\n") if endpoint.log.exists() else 0
    assert lines_after == lines_before


def test_online_scores_land_in_the_inference_log_and_scoring_log(endpoint, pg_server):
    rows = valid_rows(endpoint.model, 3, seed=11)
    rows["request_id"] = [f"log-{uuid.uuid4().hex[:8]}-{i}" for i in range(3)]
    status, text = endpoint.score(rows)
    assert status == 200, text
    preds = {p["request_id"]: p for p in strict_json(text)["predictions"]}
    lines = [json.loads(x) for x in endpoint.log.read_text().splitlines()]
    logged = {x["request_id"]: x for x in lines if x["request_id"] in preds}
    assert set(logged) == set(preds)
    for rid, pred in preds.items():
        assert logged[rid]["probability"] == pred["probability"]
        assert logged[rid]["band"] == pred["band"]
        assert logged[rid]["model_version"] == endpoint.version
        assert len(logged[rid]["input_hash"]) == 64

    database = pg_server.create_database("scoring_log")
    conn = pg_server.endpoint.connect(database)
    try:
        with conn, conn.cursor() as cur:
            result = ingest_inference_log(cur, endpoint.log)
        assert result.added == len(lines) and result.rejected == 0
        with conn.cursor() as cur:
            cur.execute(
                "SELECT request_id, model_version, probability, band, source "
                "FROM monitoring.scoring_log WHERE request_id = ANY(%s)", [list(preds)])
            found = {r[0]: r[1:] for r in cur.fetchall()}
    finally:
        conn.close()
    assert set(found) == set(preds)
    for rid, (version, probability, band, source) in found.items():
        assert (version, band, source) == (endpoint.version, preds[rid]["band"], "online")
        assert probability == pytest.approx(preds[rid]["probability"])
