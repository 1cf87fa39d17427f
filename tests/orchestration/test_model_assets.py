"""Model assets wired in Dagster, materialised in-process on a small real feature store.

Real PostgreSQL (a copy of the session's dbt-built feature store), a fresh MLflow tracking
database, and one real scoring endpoint (ml/scoring_app.py) for the whole module.
"""

from __future__ import annotations

import json

import pytest
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance

from ml.endpoint_launch import ping
from ml.http_scoring import score_over_http
from ml.promotion import IDENTICAL, promotion_history
from ml.registry import (
    CHAMPION,
    IDENTITY_TAGS,
    TAG_DAGSTER_RUN,
    TAG_DATA_SHA256,
    TAG_GIT_COMMIT,
    champion_version,
    version_by_alias,
)
from orchestration.assets.model import promotion_is_fair
from orchestration.definitions import build_definitions, defs
from tests.orchestration.job_resources import job_resources

# Small but real: one search configuration, one strategy; the gate logic is under test here,
# not the model's quality (tests/ml covers that).
QUICK = {"n_search": 2, "max_trees": 150, "early_stopping_rounds": 20,
         "strategies": ["per_family"], "refit": False}
MODEL_KEYS = ["training_set", "trained_model", "registered_challenger", "promotion_decision"]


@pytest.fixture(scope="module")
def resources(pg_server, hireloop_home, feature_store, tmp_path_factory):
    with job_resources(pg_server, hireloop_home, feature_store, "model_assets",
                       tmp_path_factory.mktemp("model_assets")) as bound:
        yield bound


def _run(resources, keys, training: dict | None = None, raise_on_error: bool = True,
         job: str = "train_and_deploy"):
    job = build_definitions(resources).resolve_job_def(job)
    config = {"ops": {"trained_model": {"config": {**QUICK, **(training or {})}}}}
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            run_config=config, instance=instance,
            asset_selection=[AssetKey(k) for k in keys], raise_on_error=raise_on_error)


def _materialised(result) -> dict[str, dict]:
    return {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}


def test_definitions_hold_the_model_assets_checks_and_jobs():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {*MODEL_KEYS, "deployed_endpoint", "batch_scores", "online_scores",
            "inference_log_ingest"} <= keys
    checks = {k.name: k for k in repo.asset_graph.asset_check_keys}
    assert checks["trained_model_is_sound"].asset_key == AssetKey("trained_model")
    spec = next(s for s in defs.resolve_assets_def("trained_model").check_specs
                if s.name == "trained_model_is_sound") if defs.resolve_assets_def(
        "trained_model").check_specs else None
    assert spec is None  # a separate @asset_check, not a spec on the asset itself
    loop = defs.resolve_job_def("hireloop_loop")
    loop_keys = {k.to_user_string() for k in loop.asset_layer.selected_asset_keys}
    assert {"raw/interviews", "feature_store_summary", *MODEL_KEYS, "deployed_endpoint",
            "batch_scores", "online_scores", "inference_log_ingest"} <= loop_keys
    # the loop is one run: the online scores precede their ingest in it
    upstream = loop.asset_layer.asset_graph.get(AssetKey("inference_log_ingest")).parent_keys
    assert AssetKey("online_scores") in upstream
    assert defs.resolve_job_def("build_feature_store") is not None
    train = defs.resolve_job_def("train_and_deploy")
    assert "raw/interviews" not in {k.to_user_string()
                                    for k in train.asset_layer.selected_asset_keys}


def test_a_fairness_refusal_fails_its_blocking_check_with_the_reason():
    refused = {"event": "kept_champion", "version": "4",
               "reasons": ["pass overall_auc: fine",
                           "FAIL fairness: sex female (scoring rate): impact ratio 0.529"],
               "figures": {"checks": {"fairness": {"passed": False,
                                                   "failures": ["sex female"]}}}}
    result = promotion_is_fair(refused)
    assert not result.passed and result.severity == AssetCheckSeverity.ERROR
    assert result.description.startswith("FAIL fairness: sex female")
    spec = next(iter(promotion_is_fair.check_specs))
    assert spec.blocking and spec.asset_key == AssetKey("promotion_decision")
    # a gate that recorded no fairness check fails closed; an identical version passes
    assert not promotion_is_fair({"event": "promoted", "reasons": [], "figures": {}}).passed
    assert promotion_is_fair({"event": IDENTICAL, "reasons": []}).passed


def test_first_run_promotes_serves_and_scores(resources, pg_server, feature_store):
    # The loop job's model half, with the endpoint's serving context: one run that trains,
    # deploys, scores in batch, lets the interview tool score over HTTP and ingests its log.
    result = _run(resources, ["serving_context", *MODEL_KEYS, "deployed_endpoint",
                              "batch_scores", "online_scores", "inference_log_ingest",
                              "fairness_report"],
                  job="hireloop_loop")
    assert result.success
    meta = _materialised(result)
    checks = result.get_asset_check_evaluations()
    assert [c.passed for c in checks if c.check_name == "trained_model_is_sound"] == [True]

    target = resources["mlflow"].target()
    client = target.client
    version = result.output_for_node("registered_challenger")
    assert str(champion_version(client).version) == version
    tags = client.get_model_version("hireloop-kpi", version).tags
    assert tags["promotion.decision"] == "promoted"
    reasons = json.loads(tags["promotion.reasons"])
    # the first model meets the fairness gate too (nothing else to compare it with)
    assert reasons[0] == "no champion yet" and reasons[1].startswith("pass fairness:")
    assert len(reasons) == 2
    assert [c.passed for c in checks if c.check_name == "promotion_is_fair"] == [True]
    # a normal run leaves no raw personal value in the store, MLflow, the reports or the
    # inference log (the content scan, as the loop's asset check runs it)
    scan = [c for c in checks if c.check_name == "no_personal_data_downstream"]
    assert [c.passed for c in scan] == [True], scan[0].description if scan else "not run"
    run = client.get_run(result.output_for_node("trained_model").logged.run_id)
    assert run.data.tags[TAG_DAGSTER_RUN] == result.run_id
    assert len(run.data.tags[TAG_DATA_SHA256]) == 64
    assert len(run.data.tags.get(TAG_GIT_COMMIT, "x" * 40)) == 40
    assert "model.overall.roc_auc" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/roc.png" in artifacts and "plots/shap_summary.png" in artifacts
    url = meta["trained_model"]["mlflow_run"].value
    assert url.startswith("http://127.0.0.1:5000/#/experiments/") and url.endswith(
        run.info.run_id)
    assert "AUC interviewer rating" in meta["trained_model"]["metrics_vs_baselines"].value
    # the version's fairness audit: artifacts of its run, pages for HR leads on disk
    fairness = {a.path for a in client.list_artifacts(run.info.run_id, "fairness")}
    assert {"fairness/fairness_report.json", "fairness/ll144_summary.json",
            "fairness/fairness_report.en.html", "fairness/fairness_report.zh.html"} == fairness
    assert "holdout" in meta["fairness_report"]["samples"].value
    pages = resources["hireloop"].settings.reports_dir / "fairness"
    assert (pages / f"version_{version}.fairness_report.en.html").exists()

    deployed = result.output_for_node("deployed_endpoint")
    assert deployed["restarted"] and deployed["served_version"] == version
    assert ping(deployed["url"])

    batch = result.output_for_node("batch_scores")
    assert batch["scored"] > 0 and batch["scored"] + batch["rejected"] == batch["candidates"]
    conn = pg_server.endpoint.connect(resources["hireloop"].database)
    conn.autocommit = True  # an open read transaction would block the ingest's DDL
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), min(model_version), max(model_version), "
                    "count(candidate_pseudonym) FROM monitoring.scoring_log "
                    "WHERE source = 'batch'")
        n, vmin, vmax, with_pseudonym = cur.fetchone()
    assert n == batch["logged"] == batch["scored"] == with_pseudonym
    assert vmin == vmax == version

    # The interview tool's turn, in the same run: every waiting candidate's records over
    # HTTP, each score logged by the endpoint and ingested under the store's pseudonym.
    online = result.output_for_node("online_scores")
    waiting = set(feature_store.read(
        "SELECT candidate_id FROM marts.fct_candidates_to_score")["candidate_id"])
    assert online["rows"] == len(waiting) == batch["candidates"]
    assert online["scored"] == len(waiting) and online["refused"] == online["failed"] == 0
    assert set(online["statuses"]) == {200}
    assert meta["online_scores"]["scored"].value == online["scored"]
    assert result.output_for_node("inference_log_ingest")["added"] == online["scored"]
    with conn.cursor() as cur:
        cur.execute("SELECT candidate_pseudonym, model_version FROM monitoring.scoring_log "
                    "WHERE source = 'online'")
        logged = cur.fetchall()
    assert len(logged) == len(waiting)
    assert {p for p, _ in logged} == waiting and {v for _, v in logged} == {version}

    # Online: a real valid row over HTTP lands in the scoring log after ingest.
    rows = [{**batch["example"], "request_id": f"orch-test-{i}"} for i in range(3)]
    sent = score_over_http(deployed["url"], rows,
                           token=resources["hireloop"].settings.endpoint_token())
    assert sent.scored == 3 and sent.statuses == {200: 1}
    ingest = build_definitions(resources).resolve_job_def("ingest_inference_log")
    with DagsterInstance.ephemeral() as instance:
        done = ingest.execute_in_process(instance=instance)
    assert done.output_for_node("inference_log_ingest")["added"] == 3
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM monitoring.scoring_log WHERE source = 'online' "
                    "AND request_id LIKE 'orch-test-%%' AND model_version = %s", [version])
        assert cur.fetchone()[0] == 3
    conn.close()


def test_feature_drift_asset_records_the_champions_drift(resources, pg_server):
    """After the first run's champion: the loop's feature_drift asset writes one summary row
    and one Evidently snapshot per role family, and its metadata tables the drift shares."""
    job = build_definitions(resources).resolve_job_def("hireloop_loop")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance,
                                        asset_selection=[AssetKey("feature_drift")])
    assert result.success
    value = result.output_for_node("feature_drift")
    champion = str(champion_version(resources["mlflow"].target().client).version)
    assert value["model_version"] == champion and value["quarter"]
    assert set(value["drift_share"]) == set(value["snapshots"]) and value["snapshots"]
    meta = _materialised(result)["feature_drift"]
    assert "drift_share" in meta["drift_share_by_family"].value
    conn = pg_server.endpoint.connect(resources["hireloop"].database)
    with conn.cursor() as cur:
        cur.execute("SELECT role_family, snapshot_id FROM monitoring.feature_drift_summary "
                    "WHERE model_version = %s", [champion])
        assert dict(cur.fetchall()) == value["snapshots"]
    conn.close()


def test_model_quality_asset_records_the_champions_quality(resources, pg_server,
                                                          hireloop_home):
    """After the first run's champion: the loop's model_quality asset writes its early and
    estimate rows (no cohort after the champion's has matured at the export date), a
    metadata table per family and the HR lead's page."""
    job = build_definitions(resources).resolve_job_def("hireloop_loop")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance,
                                        asset_selection=[AssetKey("model_quality")])
    assert result.success
    value = result.output_for_node("model_quality")
    champion = str(champion_version(resources["mlflow"].target().client).version)
    assert value["model_version"] == champion
    assert value["rows"]["realised"] == 0 and value["rows"]["early"] > 0
    assert value["rows"]["estimate"] > 0
    meta = _materialised(result)["model_quality"]
    assert "ESTIMATE" in meta["quality_all"].value and "quality_sales" in meta
    assert (hireloop_home / "reports" / "monitoring" / "index.html").exists()
    conn = pg_server.endpoint.connect(resources["hireloop"].database)
    with conn.cursor() as cur:
        cur.execute("SELECT kind, count(*) FROM monitoring.model_quality "
                    "WHERE model_version = %s GROUP BY kind", [champion])
        assert {k: n for k, n in cur.fetchall() if n} == {
            k: n for k, n in value["rows"].items() if n}
    conn.close()


def test_a_build_on_unchanged_data_registers_no_duplicate_and_keeps_going(resources):
    # Same feature store, same training config, same code as the first run's version.
    client = resources["mlflow"].target().client
    champion_before = str(champion_version(client).version)
    versions_before = len(client.search_model_versions("name = 'hireloop-kpi'"))
    history_before = promotion_history(client)
    result = _run(resources, [*MODEL_KEYS, "deployed_endpoint"])
    assert result.success
    assert len(client.search_model_versions("name = 'hireloop-kpi'")) == versions_before
    version = result.output_for_node("registered_challenger")
    assert version == champion_before  # says which version it is
    meta = _materialised(result)["registered_challenger"]
    assert not meta["registered"].value and meta["identical_to"].value == version
    record = result.output_for_node("promotion_decision")
    assert record["event"] == "identical_version" and not record["promote"]
    assert f"as version {version}: no new challenger" in record["reasons"][0]
    assert promotion_history(client) == history_before  # nothing decided, nothing recorded
    assert str(champion_version(client).version) == champion_before
    tags = client.get_model_version("hireloop-kpi", version).tags
    assert all(tags[k] for k in IDENTITY_TAGS)
    deployed = result.output_for_node("deployed_endpoint")
    assert not deployed["restarted"] and deployed["served_version"] == champion_before


def test_retrain_with_another_config_is_a_new_challenger_gated_against_the_champion(
        resources):
    client = resources["mlflow"].target().client
    champion_before = str(champion_version(client).version)
    # One more early-stopping round: a new config, so a new version, no better than before.
    result = _run(resources, [*MODEL_KEYS, "deployed_endpoint"],
                  training={"early_stopping_rounds": QUICK["early_stopping_rounds"] + 1})
    assert result.success
    version = result.output_for_node("registered_challenger")
    assert version != champion_before
    record = result.output_for_node("promotion_decision")
    assert record["event"] == "kept_champion" and not record["promote"]
    assert any("FAIL overall_auc" in r for r in record["reasons"])
    assert str(champion_version(client).version) == champion_before
    assert str(version_by_alias(client, "challenger").version) == version
    tags = client.get_model_version("hireloop-kpi", version).tags
    assert tags["promotion.decision"] == "kept_champion"
    assert [e["event"] for e in promotion_history(client)][-2:] == ["promoted", "kept_champion"]
    deployed = result.output_for_node("deployed_endpoint")
    assert not deployed["restarted"] and deployed["served_version"] == champion_before


def test_blocking_check_keeps_a_broken_model_out_of_the_registry(resources):
    client = resources["mlflow"].target().client
    versions_before = len(client.search_model_versions("name = 'hireloop-kpi'"))
    champion_before = str(version_by_alias(client, CHAMPION).version)
    # Interview length alone: a model no better than chance, below the interviewer's rating.
    result = _run(resources, MODEL_KEYS, training={"include": ["mean_duration_minutes"],
                                                   "make_figures": False},
                  raise_on_error=False)
    checks = [c for c in result.get_asset_check_evaluations()
              if c.check_name == "trained_model_is_sound"]
    assert len(checks) == 1 and not checks[0].passed
    assert "FAIL beats_rating_baseline" in checks[0].description
    assert set(_materialised(result)) == {"training_set", "trained_model"}
    assert len(client.search_model_versions("name = 'hireloop-kpi'")) == versions_before
    assert str(version_by_alias(client, CHAMPION).version) == champion_before


def test_the_rater_bias_correction_is_decided_from_the_stores_audit(resources):
    """With TrainConfig.rater_bias_correction the asset audits its own feature store: the
    model it trains leaves out the human communication scores the audit flags (the planted
    bias) and the ratings built on them, and records them in its version."""
    result = _run(resources, ["training_set", "trained_model"],
                  training={"rater_bias_correction": True, "make_figures": False})
    trained = result.output_for_node("trained_model")
    removed = trained.model.version_info["rater_bias_correction"]["removed"]
    assert {"interviewer_communication", "overall_rating_mean"} <= set(removed)
    for fam in trained.model.families.values():
        assert not set(fam.features) & set(removed) and "ai_communication" in fam.features
