"""The `retrain` job wired in Dagster on a concept_drift world (real PostgreSQL + dbt, a real
MLflow store, a real endpoint): an unsound pick fails the run through the blocking check
and is recorded as refused; a sound and fair retrain promotes the window that wins, records
the decision with figures that recompute to it (every challenger's fairness judgement
included), audits the new version's fairness on its MLflow run, and the endpoint serves
the new champion.
"""

from __future__ import annotations

from types import SimpleNamespace

import mlflow as mlflow_lib
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance
from sklearn.metrics import roc_auc_score

from ml.datasets import read_training_set
from ml.endpoint_launch import ping
from ml.http_scoring import score_over_http
from ml.promotion import promote
from ml.pyfunc_model import log_pyfunc
from ml.registry import champion_version, register_version
from ml.retrain import (
    PROMOTED,
    REFUSED,
    ROUTE_ROWS,
    RetrainGatePolicy,
    decide_from_figures,
    passed_routes,
)
from ml.split import COHORT
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from ml.windows import quarter_index
from monitoring.loop_decisions import read_decisions
from orchestration.definitions import build_definitions, defs
from orchestration.run_failures import explain_failure
from orchestration.runs import execute
from orchestration.sensors import (
    TAG_AS_OF,
    TAG_QUARTER,
    evaluate_loop_trigger,
    launch_tags,
    run_key_for,
)
from tests.ml.test_pyfunc import valid_rows
from tests.orchestration.job_resources import job_resources
from tests.simulated_store import post_change_applicants

QUICK = {"n_search": 2, "max_trees": 200, "early_stopping_rounds": 20,
         "strategies": ["per_family"], "make_figures": False}
KEYS = ["training_set", "retrain_challengers", "retrain_gate", "retrained_champion",
        "retrained_fairness_report", "deployed_endpoint"]


@pytest.fixture(scope="module")
def resources(pg_server, hireloop_home, drift_store, tmp_path_factory):
    with job_resources(pg_server, hireloop_home, drift_store, "retrain_job",
                       tmp_path_factory.mktemp("retrain_job")) as bound:
        yield bound


@pytest.fixture(scope="module")
def champion(resources, pg_server):
    """The champion of before the change: cohorts up to 2023-Q3, registered and promoted."""
    conn = pg_server.endpoint.connect(resources["hireloop"].database)
    try:
        mature = read_training_set(conn)
    finally:
        conn.close()
    old = mature.loc[quarter_index(mature[COHORT]) <= quarter_index(pd.Series(["2023-Q3"]))[0]]
    model = train_and_evaluate(old, TrainConfig(n_search=2, max_trees=200,
                                                strategies=("per_family",)),
                               make_figures=False).model
    target = resources["mlflow"].target()
    with mlflow_lib.start_run() as run:
        log_pyfunc(model, "model", model_name=resources["mlflow"].model_name)
    version = register_version(target.client, run.info.run_id, "model")
    promote(target.client, version.version, actor="test", why="the champion before drift")
    return str(version.version)


def _run(resources, challengers: dict | None = None):
    job = build_definitions(resources).resolve_job_def("retrain")
    config = {"ops": {"retrain_challengers": {"config": {**QUICK, **(challengers or {})}}}}
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(run_config=config, instance=instance,
                                      asset_selection=[AssetKey(k) for k in KEYS],
                                      raise_on_error=False)


def _decisions(resources, pg_server) -> pd.DataFrame:
    conn = pg_server.endpoint.connect(resources["hireloop"].database)
    try:
        with conn.cursor() as cur:
            return read_decisions(cur)
    finally:
        conn.close()


def test_the_retrain_job_holds_its_assets_and_blocking_check():
    job = defs.resolve_job_def("retrain")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert set(KEYS) <= keys
    checks = {k.name: k for k in defs.get_repository_def().asset_graph.asset_check_keys}
    assert checks["retrain_pick_is_sound"].asset_key == AssetKey("retrain_gate")
    # the endpoint follows a retrain's champion as it does a build's
    upstream = job.asset_layer.asset_graph.get(AssetKey("deployed_endpoint")).parent_keys
    assert AssetKey("retrained_champion") in upstream


def _check(result):
    return next(c for c in result.get_asset_check_evaluations()
                if c.check_name == "retrain_pick_is_sound")


def test_an_unsound_pick_fails_the_run_and_is_recorded_as_refused(
        resources, champion, pg_server):
    # No challenger can beat the interviewer-rating baseline by a whole AUC point.
    result = _run(resources, {"baseline_margin": 1.0})
    assert not result.success
    check = _check(result)
    assert not check.passed and check.severity.value == "ERROR"
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"retrain_challengers", "retrain_gate"} <= done
    assert not done & {"retrained_champion", "retrained_fairness_report", "deployed_endpoint"}
    assert str(champion_version(resources["mlflow"].target().client).version) == champion
    row = _decisions(resources, pg_server).iloc[-1]
    assert row["decision"] == REFUSED and row["dagster_run_id"] == result.run_id
    assert row["champion_before"] == row["champion_after"] == champion
    assert any("does not beat the interviewer-rating baseline" in r for r in row["reasons"])
    pick = result.output_for_node("retrain_gate").winner
    assert decide_from_figures(row["figures"]) == (REFUSED, pick)
    sound = row["figures"]["soundness"]
    assert {w: s["beats_rating_baseline"]["margin"] for w, s in sound.items()} == {
        "all": 1.0, "recent": 1.0, "recency": 1.0}


@pytest.fixture(scope="module")
def triggered(resources, champion):
    """The loop as the daemon runs it: the champion of before the change monitored at the
    store's as-of (the `monitor_quarter` job: drift, quality, feedback), the `loop_trigger`
    sensor evaluated in process, and the retrain it requests run with the request's tags
    and run key, the loop's defaults and quick challengers; then the sensor looks again."""
    defs_ = build_definitions(resources)
    with DagsterInstance.ephemeral() as instance:
        monitored = execute(defs_, "monitor_quarter", instance)
        assert monitored.success, explain_failure(monitored).message()
        requests = evaluate_loop_trigger(instance, defs_)
        assert len(requests) == 1, "the sensor requested no retrain after concept drift"
        job = defs_.resolve_job_def("retrain")
        result = job.execute_in_process(
            run_config={"ops": {"retrain_challengers": {"config": QUICK}}}, instance=instance,
            asset_selection=[AssetKey(k) for k in KEYS], raise_on_error=False,
            tags=launch_tags(requests[0]))
        again = evaluate_loop_trigger(instance, defs_)
    return SimpleNamespace(request=requests[0], result=result, again=again)


@pytest.fixture(scope="module")
def promoted(triggered):
    """The sensor-requested retrain's run."""
    return triggered.result


def test_the_sensor_detects_the_change_and_requests_one_retrain_for_the_quarter(
        triggered, resources, pg_server):
    """What the monitoring recorded breaches the loop's default thresholds: one request,
    keyed to the quarter, whose reasons name the breached figures; looking again requests
    nothing (the run key exists); the retrain's decision row carries the trigger's reasons
    ahead of the gate's."""
    request = triggered.request
    assert request.run_key == run_key_for("2025-Q3")
    assert request.tags[TAG_QUARTER] == "2025-Q3" and request.tags[TAG_AS_OF] == "2025-10-01"
    assert triggered.again == []
    row = _decisions(resources, pg_server).iloc[-1]
    assert row["run_key"] == request.run_key and row["quarter"] == "2025-Q3"
    breaches = [r for r in row["reasons"] if r.startswith("trigger: ")]
    assert breaches and row["reasons"][:len(breaches)] == breaches
    # they are the breaches among every figure the sensor looked at, recorded beside
    looked_at = row["figures"]["trigger"]["reasons"]
    assert [f"trigger: {r}" for r in looked_at if r.endswith(": retrain")] == breaches
    assert any("within" in r for r in looked_at)


def test_a_retrain_after_drift_promotes_records_and_redeploys(resources, champion, promoted,
                                                              pg_server):
    result = promoted
    assert result.success, _check(result).description
    value = result.output_for_node("retrained_champion")
    assert value["decision"] == PROMOTED and value["winner"] in ("recent", "recency")
    target = resources["mlflow"].target()
    new = str(champion_version(target.client).version)
    assert new == value["version"] == value["champion_after"] != champion
    version = target.client.get_model_version(resources["mlflow"].model_name, new)
    assert version.tags["promotion.decision"] == "retrained_promoted"

    row = _decisions(resources, pg_server).iloc[-1]
    assert row["decision"] == PROMOTED and row["champion_before"] == champion
    assert row["champion_after"] == new and row["as_of"].isoformat() == "2025-10-01"
    figures = row["figures"]
    # the decision recomputes from the recorded figures alone, and its reasons name them
    assert decide_from_figures(figures) == (PROMOTED, value["winner"])
    # it passed on the mature gate cohort or on the early route, and the reasons say which
    judged = figures["challengers"][value["winner"]]
    routes = passed_routes(judged, RetrainGatePolicy(**figures["policy"]))
    head = next(r for r in row["reasons"] if not r.startswith("trigger: "))  # the gate's
    assert routes and all(ROUTE_ROWS[r] in head for r in routes)
    for route in routes:
        won = (judged if route == "mature" else judged["early"])["overall"]
        assert won["low"] > figures["policy"]["margin"]
        assert f"{won['diff']:+.3f}" in " ".join(row["reasons"])
    assert set(judged["by_family"]) == {"customer_service", "manufacturing", "rnd", "sales"}
    # the early route, on by default: every challenger judged there too, by out-of-fold
    # predictions of fold models that each left one fold's partial labels out
    early = figures["early_gate"]
    assert early["tried"] and early["n"] >= figures["policy"]["min_early_rows"]
    assert sum(early["reviews"].values()) == early["n"]
    assert min(early["cohorts"]) > figures["gate_cohort"]
    for name, c in figures["challengers"].items():
        assert c["early"]["overall"]["n"] == early["n"]
        assert "(gate cohort (mature labels))" in c["early"]["checks"]["calibration"]["reason"]
        route = figures["windows"][name]["early_route"]
        assert route["folds"] == 2 and sum(route["n_judged"]) == early["n"]
        # each fold model learned from fewer partial labels than the challenger itself
        assert all(0 < n < figures["windows"][name]["n_partial"] for n in route["n_partial"])
    assert figures["windows"][value["winner"]]["gate_cohort"] == figures["gate_cohort"]
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    assert "diff" in meta["retrain_gate"]["paired_auc"].value
    # every challenger met the fairness gate on the gate cohort, and the new version's
    # audit is on its MLflow run as the build's is
    assert set(figures["fairness"]) == set(figures["challengers"])
    assert figures["fairness"][value["winner"]]["passed"]
    assert figures["fairness"][value["winner"]]["n"] == judged["overall"]["n"]  # gate cohort
    audit = result.output_for_node("retrained_fairness_report")
    assert audit["version"] == new
    logged = {a.path for a in target.client.list_artifacts(version.run_id, "fairness")}
    assert {"fairness/fairness_report.json", "fairness/ll144_summary.json",
            "fairness/fairness_report.en.html",
            "fairness/fairness_report.zh.html"} <= logged, logged

    deployed = result.output_for_node("deployed_endpoint")
    assert deployed["served_version"] == new and deployed["restarted"]
    assert ping(deployed["url"])


def test_the_promoted_champion_beats_the_old_on_the_truth_and_is_served_over_http(
        resources, champion, promoted, drift_store):
    """After the promotion: the registered versions, read back from MLflow, on every
    post-change applicant's counterfactual outcome (sim_truth, which the company cannot
    see): the new champion orders them better than the old; and the endpoint answers over
    HTTP with the new version."""
    assert promoted.success
    mlflow = resources["mlflow"]
    new, new_model = mlflow.champion_model("score with")
    old, old_model = mlflow.alias_model("previous_champion")
    assert old == champion != new
    post = post_change_applicants(drift_store)
    assert len(post) > 2000
    truth = {v: roc_auc_score(post["cf_met"], m.predict_proba(post))
             for v, m in ((old, old_model), (new, new_model))}
    assert truth[new] > truth[old] + 0.02, truth

    rows = [{k: v for k, v in row.items() if pd.notna(v)}  # a family's own fields only
            for row in valid_rows(new_model, 8, seed=3).to_dict(orient="records")]
    sent = score_over_http(resources["endpoint"].url, rows, keep_predictions=True,
                           token=resources["hireloop"].settings.endpoint_token())
    assert sent.scored == len(rows) and sent.statuses == {200: 1}
    assert {p["model_version"] for p in sent.predictions} == {new}



def test_without_the_early_route_the_gate_judges_on_the_gate_cohort_alone(
        resources, promoted, pg_server):
    """`early_gate_folds: 0` (run config): no fold models, no early route; the decision
    recomputes from the figures. Last in the module: it may promote again."""
    result = _run(resources, {"early_gate_folds": 0})
    assert result.success, _check(result).description
    figures = _decisions(resources, pg_server).iloc[-1]["figures"]
    assert figures["early_gate"] == {"n": 0, "tried": False}
    assert not any("early" in c for c in figures["challengers"].values())
    assert all(w["early_route"]["folds"] == 0 for w in figures["windows"].values())
    assert decide_from_figures(figures)[0] == result.output_for_node("retrained_champion")[
        "decision"]
    windows = figures["windows"]
    assert all(w["n_partial"] > 0 for w in windows.values()), windows
