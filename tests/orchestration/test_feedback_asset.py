"""The `feedback_report` asset: wired into the loop, it reads the registry's champion and
previous champion and writes the kept page with its index; real PostgreSQL (a copy of the
session's feature store), a real MLflow registry, Dagster in process."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from dagster import AssetKey, DagsterInstance, mem_io_manager

from ml.promotion import promote
from ml.pyfunc_model import log_pyfunc
from ml.registry import register_version
from orchestration.dbt import dbt_resource
from orchestration.definitions import MONITORING_ASSETS, build_definitions, defs
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from tests.ml.model_fixture import older_model, trained_model


@pytest.fixture(scope="module")
def resources(pg_server, hireloop_home, feature_store, tmp_path_factory):
    runtime = HireloopRuntime(home=str(hireloop_home),
                              database=pg_server.copy_database(feature_store.database,
                                                               "feedback_asset"))
    state = tmp_path_factory.mktemp("feedback_asset")
    store = MlflowResource(runtime=runtime, database=pg_server.create_database("mlflow_fb"),
                           artifact_root=str(state / "mlflow"))
    # the loop job's resources; only feedback_report runs, so no endpoint is started
    return {"hireloop": runtime, "mlflow": store, "endpoint": EndpointResource(home=str(state)),
            "dbt": dbt_resource(), "io_manager": mem_io_manager}


def _champion(resources, model, why: str) -> str:
    """Log `model` as a version of hireloop-kpi and make it champion, as the gate would."""
    target = resources["mlflow"].target()
    with mlflow.start_run(experiment_id=target.experiment_id) as run:
        log_pyfunc(model, "model")
    version = register_version(target.client, run.info.run_id, "model").version
    promote(target.client, version, "test", why)
    return str(version)


def _materialise(resources):
    job = build_definitions(resources).resolve_job_def("hireloop_loop")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance,
                                        asset_selection=[AssetKey("feedback_report")])
    assert result.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}["feedback_report"]
    return result.output_for_node("feedback_report"), meta


def test_the_asset_is_a_monitoring_asset_of_the_loop_after_the_promotion():
    assert "feedback_report" in {a.key.to_user_string() for a in MONITORING_ASSETS}
    loop = defs.resolve_job_def("hireloop_loop")
    node = loop.asset_layer.asset_graph.get(AssetKey("feedback_report"))
    assert {AssetKey("promotion_decision"), AssetKey(["marts", "fct_key_question_answers"]),
            AssetKey(["marts", "fct_training_examples"])} <= set(node.parent_keys)


def test_one_champion_then_two_the_page_compares_the_drivers(resources, feature_store):
    first_version = _champion(resources, older_model(feature_store), "first champion")
    value, meta = _materialise(resources)
    first_page = Path(meta["page"].value)
    text = first_page.read_text(encoding="utf-8")
    assert value["quarter"] == "2025-Q1" and value["champion"] == first_version
    assert value["previous"] is None
    assert f"Only one champion version so far (version {first_version})" in text
    assert "Production anomaly" in meta["key_questions"].value
    assert "≥ 8" in meta["attainment_by_band"].value
    assert f"v{first_version}" in meta["driver_shares"].value

    second_version = _champion(resources, trained_model(feature_store), "retrained")
    value, meta = _materialise(resources)
    page = Path(meta["page"].value)
    text = page.read_text(encoding="utf-8")
    assert (value["champion"], value["previous"]) == (second_version, first_version)
    assert f"From version {first_version} to version {second_version}:" in text
    drivers = meta["driver_shares"].value
    assert f"v{first_version}" in drivers and f"v{second_version}" in drivers
    assert "change" in drivers
    index = Path(meta["every_quarter"].value).read_text(encoding="utf-8")
    assert first_page.exists() and first_page != page
    assert f'href="{first_page.name}"' in index and f'href="{page.name}"' in index
