"""The interview-records routes over real HTTP, against a served model and a real feature store.

An interview tool sends what it holds (hris.ats_requests builds it from the export's own
raw tables, with the HR system's ids): the endpoint must derive, for every candidate of
marts.fct_candidates_to_score, exactly the features dbt computed (1e-9), score them exactly
as batch scoring scores the dbt rows, log each score under the candidate's pseudonym, and
refuse every bad record with a 4xx that names its path and repeats nothing sent.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from hris.ats_requests import candidate_requests
from hris.pseudonym import pseudonym
from ml.batch_scoring import score_candidates
from ml.endpoint_launch import ServeSpec
from ml.endpoint_schema import schema_for
from ml.interview_records import feature_columns
from ml.pyfunc_model import INFERENCE_LOG_ENV
from ml.records_route import RecordsRoute, RouteRefusal
from ml.scoring_app import pseudonymiser
from ml.serving_context import load_serving_context, write_serving_context
from orchestration.config import Settings
from orchestration.services import EndpointProcess
from orchestration.serving_context import refresh_serving_context
from orchestration.supervisor import Supervisor
from tests.ml.conftest import register_champion
from tests.ml.model_fixture import trained_model
from tests.ml.test_endpoint import LEAKS, free_port, log_lines, strict_json

TOL = 1e-9
README = Path(__file__).resolve().parents[2] / "README.md"
BATCH = 50


@dataclass
class Served:
    host: str
    port: int
    version: str
    log: Path
    context_path: Path
    model: object
    key: bytes
    server_log: Path
    token: str | None = None  # the endpoint's bearer token, sent with every request

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def post(self, path: str, body: object, content_type: str = "application/json"
             ) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request("POST", path, body=data,
                         headers={"Content-Type": content_type, **self.auth})
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for leak in LEAKS:
            assert leak not in text, f"{leak!r} in {text[-400:]!r}"
        return resp.status, strict_json(text)

    def get(self, path: str) -> dict:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request("GET", path, headers=self.auth)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def served(mlflow_target, tmp_path_factory, feature_store):
    model = trained_model(feature_store)
    version = register_champion(mlflow_target.client, model, "records test")
    folder = tmp_path_factory.mktemp("records_endpoint")
    context_path = folder / "serving" / "context.json"
    conn = feature_store.connect()
    try:
        refresh_serving_context(conn, feature_store.key, context_path, "test store")
    finally:
        conn.close()
    key_file = folder / "pseudonym.key"
    key_file.write_bytes(feature_store.key)
    log = folder / "inference" / "online.jsonl"
    token_file = Settings(home=folder / "home").endpoint_token_file()
    spec = ServeSpec(tracking_uri=mlflow_target.tracking_uri, port=free_port(),
                     extra_env={INFERENCE_LOG_ENV: str(log)},
                     serving_context=str(context_path), pseudonym_key_file=str(key_file),
                     token_file=str(token_file))
    process = EndpointProcess(Supervisor(folder), spec, ready_timeout_s=120)
    state = process.start(served_version=version)
    try:
        yield Served(spec.host, spec.port, version, log, context_path, model,
                     feature_store.key, Path(state["log"]), token_file.read_text().strip())
    finally:
        process.stop()


@pytest.fixture(scope="module")
def to_score(feature_store) -> pd.DataFrame:
    frame = feature_store.read("SELECT * FROM marts.fct_candidates_to_score "
                               "ORDER BY candidate_id")
    assert len(frame) >= 100  # enough waiting candidates for the comparison to mean much
    return frame


@pytest.fixture(scope="module")
def requests_by_pseudonym(feature_store, to_score) -> dict[str, dict]:
    """Each waiting candidate's request, as the interview tool sends it (raw ids)."""
    raw_of = {p: raw for raw, p in feature_store.pseudonyms().items()}
    raw_ids = [raw_of[p] for p in to_score["candidate_id"]]
    built = candidate_requests(feature_store.sim.raw, raw_ids)
    return dict(zip(to_score["candidate_id"], built, strict=True))


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b)) or pd.isna(b)
    if b is None or pd.isna(b):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= TOL


def test_features_from_records_equal_dbt_for_every_waiting_candidate(
        served, to_score, requests_by_pseudonym, feature_store):
    context = load_serving_context(served.context_path)
    columns = feature_columns(context)
    assert set(columns) <= set(to_score.columns)
    pseudonyms = list(to_score["candidate_id"])
    derived = []
    for part in _chunks(pseudonyms):
        status, body = served.post("/candidates/features",
                                   {"candidates": [requests_by_pseudonym[p] for p in part]})
        assert status == 200, body
        derived += body["features"]
    assert len(derived) == len(to_score)
    mismatches = []
    adjusted_differs = 0
    for (_, row), got in zip(to_score.iterrows(), derived, strict=True):
        assert set(got) == {*columns, "role_family", "education"}
        for name in [*columns, "role_family", "education"]:
            if not _same(got[name], row[name]):
                mismatches.append((row["candidate_id"][:8], name, got[name], row[name]))
        adjusted_differs += any(not _same(got[f"interviewer_{d}_adj"],
                                          row[f"interviewer_{d}"])
                                for d in context.rules.dimensions)
    assert not mismatches, mismatches[:10]
    # the check has teeth: rater offsets move most candidates' adjusted scores off the raw
    assert adjusted_differs > len(to_score) // 2


def test_served_score_equals_batch_score_and_is_logged_under_the_pseudonym(
        served, to_score, requests_by_pseudonym):
    batch = score_candidates(served.model, to_score, served.version)
    assert len(batch.rejected) == 0
    before = log_lines(served.log)
    predictions = []
    pseudonyms = list(to_score["candidate_id"])
    for part in _chunks(pseudonyms):
        request = [{**requests_by_pseudonym[p], "request_id": f"r-{p[:12]}"} for p in part]
        status, body = served.post("/candidates/score", {"candidates": request})
        assert status == 200, body
        predictions += body["predictions"]
    assert len(predictions) == len(to_score)
    got = pd.DataFrame(predictions)
    np.testing.assert_allclose(got["probability"], batch.scores["probability"], atol=TOL)
    assert got["band"].tolist() == batch.scores["band"].tolist()
    assert got["reasons"].tolist() == batch.scores["reasons"].tolist()
    assert got["request_id"].tolist() == [f"r-{p[:12]}" for p in pseudonyms]
    assert (got["model_version"] == served.version).all()

    lines = [json.loads(x) for x in served.log.read_text().splitlines()[before:]]
    assert [x["candidate_pseudonym"] for x in lines] == pseudonyms
    assert [x["input_hash"] for x in lines] == batch.scores["input_hash"].tolist()
    text = served.log.read_text()
    raw_ids = [r["candidate_id"] for r in requests_by_pseudonym.values()]
    assert not any(raw in text for raw in raw_ids[:50])  # the ATS's ids never logged


def test_the_served_contract_documents_the_records_routes(served, requests_by_pseudonym):
    document = served.get("/openapi.json")
    assert {"/invocations", "/candidates/score", "/candidates/features"} <= set(
        document["paths"])
    validator = jsonschema.Draft202012Validator(schema_for(document, "CandidatesRequest"))
    good = {"candidates": list(requests_by_pseudonym.values())[:5]}
    assert not list(validator.iter_errors(good))
    first = good["candidates"][0]
    interview = first["interviews"][0]
    bad_cases = [
        {**first, "gender": "female"},
        {**first, "years_experiance": 3},
        {**first, "interviews": [{**interview, "overall_rating": "4"}]},
        {**first, "interviews": [{**interview, "scores": [
            {"dimension": "communication", "scored_by": "interviewer", "score": True}]}]},
        {**first, "interviews": []},
    ]
    for case in bad_cases:
        assert list(validator.iter_errors({"candidates": [case]})), case


def _one(requests_by_pseudonym) -> dict:
    record = next(r for r in requests_by_pseudonym.values()
                  if any(i["scores"] and i["answers"] and i.get("interviewer_id")
                         for i in r["interviews"]))
    return json.loads(json.dumps(record))  # a copy to spoil


def _refused(served, candidates: list, expected: int = 400) -> dict:
    before = log_lines(served.log)
    status, body = served.post("/candidates/score", {"candidates": candidates})
    assert status == expected, body
    assert set(body) == {"error_code", "message", "errors", "error_count"}
    assert log_lines(served.log) == before  # nothing scored, nothing logged
    return body


def _rules(body: dict) -> set[tuple]:
    return {(p["row"], p["field"], p["rule"]) for p in body["errors"]}


def test_each_bad_record_is_refused_by_path_without_echo(served, requests_by_pseudonym):
    good = _one(requests_by_pseudonym)
    k = next(i for i, iv in enumerate(good["interviews"]) if iv["scores"] and iv["answers"])

    misspelt = _one(requests_by_pseudonym)
    misspelt["interviews"][k]["answers"][0]["answerd_fully"] = True
    body = _refused(served, [misspelt])
    assert (0, f"interviews[{k}].answers[0].answerd_fully", "unknown") in _rules(body)
    assert "did you mean 'answered_fully'" in json.dumps(body)

    protected = _one(requests_by_pseudonym)
    protected["gender"] = "Zhang Wei, +86 138 0000 0000"
    body = _refused(served, [protected])
    assert (0, "gender", "protected") in _rules(body)
    assert "Zhang" not in json.dumps(body) and "138" not in json.dumps(body)

    string_score = _one(requests_by_pseudonym)
    string_score["interviews"][k]["scores"][0]["score"] = "8"
    assert (0, f"interviews[{k}].scores[0].score", "type") in _rules(
        _refused(served, [string_score]))

    boolean_score = _one(requests_by_pseudonym)
    boolean_score["interviews"][k]["scores"][0]["score"] = True
    assert (0, f"interviews[{k}].scores[0].score", "type") in _rules(
        _refused(served, [boolean_score]))

    text_flag = _one(requests_by_pseudonym)
    text_flag["interviews"][k]["answers"][0]["answered_fully"] = "yes"
    assert (0, f"interviews[{k}].answers[0].answered_fully", "type") in _rules(
        _refused(served, [text_flag]))

    unknown_question = _one(requests_by_pseudonym)
    unknown_question["interviews"][k]["answers"][0]["question_id"] = "Q-NOT-A-QUESTION"
    body = _refused(served, [unknown_question])
    assert (0, f"interviews[{k}].answers[0].question_id", "unknown_id") in _rules(body)
    assert "Q-NOT-A-QUESTION" not in json.dumps(body)

    unknown_role = _one(requests_by_pseudonym)
    unknown_role["role_id"] = "ROLE-FROM-ANOTHER-SYSTEM"
    assert (0, "role_id", "unknown_id") in _rules(_refused(served, [unknown_role]))

    duplicate = _one(requests_by_pseudonym)
    duplicate["interviews"][k]["scores"].append(dict(duplicate["interviews"][k]["scores"][0]))
    n = len(duplicate["interviews"][k]["scores"]) - 1
    assert (0, f"interviews[{k}].scores[{n}]", "duplicate") in _rules(
        _refused(served, [duplicate]))

    future = _one(requests_by_pseudonym)
    future["interviews"][k]["date"] = "2999-01-01"
    assert (0, f"interviews[{k}].date", "future") in _rules(_refused(served, [future]))

    infinite = b'{"candidates": [{"candidate_id": "x", "years_experience": Infinity}]}'
    status, body = served.post("/candidates/score", infinite)
    assert status == 400 and body["errors"][0]["rule"] == "number"

    derived_field = _one(requests_by_pseudonym)
    derived_field["interviewer_communication_adj"] = 7.0
    assert (0, "interviewer_communication_adj", "unknown") in _rules(
        _refused(served, [derived_field]))


def test_one_bad_candidate_among_many_is_listed_and_nothing_is_scored(
        served, requests_by_pseudonym):
    batch = [json.loads(json.dumps(r)) for r in list(requests_by_pseudonym.values())[:30]]
    batch[17]["interviews"][0]["round"] = "final"
    batch[23]["interviews"][0]["overall_rating"] = 9
    body = _refused(served, batch)
    assert {(p["row"], p["rule"]) for p in body["errors"]} == {(17, "category"),
                                                               (23, "range")}
    assert body["message"].startswith("2 of 30 candidates cannot be scored")


def test_a_family_requirement_is_said_in_terms_of_the_records(served, requests_by_pseudonym):
    record = _one(requests_by_pseudonym)
    for interview in record["interviews"]:
        interview["scores"] = [s for s in interview["scores"] if s["scored_by"] != "interviewer"]
    body = _refused(served, [record])
    required = [p for p in body["errors"] if p["rule"] == "required"]
    assert required and all(p["field"] == "interviews" for p in required)
    assert any("by 'interviewer'" in p["message"] for p in required)


def test_a_new_export_reaches_the_endpoint_without_a_restart(served, requests_by_pseudonym):
    """The rater offsets in force come from the context file, reloaded when it changes."""
    record = _one(requests_by_pseudonym)
    interviewer = next(iv["interviewer_id"] for iv in record["interviews"]
                       if iv.get("interviewer_id") and any(
                           s["scored_by"] == "interviewer" for s in iv["scores"]))
    original = served.context_path.read_bytes()
    _, before = served.post("/candidates/features", {"candidates": [record]})
    context = load_serving_context(served.context_path)
    steps = dict(context.offset_steps)
    target = pseudonym(served.key, interviewer)
    # one step, long before any interview: offset +1 for every interview of this interviewer
    steps[target] = type(steps[target])((date(2000, 1, 1).toordinal(),), (1.0,))
    try:
        write_serving_context(dataclasses.replace(context, offset_steps=steps),
                              served.context_path)
        os.utime(served.context_path, ns=(time.time_ns(), time.time_ns() + 1))
        deadline = time.monotonic() + 10
        while True:
            _, after = served.post("/candidates/features", {"candidates": [record]})
            if after != before or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        changed = [k for k in before["features"][0]
                   if before["features"][0][k] != after["features"][0][k]]
        assert changed and all(k.endswith("_adj") for k in changed), changed
    finally:  # put the build's context back, and wait until the endpoint serves it again
        served.context_path.write_bytes(original)
        deadline = time.monotonic() + 10
        while served.post("/candidates/features", {"candidates": [record]})[1] != before:
            assert time.monotonic() < deadline, "the endpoint did not reload the context"
            time.sleep(0.3)


def test_the_route_refuses_with_a_reason_when_it_cannot_read_ids(served, tmp_path):
    """Without a context, or with another installation's key: 503 saying what to do."""
    missing = RecordsRoute(None, tmp_path / "absent.json", pseudonymiser(served.key))
    with pytest.raises(RouteRefusal) as absent:
        missing.context()
    assert absent.value.status == 503 and "hireloop build" in absent.value.message
    wrong_key = RecordsRoute(None, served.context_path, pseudonymiser(b"another-key"))
    with pytest.raises(RouteRefusal) as wrong:
        wrong_key.context()
    assert wrong.value.status == 503 and "pseudonym key" in wrong.value.message
    no_key = RecordsRoute(None, served.context_path, None)
    with pytest.raises(RouteRefusal) as keyless:
        no_key.context()
    assert "pseudonym key" in keyless.value.message


def readme_records_example() -> dict:
    """The body of README's `/candidates/score` curl (section Interview records)."""
    text = README.read_text().split("### Interview records", 1)[1]
    bash = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return json.loads(bash.split("-d '", 1)[1].rsplit("'", 1)[0])


def test_the_readme_records_example_validates_and_scores(served):
    example = readme_records_example()
    document = served.get("/openapi.json")
    validator = jsonschema.Draft202012Validator(schema_for(document, "CandidatesRequest"))
    assert not list(validator.iter_errors(example))
    status, body = served.post("/candidates/score", example)
    assert status == 200, body
    (prediction,) = body["predictions"]
    assert prediction["request_id"] == "req-0042"
    assert prediction["reason_details"] and all(r["text"] for r in prediction["reason_details"])


def test_the_key_is_in_nothing_the_endpoint_writes_or_is_started_with(served):
    """The key reaches the server as a file path: not in its command line, its options,
    its log, the serving context or the inference log."""
    assert served.key
    for path in (served.server_log, served.context_path, served.log):
        assert served.key not in path.read_bytes(), path
    pid = next(p for p in Path("/proc").iterdir() if p.name.isdigit()
               and b"ml.scoring_app" in _read(p / "cmdline")
               and str(served.port).encode() in _read(p / "cmdline"))
    assert served.key not in _read(pid / "cmdline")
    assert served.key not in _read(pid / "environ")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_invocations_apply_the_rater_offsets_in_force_not_those_frozen(served, to_score):
    """/invocations with rater_ids: raw scores minus the mean of the listed raters' offsets
    in force (the serving context's), not the table frozen with the version."""
    from ml.batch_scoring import request_frame, request_record
    from ml.pyfunc_model import contract_of, score_records
    from ml.scoring_input import validate_rows

    contract = contract_of(served.model)
    assert contract.rater_offsets is not None  # the model uses rater-adjusted scores
    frame = to_score.head(40)
    rows = [request_record(r, contract) for _, r in request_frame(frame, contract).iterrows()]
    assert all(r.get("rater_ids") for r in rows)
    status, body = served.post("/invocations", {"dataframe_records": rows})
    assert status == 200, body
    got = [p["probability"] for p in body["predictions"]]
    in_force = load_serving_context(served.context_path).offsets_in_force
    expected = score_records(served.model, validate_rows(
        rows, dataclasses.replace(contract, rater_offsets=in_force), 100), served.version)
    frozen = score_records(served.model, validate_rows(rows, contract, 100), served.version)
    np.testing.assert_allclose(got, [p["probability"] for p in expected], atol=TOL)
    assert max(abs(a - b["probability"]) for a, b in zip(got, frozen, strict=True)) > 1e-6
