"""The scoring endpoint over real HTTP (loopback): MLflow's scoring app of `@champion` inside
our ASGI layer (ml/scoring_app.py), served by uvicorn.

One server per module: the pyfunc is logged to a PostgreSQL-backed MLflow, registered,
promoted and served from a clean process; then valid, bad and hostile payloads go over
HTTP, with the endpoint's bearer token (made as an installation makes it: Settings). Every
bad payload must end in a 4xx with the structured error body (every problem:
row, field, rule, message) that repeats nothing of the request, never a 5xx.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from ml.endpoint_launch import ServeSpec, command
from ml.http_scoring import score_over_http
from ml.pyfunc_model import (
    INFERENCE_LOG_ENV,
    OUTPUT_COLUMNS,
    contract_of,
    example_input,
)
from ml.registry import MODEL_NAME
from ml.scoring_input import accepted_fields
from monitoring.model_summary import curl_example
from monitoring.scoring_log import ingest_inference_log
from orchestration.config import Settings
from orchestration.services import EndpointProcess
from orchestration.supervisor import Supervisor
from tests.ml.conftest import register_champion
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
    server_log: Path
    token: str | None = None  # the endpoint's bearer token (None: it asks none)
    spec: ServeSpec | None = None
    pid: int | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """One request with exactly `headers` (no token unless they hold it)."""
        data = body.encode() if isinstance(body, str) else body
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                    resp.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def post(self, body: bytes | str, content_type: str | None = "application/json"
             ) -> tuple[int, str]:
        headers = {} if content_type is None else {"Content-Type": content_type}
        status, _, text = self.request("POST", "/invocations", body, {**headers, **self.auth})
        return status, text

    def score(self, frame: pd.DataFrame) -> tuple[int, str]:
        return self.post(records(frame))


def records(frame: pd.DataFrame) -> str:
    """dataframe_records JSON; NaN and None both become null (allow_nan for NaN tests)."""
    rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]
    return json.dumps({"dataframe_records": rows})


READ_TIMEOUT_S = 1.0  # the served endpoint's body read timeout: keeps the slow-body test short
LEAKS = ("Traceback", "site-packages", 'File "', "/tmp/", "/work/", "Failed to predict")


def refusal(status: int, text: str, expected: int = 400) -> dict:
    """The structured error body, checked: its shape, and no stack trace or server path."""
    assert status == expected, text[-600:]
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} in {text[-600:]!r}"
    body = strict_json(text)
    assert set(body) == {"error_code", "message", "errors", "error_count"}, body
    assert body["error_count"] == len(body["errors"]) >= 1
    for problem in body["errors"]:
        assert set(problem) == {"row", "field", "rule", "message"}, problem
        assert problem["message"]
    return body


def problems(body: dict) -> set[tuple]:
    return {(p["row"], p["field"], p["rule"]) for p in body["errors"]}


def log_lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name} in the response")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def endpoint(mlflow_target, tmp_path_factory, feature_store):
    model = trained_model(feature_store)
    version = register_champion(mlflow_target.client, model, "endpoint test")
    folder = tmp_path_factory.mktemp("endpoint")
    log = folder / "inference" / "online.jsonl"
    token_file = Settings(home=folder / "home").endpoint_token_file()
    spec = ServeSpec(tracking_uri=mlflow_target.tracking_uri, port=free_port(),
                     read_timeout_s=READ_TIMEOUT_S, extra_env={INFERENCE_LOG_ENV: str(log)},
                     token_file=str(token_file))
    process = EndpointProcess(Supervisor(folder), spec, ready_timeout_s=120)
    # Start from an empty folder: the server must import `ml` from the model's own code.
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        state = process.start(served_version=version)
    finally:
        os.chdir(cwd)
    try:
        yield Endpoint(spec.host, spec.port, version, log, model,
                       Path(state["log"]), token_file.read_text().strip(), spec, state["pid"])
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


def test_the_layer_answers_what_mlflows_app_answers(endpoint):
    """The layer scores checked rows through the served pyfunc itself, not through MLflow's
    app: its answer must be the one MLflow's app builds from the same body with the same
    pyfunc, with the reasons' words added (en): records with nulls, records with the nulls
    left out, a split body."""
    from mlflow.pyfunc import scoring_server

    from monitoring.reason_text import explainer

    explain = explainer("en")

    rows = valid_rows(endpoint.model, 6, seed=11).assign(
        request_id=[f"same-{i}" for i in range(6)])
    split = rows.astype(object).where(rows.notna(), None).to_dict(orient="split", index=False)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    schema = model.metadata.get_input_schema()
    nulls = json.loads(records(rows))["dataframe_records"]
    absent = [{k: v for k, v in row.items() if v is not None} for row in nulls]
    for body in (records(rows), json.dumps({"dataframe_records": absent}),
                 json.dumps({"dataframe_split": split})):
        status, text = endpoint.post(body)
        assert status == 200, text
        mlflows = scoring_server.invocations(body, "application/json", model, schema)
        assert mlflows.status == 200, mlflows.response
        expected = json.loads(mlflows.response)
        explain(expected["predictions"])
        assert json.loads(text) == expected


def _sales(endpoint, request_id: str) -> dict:
    rows = valid_rows(endpoint.model, 4, seed=9)
    row = rows[rows["role_family"] == "sales"].iloc[0].dropna().to_dict()
    row["request_id"] = request_id
    return row


def _score_field(endpoint) -> str:
    return next(c for c in endpoint.model.families["sales"].required
                if c.startswith("interviewer_"))


def _bad_payloads(endpoint) -> list[tuple[str, str, str, int, set[tuple]]]:
    """(case, body, content type, status, problems (row, field, rule) the body must list)."""
    rid = f"bad-{uuid.uuid4().hex[:8]}"
    good = _sales(endpoint, rid)
    score = _score_field(endpoint)
    missing = {k: v for k, v in good.items() if k != score}

    def body(*rows: dict, allow_nan: bool = False) -> str:
        return json.dumps({"dataframe_records": list(rows)}, allow_nan=allow_nan)

    json_ct = "application/json"
    return [
        ("missing required field", body(missing), json_ct, 400, {(0, score, "required")}),
        ("wrong type", body({**good, score: "excellent"}), json_ct, 400, {(0, score, "type")}),
        ("null", body({**good, score: None}), json_ct, 400, {(0, score, "required")}),
        ("NaN", body({**good, score: float("nan")}, allow_nan=True), json_ct, 400,
         {(None, None, "number")}),
        ("out-of-range score", body(good, {**good, score: 11}), json_ct, 400,
         {(1, score, "range")}),
        ("negative response time", body({**good, "mean_response_seconds": -5}), json_ct, 400,
         {(0, "mean_response_seconds", "range")}),
        ("rating below 1", body({**good, "overall_rating_mean": 0}), json_ct, 400,
         {(0, "overall_rating_mean", "range")}),
        ("unknown role family", body(good, good, {**good, "role_family": "astronaut"}),
         json_ct, 400, {(2, "role_family", "category")}),
        ("null role family", body({**good, "role_family": None}), json_ct, 400,
         {(0, "role_family", "required")}),
        ("no role family", body({k: v for k, v in good.items() if k != "role_family"}),
         json_ct, 400, {(0, "role_family", "required")}),
        ("request id not a string", body({**good, "request_id": 42}), json_ct, 400,
         {(0, "request_id", "type")}),
        ("bad rater ids", body(good, {**good, "rater_ids": "E0000001"}), json_ct, 400,
         {(1, "rater_ids", "format")}),
        ("empty body", "", json_ct, 400, {(None, None, "json")}),
        ("malformed JSON", '{"dataframe_records": [{"role_family": "sales",', json_ct, 400,
         {(None, None, "json")}),
        ("huge batch", body(*[{"role_family": "sales"}] * 1001), json_ct, 400,
         {(None, None, "batch")}),
        ("wrong top-level key", json.dumps({"data": [good]}), json_ct, 400,
         {(None, None, "format")}),
        ("top-level list", json.dumps([good]), json_ct, 400, {(None, None, "format")}),
        ("no rows", body(), json_ct, 400, {(None, None, "batch")}),
        ("wrong content type", body(good), "text/plain", 415, {(None, None, "content_type")}),
    ]


def test_bad_payloads_answer_4xx_listing_every_problem(endpoint):
    """Each bad payload: its status, the structured body naming the problem, none of the
    values sent repeated ("excellent", "astronaut", the request id), nothing logged."""
    cases = _bad_payloads(endpoint)
    lines_before = log_lines(endpoint.log)
    for case, body, content_type, expected, found in cases:
        status, text = endpoint.post(body, content_type)
        error = refusal(status, text, expected)
        assert found <= problems(error), f"{case}: {problems(error)}"
        for echoed in ("excellent", "astronaut", "E0000001", "bad-"):
            assert echoed not in text, f"{case}: {echoed!r} echoed"
    assert log_lines(endpoint.log) == lines_before  # nothing refused was scored or logged


def _optional_field(endpoint) -> str:
    sales = endpoint.model.families["sales"]
    return next(c for c in sales.features if c not in sales.required
                and c.startswith("key_") and c.endswith("_share"))


def test_a_misspelt_optional_field_is_refused_naming_it(endpoint):
    """Dropped silently, a misspelt optional field would change the score: it is refused,
    named, with the field it probably meant."""
    good = _sales(endpoint, "misspelt")
    field = _optional_field(endpoint)
    misspelt = field.replace("answered", "answerd")
    assert misspelt != field
    status, text = endpoint.post(json.dumps({"dataframe_records": [{**good, misspelt: 0.5}]}))
    error = refusal(status, text)
    assert problems(error) == {(0, misspelt, "unknown")}
    assert f"did you mean '{field}'" in error["errors"][0]["message"]


def test_a_protected_attribute_is_refused_with_its_own_rule_and_never_logged(endpoint):
    marker = f"female-{uuid.uuid4().hex[:8]}"
    row = {**_sales(endpoint, "protected"), "gender": marker, "age": 41,
           "birth_date": "1983-04-05", "race_ethnicity": marker}
    before = log_lines(endpoint.log)
    status, text = endpoint.post(json.dumps({"dataframe_records": [row]}))
    error = refusal(status, text)
    assert problems(error) == {(0, f, "protected")
                               for f in ("gender", "age", "birth_date", "race_ethnicity")}
    assert all("protected attribute" in p["message"] for p in error["errors"])
    assert marker not in text and "1983" not in text
    assert log_lines(endpoint.log) == before  # not scored, not in the inference log
    assert marker not in endpoint.server_log.read_text()


def test_a_number_sent_as_a_string_is_refused(endpoint):
    row = {**_sales(endpoint, "string"), "n_interviews": "8"}
    error = refusal(*endpoint.post(json.dumps({"dataframe_records": [row]})))
    assert problems(error) == {(0, "n_interviews", "type")}
    assert "must be a number, got a string" in error["errors"][0]["message"]


def test_a_boolean_score_is_refused(endpoint):
    score = _score_field(endpoint)
    row = {**_sales(endpoint, "boolean"), score: True}
    error = refusal(*endpoint.post(json.dumps({"dataframe_records": [row]})))
    assert problems(error) == {(0, score, "type")}
    assert "got a boolean" in error["errors"][0]["message"]


def test_a_rater_adjusted_field_is_refused_as_derived(endpoint):
    """The endpoint derives interviewer_*_adj from the raw score and rater_ids: one sent is
    refused (it used to be ignored), and the published schema does not list it."""
    adjusted = contract_of(endpoint.model).adjusted
    assert adjusted, "the served model should use rater-adjusted scores"
    name, source = next(iter(adjusted.items()))
    row = {**_sales(endpoint, "adj"), name: 3.0}
    error = refusal(*endpoint.post(json.dumps({"dataframe_records": [row]})))
    assert problems(error) == {(0, name, "derived")}
    assert source in error["errors"][0]["message"]
    schema = mlflow.models.get_model_info(f"models:/{MODEL_NAME}@champion").signature
    assert not set(adjusted) & set(schema.inputs.input_names())


def test_a_batch_with_one_bad_row_lists_it_and_scores_nothing(endpoint):
    """One bad row among fifty: a 400 listing its every problem, nothing scored or logged;
    the batch without it then scores whole."""
    rows = valid_rows(endpoint.model, 50, seed=4)
    records_ = json.loads(records(rows))["dataframe_records"]
    score = _score_field(endpoint)
    bad = next(i for i, r in enumerate(records_) if r["role_family"] == "sales" and i > 30)
    records_[bad] = {**records_[bad], score: "8", "shoe_size": 44}
    before = log_lines(endpoint.log)
    error = refusal(*endpoint.post(json.dumps({"dataframe_records": records_})))
    assert problems(error) == {(bad, score, "type"), (bad, "shoe_size", "unknown")}
    assert error["message"].startswith("1 of 50 rows cannot be scored; nothing was scored")
    assert log_lines(endpoint.log) == before
    del records_[bad]
    status, text = endpoint.post(json.dumps({"dataframe_records": records_}))
    assert status == 200, text
    assert len(strict_json(text)["predictions"]) == 49


def test_a_name_in_an_unknown_field_is_neither_echoed_nor_logged(endpoint):
    row = {**_sales(endpoint, "notes"), "notes": "Zhang Wei +86 138 0013 8000",
           "Li Na 13900001111": 1}
    status, text = endpoint.post(json.dumps({"dataframe_records": [row]}))
    error = refusal(status, text)
    assert problems(error) == {(0, "notes", "unknown"), (0, "(unnamed field)", "unknown")}
    server_log = endpoint.server_log.read_text()
    for personal in ("Zhang Wei", "0013 8000", "Li Na", "13900001111"):
        assert personal not in text and personal not in server_log


def test_no_content_type_answers_415(endpoint):
    status, text = endpoint.post(json.dumps({"dataframe_records": [_sales(endpoint, "ct")]}),
                                 content_type=None)
    assert problems(refusal(status, text, 415)) == {(None, None, "content_type")}


@pytest.mark.parametrize("depth", [12, 100_000])
def test_deeply_nested_json_answers_400(endpoint, depth):
    body = '{"dataframe_records": [' + "[" * depth + "]" * depth + "]}"
    error = refusal(*endpoint.post(body))
    assert problems(error) == {(None, None, "depth")}


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e309"])
def test_infinity_or_an_overflowing_number_in_a_count_answers_400(endpoint, value):
    row = json.dumps({**_sales(endpoint, "inf"), "n_interviews": 0})
    row = row.replace('"n_interviews": 0', f'"n_interviews": {value}')
    body = '{"dataframe_records": [' + row + "]}"
    assert value in body
    error = refusal(*endpoint.post(body))
    assert problems(error) == {(None, None, "number")}


def _raw_exchange(endpoint, head: bytes, body: bytes) -> tuple[int, str]:
    """Send a request's head and (part of) its body on a raw socket; read the answer."""
    with socket.create_connection((endpoint.host, endpoint.port), timeout=30) as sock:
        sock.sendall(head + body)
        response = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
            head_part, _, rest = response.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head_part.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is not None and len(rest) >= length:
                break
    head_text, _, text = response.decode().partition("\r\n\r\n")
    return int(head_text.split()[1]), text


def test_an_oversized_body_answers_413(endpoint):
    """A body announced larger than the limit (1 MB) is refused before it is read."""
    head = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nAuthorization: Bearer " + endpoint.token.encode() +
            b"\r\nContent-Length: 20000000\r\n\r\n")
    status, text = _raw_exchange(endpoint, head, b'{"dataframe_records": [' + b" " * 1024)
    assert problems(refusal(status, text, 413)) == {(None, None, "body_size")}


def test_a_slow_body_answers_408(endpoint):
    """A body announced and never finished is refused after the read timeout (1 s here),
    not held open."""
    head = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nAuthorization: Bearer " + endpoint.token.encode() +
            b"\r\nContent-Length: 1000\r\n\r\n")
    status, text = _raw_exchange(endpoint, head, b'{"dataframe_records": [')
    assert problems(refusal(status, text, 408)) == {(None, None, "read_timeout")}


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


def test_the_client_scores_the_good_rows_of_a_refused_batch(endpoint):
    """ml.http_scoring (the demo's client): a batch refused for two bad rows is sent again
    without them, once; the two are counted as refusals with their reasons."""
    rows = json.loads(records(valid_rows(endpoint.model, 10, seed=6)))["dataframe_records"]
    rows[2] = {**rows[2], "gender": "female"}
    rows[7] = {**rows[7], "role_family": "astronaut"}
    report = score_over_http(f"http://{endpoint.host}:{endpoint.port}", rows, batch_size=10,
                             token=endpoint.token)
    assert (report.scored, report.refused, report.failed, report.requests) == (8, 2, 0, 2)
    assert any("row 2: field 'gender' is a protected attribute" in m for m in report.messages)
    assert not any("female" in m or "astronaut" in m for m in report.messages)


def test_the_published_schema_lists_exactly_what_is_accepted(endpoint):
    """The signature MLflow publishes names every accepted field and nothing else (no
    derived interviewer_*_adj); the example rows (the printed curl request) score 200."""
    contract = contract_of(endpoint.model)
    schema = mlflow.models.get_model_info(f"models:/{MODEL_NAME}@champion").signature
    assert set(schema.inputs.input_names()) == set(accepted_fields(contract))
    example = example_input(contract)
    assert not set(example.columns) & set(contract.adjusted)
    rows = [r.dropna().to_dict() for _, r in example.iterrows()]
    assert "_adj" not in curl_example("http://127.0.0.1:1", rows[0])
    status, text = endpoint.post(json.dumps({"dataframe_records": rows}))
    assert status == 200, text
    assert len(strict_json(text)["predictions"]) == len(rows)


def test_a_server_error_answers_a_generic_500_with_the_detail_in_the_server_log(endpoint):
    """The inference log made unwritable (a folder in its place): unlogged scores are not
    handed out; the answer is a generic 500 with no path or trace, the server log has why."""
    rows = json.loads(records(valid_rows(endpoint.model, 2, seed=3)))["dataframe_records"]
    assert endpoint.score(valid_rows(endpoint.model, 1))[0] == 200  # the log file exists
    aside = endpoint.log.with_name("aside.jsonl")
    endpoint.log.rename(aside)
    endpoint.log.mkdir()
    try:
        status, text = endpoint.post(json.dumps({"dataframe_records": rows}))
    finally:
        endpoint.log.rmdir()
        aside.rename(endpoint.log)
    assert status == 500, text
    for leak in LEAKS:
        assert leak not in text
    body = strict_json(text)
    assert body["error_code"] == "INTERNAL_ERROR" and "server log" in body["message"]
    assert "could not append to the inference log" in endpoint.server_log.read_text()


def test_openapi_json_serves_the_schema_logged_with_the_version(endpoint, mlflow_target):
    """GET /openapi.json over HTTP answers the contract generated from the served version's
    input contract (not MLflow's empty page), equal to the artifact logged with it."""
    from ml.endpoint_schema import endpoint_schema
    from ml.evaluation import load_version_schema

    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=60)
    try:
        conn.request("GET", "/openapi.json", headers=endpoint.auth)
        resp = conn.getresponse()
        status, served = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    assert status == 200
    contract = contract_of(endpoint.model)
    assert served == json.loads(json.dumps(endpoint_schema(contract, 1000, endpoint.version)))
    assert served["info"]["version"] == endpoint.version
    logged = load_version_schema(mlflow_target.client, endpoint.version,
                                 tracking_uri=mlflow_target.tracking_uri)
    assert logged == served


# -- reasons in words (reason_details, ml/reason_details.py; monitoring/reason_text.py) ------


@pytest.fixture(scope="module")
def endpoint_zh(endpoint, mlflow_target, tmp_path_factory):
    """The same champion served a second time with `ServeSpec(language="zh")`."""
    folder = tmp_path_factory.mktemp("endpoint_zh")
    log = folder / "online.jsonl"
    spec = ServeSpec(tracking_uri=mlflow_target.tracking_uri, port=free_port(),
                     language="zh", extra_env={INFERENCE_LOG_ENV: str(log)})
    process = EndpointProcess(Supervisor(folder), spec, ready_timeout_s=120)
    state = process.start(served_version=endpoint.version)
    assert state["language"] == "zh" and process.language == "zh"
    try:
        yield Endpoint(spec.host, spec.port, endpoint.version, log, endpoint.model,
                       Path(state["log"]))
    finally:
        process.stop()


def _served_reasons(endpoint, rows: pd.DataFrame) -> list[dict]:
    status, text = endpoint.score(rows)
    assert status == 200, text
    return strict_json(text)["predictions"]


def _expected_size(log_odds: float) -> str:
    from ml.reason_details import MODERATE_LOG_ODDS, STRONG_LOG_ODDS

    size = abs(log_odds)
    return "strong" if size >= STRONG_LOG_ODDS else (
        "moderate" if size >= MODERATE_LOG_ODDS else "slight")


def test_reason_details_agree_with_the_reasons_string_sign_and_thresholds(endpoint):
    """Over HTTP, in English (the default): per prediction up to three reasons, the same
    dimensions in the same order as `reasons`, its figures to 2 places, direction from the
    sign, size from the thresholds on the figure given, and a sentence saying all that."""
    words = {("raises", "slight"): "slightly raises", ("raises", "moderate"): "moderately "
             "raises", ("raises", "strong"): "strongly raises", ("lowers", "slight"):
             "slightly lowers", ("lowers", "moderate"): "moderately lowers",
             ("lowers", "strong"): "strongly lowers"}
    seen = set()
    for pred in _served_reasons(endpoint, valid_rows(endpoint.model, 24, seed=13)):
        details = pred["reason_details"]
        parts = [p.rsplit(" ", 1) for p in pred["reasons"].split("; ")]
        assert 1 <= len(details) == len(parts) <= 3
        assert [d["dimension"] for d in details] == [name for name, _ in parts]
        for d, (_, figure) in zip(details, parts, strict=True):
            assert set(d) == {"dimension", "log_odds", "direction", "size", "text"}
            assert d["log_odds"] == round(d["log_odds"], 4)
            assert abs(float(figure) - d["log_odds"]) <= 0.005 + 1e-12
            negative = np.copysign(1.0, d["log_odds"]) < 0
            assert d["direction"] == ("lowers" if negative else "raises")
            assert (figure[0] == "-") == negative
            assert d["size"] == _expected_size(d["log_odds"])
            assert d["text"] == (f"{d['dimension']} {words[d['direction'], d['size']]} the "
                                 "chance of meeting the role's first-year KPI "
                                 f"({d['log_odds']:+.2f} log-odds)")
            seen.add((d["direction"], d["size"]))
    assert {"raises", "lowers"} <= {direction for direction, _ in seen}


def test_served_reason_details_are_the_pyfunc_s_with_words_added(endpoint):
    rows = valid_rows(endpoint.model, 6, seed=21)
    served = _served_reasons(endpoint, rows)
    local = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion").predict(rows)
    for s, loc in zip(served, local, strict=True):
        assert [{k: v for k, v in d.items() if k != "text"} for d in s["reason_details"]] == (
            loc["reason_details"])
        assert all("text" not in d for d in loc["reason_details"])  # words: the layer's


def test_the_success_body_validates_against_the_served_schema(endpoint):
    import jsonschema

    from ml.endpoint_schema import schema_for

    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=60)
    try:
        conn.request("GET", "/openapi.json", headers=endpoint.auth)
        document = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    status, text = endpoint.score(valid_rows(endpoint.model, 5, seed=2))
    assert status == 200, text
    validator = jsonschema.Draft202012Validator(schema_for(document, "Response"))
    assert [e.message for e in validator.iter_errors(strict_json(text))] == []
    assert not validator.is_valid({"predictions": [{**strict_json(text)["predictions"][0],
                                                    "reason_details": [{"dimension": "x"}]}]})


def test_a_chinese_endpoint_says_the_same_reasons_in_chinese(endpoint, endpoint_zh):
    """The same rows on the zh endpoint: the same figures, directions and sizes, each text
    in Chinese with the dimension translated and no English label left."""
    from monitoring.i18n import translator

    zh = translator("zh")
    rows = valid_rows(endpoint.model, 12, seed=17)
    english, chinese = _served_reasons(endpoint, rows), _served_reasons(endpoint_zh, rows)
    for en, cn in zip(english, chinese, strict=True):
        assert en["reasons"] == cn["reasons"]  # the documented string stays as it was
        assert ([{k: v for k, v in d.items() if k != "text"} for d in en["reason_details"]]
                == [{k: v for k, v in d.items() if k != "text"} for d in cn["reason_details"]])
        for d in cn["reason_details"]:
            text = d["text"]
            assert text.startswith(zh.gettext(d["dimension"])) and "对数几率" in text
            assert f"{d['log_odds']:+.2f}" in text
            assert not re.search("[a-z]", text), text  # no English word: KPI stays KPI
            assert text != d["dimension"]


GUARDED = ("/invocations", "/candidates/score", "/candidates/features", "/candidates/decision")


def test_every_route_but_the_probes_answers_401_without_the_right_token(endpoint):
    """No Authorization, a wrong token, another scheme or the bare token: 401 with the
    structured error and `WWW-Authenticate: Bearer`, nothing sent repeated and nothing
    scored or logged; GET routes too. /ping and /health answer without a token."""
    body = records(valid_rows(endpoint.model, 1))
    json_type = {"Content-Type": "application/json"}
    wrong = "A" * len(endpoint.token)
    before = log_lines(endpoint.log)
    for path in GUARDED:
        for auth in ({}, {"Authorization": f"Bearer {wrong}"},
                     {"Authorization": f"Basic {endpoint.token}"},
                     {"Authorization": endpoint.token}):
            status, headers, text = endpoint.request("POST", path, body, {**json_type, **auth})
            error = refusal(status, text, 401)
            assert error["error_code"] == "UNAUTHENTICATED", (path, error)
            assert headers["www-authenticate"] == "Bearer"
            assert endpoint.token not in text and wrong not in text
    status, _, text = endpoint.request("GET", "/openapi.json")
    assert refusal(status, text, 401)["error_code"] == "UNAUTHENTICATED"
    assert log_lines(endpoint.log) == before
    for path in ("/ping", "/health"):
        assert endpoint.request("GET", path)[0] == 200, path
    lower = {**json_type, "Authorization": f"bearer {endpoint.token}"}  # scheme: any case
    assert endpoint.request("POST", "/invocations", body, lower)[0] == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5001", "127.0.0.1.nip.io",
                                  "localhost.evil.example", "[::2]:5001", "localhost:x"])
def test_a_foreign_host_header_is_refused_on_every_path(endpoint, host):
    """DNS rebinding: a page under another name reaching loopback sends that name as Host.
    Refused (421, structured, the name not repeated) even with the right token and on /ping."""
    for method, path in (("POST", "/invocations"), ("GET", "/ping")):
        status, _, text = endpoint.request(method, path, records(valid_rows(endpoint.model, 1)),
                                           {"Host": host, "Content-Type": "application/json",
                                            **endpoint.auth})
        error = refusal(status, text, 421)
        assert error["error_code"] == "MISDIRECTED_REQUEST"
        assert host not in text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost",
                                  "LOCALHOST:{port}", "[::1]", "[::1]:{port}"])
def test_loopback_host_headers_are_answered(endpoint, host):
    headers = {"Host": host.format(port=endpoint.port), "Content-Type": "application/json",
               **endpoint.auth}
    status, _, text = endpoint.request("POST", "/invocations",
                                       records(valid_rows(endpoint.model, 1)), headers)
    assert status == 200, text


def test_the_token_file_is_private_and_the_token_in_no_command_line_or_log(endpoint):
    """The installation's token file is 0600 in a 0700 folder; the launch command names the
    file, not the token, as does the running process's command line (what `ps` shows); after
    refused and answered requests, neither the server log nor the inference log holds it."""
    token_file = Path(endpoint.spec.token_file)
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert token_file.parent.stat().st_mode & 0o777 == 0o700
    launched = command(endpoint.spec)
    assert launched[launched.index("--token-file") + 1] == str(token_file)
    assert not any(endpoint.token in arg for arg in launched)
    running = Path(f"/proc/{endpoint.pid}/cmdline").read_bytes()
    assert str(token_file).encode() in running and endpoint.token.encode() not in running
    endpoint.request("POST", "/invocations", "{}", {"Authorization": "Bearer nope"})
    assert endpoint.score(valid_rows(endpoint.model, 1))[0] == 200
    for log in (endpoint.server_log, endpoint.log):
        assert endpoint.token not in log.read_text(), log
