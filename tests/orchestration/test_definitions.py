"""Dagster wiring: the definitions load, and ingest + feature store materialise in-process."""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterInstance

from hris.contract import RAW_TABLES
from orchestration.dbt import dbt_resource
from orchestration.definitions import defs
from orchestration.resources import HireloopRuntime


def test_definitions_load_with_every_layer():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {f"raw/{t}" for t in RAW_TABLES} <= keys
    assert any(k.endswith("fct_training_examples") for k in keys)
    assert any(k.endswith("fct_candidates_to_score") for k in keys)
    assert "feature_store_summary" in keys
    # dbt tests are asset checks
    assert len(list(repo.asset_graph.asset_check_keys)) > 10
    assert defs.resolve_job_def("build_feature_store") is not None


@pytest.mark.parametrize("name", ["monitor_quarter", "quarter_cycle"])
def test_the_quarters_monitoring_jobs_train_nothing(name):
    job = defs.resolve_job_def(name)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"feature_drift", "model_quality", "feedback_report"} <= keys
    # on the champion in force: no training, registering, deploying or audit of a new version
    assert not keys & {"training_set", "trained_model", "registered_challenger",
                       "promotion_decision", "deployed_endpoint", "fairness_report",
                       "retrain_challengers"}


def test_a_quarters_one_run_imports_builds_ingests_then_monitors():
    """quarter_cycle is the whole quarter in one run: monitoring must come after the build
    it reads (an asset dependency orders the steps, nothing else does)."""
    job = defs.resolve_job_def("quarter_cycle")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {f"raw/{t}" for t in RAW_TABLES} | {"inference_log_ingest", "serving_context",
                                                "marts/fct_early_outcomes"} <= keys
    graph = defs.get_repository_def().asset_graph
    upstream = {k.to_user_string() for k in graph.get(AssetKey("feature_drift")).parent_keys}
    assert "intermediate/int_candidate_features_joined" in upstream


def test_build_job_materialises_ingest_and_feature_store(pg_server, hireloop_home):
    database = pg_server.create_database("dagster_job")
    resources = {
        "hireloop": HireloopRuntime(home=str(hireloop_home), database=database),
        "dbt": dbt_resource(),
    }
    job = defs.resolve_job_def("build_feature_store")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            run_config={"ops": {"raw_hr_tables": {"config": {"candidates": 1500, "seed": 3}}}},
            resources=resources,
            instance=instance,
        )
        assert result.success
        materialised = {
            e.asset_key for e in result.get_asset_materialization_events()
        }
        checks = result.get_asset_check_evaluations()
    assert AssetKey(["raw", "interviews"]) in materialised
    assert any(k.path[-1] == "fct_training_examples" for k in materialised)
    assert checks and all(c.passed for c in checks)

    summary = result.output_for_node("feature_store_summary")
    assert "Label rate per role family" in summary
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM marts.fct_training_examples")
        n_examples = cur.fetchone()[0]
        cur.execute("SELECT as_of_date FROM raw._exports")
        as_of = cur.fetchall()
    conn.close()
    assert n_examples > 50
    assert [str(a[0]) for a in as_of] == ["2025-01-01"]


def test_definitions_load_in_a_fresh_process_with_a_stale_manifest():
    """A fresh clone has no manifest and an edited project a stale one: loading the
    definitions (what `make demo` does first) re-parses instead of failing or using it."""
    import os
    import subprocess
    import sys

    from orchestration.dbt import MANIFEST, ensure_manifest, manifest_is_current

    ensure_manifest()
    os.utime(MANIFEST, (0, 0))  # older than every project file, as after an edit
    assert not manifest_is_current()
    subprocess.run([sys.executable, "-c", "import orchestration.definitions"], check=True,
                   timeout=300)
    assert manifest_is_current()
