"""Human oversight on real parts: a served champion, the real feature store and scoring log.

A person's decision reaches monitoring.hiring_decisions beside the score it answers, through
`hireloop decide` (the CLI, straight to the database) and through the endpoint's
`POST /candidates/decision` (over real HTTP: the decision log, then the ingest that runs with
the inference log's). Bad decisions are refused with what to do, and nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from hris.ats_requests import candidate_requests
from hris.contract import ROLE_FAMILIES
from ml.datasets import read_frame
from ml.decision_route import decision_log_path
from ml.endpoint_launch import ServeSpec
from ml.endpoint_schema import schema_for
from ml.pyfunc_model import INFERENCE_LOG_ENV
from monitoring import hiring_decisions
from monitoring.decision_log import ingest_decision_log
from monitoring.decisions import record_decision
from monitoring.explanation import candidate_explanation, write_explanation
from monitoring.hiring_decisions import read_decisions
from monitoring.scoring_log import ingest_inference_log
from orchestration import cli
from orchestration.config import Settings
from orchestration.resources import EndpointResource, HireloopRuntime
from orchestration.services import EndpointProcess
from orchestration.serving_context import refresh_serving_context
from orchestration.supervisor import Supervisor
from tests.ml.conftest import mlflow_target, register_champion  # noqa: F401 (fixture)
from tests.ml.model_fixture import trained_model
from tests.ml.test_endpoint import free_port
from tests.ml.test_interview_records_endpoint import Served
from tests.monitoring.outside_urls import page_outside_urls

AT = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def installation(mlflow_target, tmp_path_factory, feature_store, pg_server):  # noqa: F811
    """A champion served over HTTP on a copy of the feature store; three waiting candidates
    (HR ids and pseudonyms) with their interview-tool requests."""
    model = trained_model(feature_store)
    version = register_champion(mlflow_target.client, model, "oversight test")
    database = pg_server.copy_database(feature_store.database, "oversight")
    folder = tmp_path_factory.mktemp("oversight")
    context_path = folder / "serving" / "context.json"
    conn = pg_server.endpoint.connect(database)
    try:
        refresh_serving_context(conn, feature_store.key, context_path, "test store")
        with conn.cursor() as cur:
            cur.execute("SELECT candidate_id FROM marts.fct_candidates_to_score "
                        "ORDER BY candidate_id LIMIT 3")
            pseudonyms = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    raw_of = {p: raw for raw, p in feature_store.pseudonyms().items()}
    raw_ids = [raw_of[p] for p in pseudonyms]
    requests = candidate_requests(feature_store.sim.raw, raw_ids)
    key_file = folder / "pseudonym.key"
    key_file.write_bytes(feature_store.key)
    token_file = Settings(home=folder / "home").endpoint_token_file()
    log = folder / "inference" / "scores.jsonl"
    spec = ServeSpec(tracking_uri=mlflow_target.tracking_uri, port=free_port(),
                     extra_env={INFERENCE_LOG_ENV: str(log)},
                     serving_context=str(context_path), pseudonym_key_file=str(key_file),
                     token_file=str(token_file))
    process = EndpointProcess(Supervisor(folder), spec, ready_timeout_s=120)
    state = process.start(served_version=version)
    try:
        served = Served(spec.host, spec.port, version, log, context_path, model,
                        feature_store.key, state["log"], token_file.read_text().strip())
        yield SimpleNamespace(served=served, database=database, folder=folder, log=log,
                              raw_ids=raw_ids, pseudonyms=pseudonyms, requests=requests,
                              version=version, key=feature_store.key)
    finally:
        process.stop()


def _score(inst, i: int, request_id: str) -> dict:
    status, body = inst.served.post("/candidates/score", {"candidates": [
        {**inst.requests[i], "request_id": request_id}]})
    assert status == 200, body
    return body["predictions"][0]


def _ingest(pg_server, inst) -> tuple[int, int]:
    conn = pg_server.endpoint.connect(inst.database)
    try:
        with conn, conn.cursor() as cur:
            ingest_inference_log(cur, inst.log)
            result = ingest_decision_log(cur, decision_log_path(inst.log))
    finally:
        conn.close()
    return result.added, result.rejected


def _decisions(pg_server, inst, source: str):
    conn = pg_server.endpoint.connect(inst.database)
    try:
        with conn, conn.cursor() as cur:
            return read_decisions(cur, source=source)
    finally:
        conn.close()


def test_http_decision_is_logged_then_ingested_beside_the_score_it_answers(
        installation, pg_server):
    inst = installation
    scored = _score(inst, 0, "r-oversight-http")
    decision = {"candidate_id": inst.raw_ids[0], "decision": "advance", "reviewer": "j.smith",
                "reason": "strong work sample; invite to the director round",
                "request_id": "r-oversight-http"}
    document = inst.served.get("/openapi.json")  # the published contract documents it
    assert "/candidates/decision" in document["paths"]
    validator = jsonschema.Draft202012Validator(schema_for(document, "DecisionRequest"))
    assert not list(validator.iter_errors(decision))
    assert list(validator.iter_errors({**decision, "decision": "maybe"}))
    status, body = inst.served.post("/candidates/decision", decision)
    assert status == 202, body
    assert body["status"] == "accepted" and body["entry_id"]
    line = json.loads(decision_log_path(inst.log).read_text().splitlines()[-1])
    assert line["candidate_pseudonym"] == inst.pseudonyms[0]
    assert inst.raw_ids[0] not in decision_log_path(inst.log).read_text()  # the HR id: never

    assert _ingest(pg_server, inst) == (1, 0)
    assert _ingest(pg_server, inst) == (0, 0)  # a second pass adds nothing
    rows = _decisions(pg_server, inst, "http")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["candidate_pseudonym"] == inst.pseudonyms[0]
    assert (row["decision"], row["decided_by"]) == ("advance", "j.smith")
    assert row["entry_id"] == body["entry_id"]
    assert (row["model_version"], row["band"], row["request_id"]) == (
        inst.version, scored["band"], "r-oversight-http")
    assert row["probability"] == pytest.approx(scored["probability"], abs=1e-12)
    assert row["role_family"] in ROLE_FAMILIES  # from the feature store


def test_http_refuses_a_bad_decision_with_every_problem_and_records_nothing(installation):
    inst = installation
    path = decision_log_path(inst.log)
    before = path.read_text() if path.exists() else ""
    status, body = inst.served.post("/candidates/decision", {
        "candidate_id": inst.raw_ids[1], "decision": "maybe", "reviewer": "Jane Smith",
        "reason": "call her on jane@example.org", "colour": "blue"})
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    fields = {e["field"] for e in body["errors"]}
    assert {"decision", "reviewer", "reason", "colour"} <= fields
    assert "offer, reject, advance, hold" in body["message"]
    assert "jane@example.org" not in json.dumps(body) and "Jane" not in json.dumps(body)
    assert (path.read_text() if path.exists() else "") == before
    status, body = inst.served.post("/candidates/decision", b"not json")
    assert status == 400 and body["error_code"] == "BAD_REQUEST"
    status, body = inst.served.post("/candidates/decision", {"decision": "hold"},
                                    content_type="text/plain")
    assert status == 415
    status, body = Served(**{**vars(inst.served), "token": None}).post(
        "/candidates/decision", {"candidate_id": inst.raw_ids[1], "decision": "hold",
                                 "reviewer": "a.lee", "reason": "unsigned"})
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"  # nothing recorded
    assert (path.read_text() if path.exists() else "") == before


def test_a_decision_line_without_a_score_is_kept_with_the_reason(installation, pg_server):
    inst = installation  # the second candidate was never scored
    status, _ = inst.served.post("/candidates/decision", {
        "candidate_id": inst.raw_ids[1], "decision": "hold", "reviewer": "a.lee",
        "reason": "waiting for references"})
    assert status == 202
    added, rejected = _ingest(pg_server, inst)
    assert (added, rejected) == (0, 1)
    conn = pg_server.endpoint.connect(inst.database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT reason FROM monitoring.scoring_log_rejects WHERE log_path "
                        "LIKE %s", ["%decisions.jsonl"])
            reasons = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    assert any("no score of this candidate" in r and "/candidates/score" in r for r in reasons)


@pytest.fixture
def cli_on_installation(installation, monkeypatch, hireloop_home):
    """`hireloop` pointed at the test's database and the served endpoint's log."""
    inst = installation
    monkeypatch.setenv("HIRELOOP_HOME", str(hireloop_home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    monkeypatch.setenv("HIRELOOP_PSEUDONYM_KEY", inst.key.decode())
    monkeypatch.setattr(cli, "_store", lambda: HireloopRuntime(home=str(hireloop_home),
                                                               database=inst.database))
    monkeypatch.setattr(cli, "_endpoint", lambda **kw: EndpointResource(
        home=str(inst.folder), inference_log=str(inst.log)))
    return inst


def test_cli_decide_appends_beside_the_latest_score_and_a_changed_mind_is_a_new_row(
        cli_on_installation, pg_server):
    inst = cli_on_installation
    _score(inst, 2, "r-oversight-cli-1")
    latest = _score(inst, 2, "r-oversight-cli-2")  # not ingested yet: decide ingests it
    args = ["decide", inst.raw_ids[2], "--decision", "hold", "--reviewer", "m.garcia",
            "--reason", "panel split; second business interview"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "recorded: hold by m.garcia" in result.output
    again = CliRunner().invoke(cli.app, [*args[:3], "offer", *args[4:6], "--reason",
                                         "second interview went well"])
    assert again.exit_code == 0, again.output
    rows = _decisions(pg_server, inst, "cli")
    mine = rows[rows["candidate_pseudonym"] == inst.pseudonyms[2]]
    assert mine["decision"].tolist() == ["hold", "offer"]
    assert set(mine["request_id"]) == {"r-oversight-cli-2"}  # the latest score
    assert mine["probability"].tolist() == pytest.approx([latest["probability"]] * 2)
    assert set(mine["model_version"]) == {inst.version}
    assert mine["entry_id"].nunique() == 2


def test_cli_decide_refuses_unknown_unscored_and_bad_input_with_what_to_do(
        cli_on_installation, pg_server):
    inst = cli_on_installation
    before = len(_decisions(pg_server, inst, "cli"))
    base = ["--decision", "advance", "--reviewer", "j.smith", "--reason", "good"]
    unknown = CliRunner().invoke(cli.app, ["decide", "NOT-A-CANDIDATE", *base])
    assert unknown.exit_code == 2
    assert "no candidate NOT-A-CANDIDATE is known" in unknown.output
    assert "hireloop import" in unknown.output
    unscored = CliRunner().invoke(cli.app, ["decide", inst.raw_ids[1], *base])
    assert unscored.exit_code == 2
    assert "has not been scored yet" in unscored.output and "/candidates/score" in unscored.output
    bad = CliRunner().invoke(cli.app, ["decide", inst.raw_ids[0], "--decision", "reject-ish",
                                       "--reviewer", "Jane Smith", "--reason", "x"])
    assert bad.exit_code == 2
    assert "offer, reject, advance, hold" in bad.output and "staff handle" in bad.output
    assert len(_decisions(pg_server, inst, "cli")) == before


def test_explain_exports_what_the_model_used_for_one_candidate(installation, pg_server,
                                                               tmp_path):
    inst = installation
    scored = _score(inst, 0, "r-oversight-explain")
    conn = pg_server.endpoint.connect(inst.database)
    try:
        with conn, conn.cursor() as cur:
            ingest_inference_log(cur, inst.log)
            record_decision(cur, inst.key, inst.raw_ids[0], "advance", "k.osei",
                            "explained the role's targets; moving on", source="cli")
        asked = []

        def load(version: str):
            asked.append(version)
            return inst.served.model

        data = candidate_explanation(conn, inst.key, inst.raw_ids[0], load, generated_at=AT)
        row = read_frame(conn, "SELECT * FROM marts.fct_candidates_to_score WHERE "
                               "candidate_id = %s", (inst.pseudonyms[0],)).iloc[0]
    finally:
        conn.close()
    assert asked == [inst.version]  # the version that gave the score explains it
    assert data["score"]["request_id"] == "r-oversight-explain"
    assert data["score"]["probability"] == pytest.approx(scored["probability"], abs=1e-12)
    assert data["score"]["band"] == scored["band"]
    assert data["recomputed_probability"] == pytest.approx(scored["probability"], abs=1e-9)
    assert data["inputs_match_score"] is True  # the feature store's row is the one scored
    assert [(r["dimension"], r["log_odds"]) for r in data["reasons"]] == [
        (r["dimension"], r["log_odds"]) for r in scored["reason_details"]]
    assert all(r["text"] for r in data["reasons"])
    family = data["role_family"]
    used = [f for f in inst.served.model.families[family].features if "=" not in f]
    assert [f["name"] for f in data["features"]] == used and used
    for f in data["features"]:
        expected = row[f["name"]]
        assert (f["value"] is None) if pd.isna(expected) else f["value"] == pytest.approx(
            float(expected))
    names = " ".join(f["name"] for f in data["features"])
    assert not any(p in names for p in ("gender", "sex", "age", "birth", "race"))
    assert ("advance", "k.osei") in [(d["decision"], d["decided_by"])
                                     for d in data["decisions"]]
    assert "A person decides" in data["statement"]

    written = write_explanation(data, tmp_path / "asked.json", AT)
    assert [p.name for p in written] == ["asked.json", "asked.en.html", "asked.zh.html"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    text = "".join(p.read_text() for p in written)
    for other in inst.pseudonyms[1:]:
        assert other not in text  # no other candidate's data
    en, zh = written[1].read_text(), written[2].read_text()
    assert "A person decides" in en and "2026-12-02" in en and 'lang="zh-Hans"' in zh
    assert "A person decides" not in zh  # translated
    assert not page_outside_urls(en) and not page_outside_urls(zh)


def test_cli_explain_refuses_a_candidate_hireloop_never_scored(cli_on_installation):
    inst = cli_on_installation
    result = CliRunner().invoke(cli.app, ["explain", inst.raw_ids[1]])
    assert result.exit_code == 2
    assert "has not scored candidate" in result.output
    result = CliRunner().invoke(cli.app, ["explain", "NOT-A-CANDIDATE"])
    assert result.exit_code == 2 and "no candidate NOT-A-CANDIDATE" in result.output


def test_a_log_made_before_entry_ids_takes_a_second_decision_on_one_score(pg_server):
    """The first decision log made (source, request_id) unique: a person's second decision on
    one score would have been dropped without a word. Its index is replaced on first use."""
    database = pg_server.create_database("decisions_v1")
    conn = pg_server.endpoint.connect(database)
    who = "ab" * 16
    try:
        with conn, conn.cursor() as cur:
            cur.execute(hiring_decisions.DDL.split("DO $$", 1)[0])  # the table as it was
            cur.execute("CREATE UNIQUE INDEX hiring_decisions__request ON "
                        "monitoring.hiring_decisions (source, request_id) "
                        "WHERE request_id IS NOT NULL")
            first, second = (hiring_decisions.HiringDecision(
                who, d, "j.smith", why, "cli", request_id="r-1", entry_id=e)
                for d, why, e in (("hold", "references first", "e-1"),
                                  ("offer", "references were good", "e-2")))
            assert hiring_decisions.append_decisions(cur, [first, second]) == 2
            assert hiring_decisions.append_decisions(cur, [second]) == 0  # same entry: once
            rows = hiring_decisions.read_decisions(cur, candidate_pseudonym=who)
            simulated = hiring_decisions.HiringDecision(
                who, "offer", "simulated hiring manager", "followed the rounds", "simulation",
                request_id="r-1")
            assert hiring_decisions.append_decisions(cur, [simulated, simulated]) == 1
    finally:
        conn.close()
    assert rows["decision"].tolist() == ["hold", "offer"]
