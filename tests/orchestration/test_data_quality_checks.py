"""GX suites as Dagster asset checks, on a copy of the hand-made export's dbt build.

A failing feature-store suite keeps training from running (through the real
`train_and_deploy` job), a table-level raw failure keeps dbt from running, and row defects
are warnings with their counts and a Data Docs link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
    mem_io_manager,
)

from hris.exports import record_export
from orchestration.assets.data_quality import (
    FEATURE_STORE,
    RAW_ROWS,
    RAW_TABLE,
    DataQualityResource,
    feature_store_data_quality,
    raw_data_quality,
)
from orchestration.assets.feature_store import feature_store
from orchestration.dbt import dbt_resource
from orchestration.definitions import build_definitions, defs
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from tests.dbt import conftest as dbt_conftest
from tests.dbt.hr_fixture import AS_OF

dbt_world = dbt_conftest.dbt_world  # the session's dbt build of the hr fixture


@pytest.fixture(scope="module")
def database(pg_server, dbt_world) -> str:
    """A copy of the hr fixture's built store (CREATE DATABASE … TEMPLATE)."""
    name = pg_server.copy_database(dbt_world.env["HIRELOOP_PG_DBNAME"], "dq_checks")
    conn = pg_server.endpoint.connect(name)
    with conn.cursor() as cur:  # the fixture loads raw without an export record
        record_export(cur, "tests/dbt fixture", "import", AS_OF)
    conn.commit()
    conn.close()
    return name


def _resources(hireloop_home, database: str, docs: Path, **bounds) -> dict:
    runtime = HireloopRuntime(home=str(hireloop_home), database=database)
    return {
        "hireloop": runtime, "dbt": dbt_resource(), "io_manager": mem_io_manager,
        "mlflow": MlflowResource(runtime=runtime, database="unused_mlflow"),
        "endpoint": EndpointResource(home=str(docs)),
        "data_quality": DataQualityResource(docs_dir=str(docs), **bounds),
    }


def _run(resources: dict, job_name: str | None = None, selection=None):
    if selection is not None:
        base = build_definitions(resources)
        job = Definitions.merge(base, Definitions(
            jobs=[define_asset_job("under_test", selection=selection)])).resolve_job_def(
            "under_test")
    else:
        job = build_definitions(resources).resolve_job_def(job_name)
    with DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def _checks(result) -> dict[tuple[str, str], object]:
    return {(c.asset_key.to_user_string(), c.check_name): c
            for c in result.get_asset_check_evaluations()}


def test_checks_are_registered_on_the_right_assets_and_jobs():
    graph = defs.get_repository_def().asset_graph
    keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("raw/interviews", RAW_ROWS) in keys and ("raw/interviews", RAW_TABLE) in keys
    assert ("staging/stg_hris__interviews", "staging_suite") in keys
    assert ("marts/fct_training_examples", FEATURE_STORE) in keys
    specs = {s.key.name: s for s in raw_data_quality.check_specs}
    assert specs[RAW_TABLE].blocking and not specs[RAW_ROWS].blocking
    assert all(s.blocking for s in feature_store_data_quality.check_specs)
    for job in ("hireloop_loop", "train_and_deploy"):
        selected = defs.resolve_job_def(job).asset_layer.asset_graph.asset_check_keys
        assert any(k.name == FEATURE_STORE for k in selected), job


def test_failing_feature_store_suite_blocks_training(hireloop_home, database, tmp_path):
    # Impossible bounds: no role family can have a met_kpi rate of 99.9 % or more.
    resources = _resources(hireloop_home, database, tmp_path, label_rate_min=0.999,
                           min_rows_per_family=1)
    result = _run(resources, "train_and_deploy")
    assert not result.success
    check = _checks(result)[("marts/fct_training_examples", FEATURE_STORE)]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert "role families whose met_kpi rate is outside [0.999, 0.95]: 4" in check.description
    assert result.get_asset_materialization_events() == []  # no training, nothing after it
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["feature_store_data_quality"]
    message = failures[0].step_failure_data.error.message
    assert "blocking asset check failed" in message and FEATURE_STORE in message
    meta = check.metadata
    assert meta["data_docs"].value.startswith("file://") and "label_rate" in meta[
        "failing_expectations"].value


def test_passing_feature_store_suite_lets_training_read(hireloop_home, database, tmp_path):
    resources = _resources(hireloop_home, database, tmp_path, min_rows_per_family=1,
                           label_rate_min=0.0, label_rate_max=1.0)
    result = _run(resources, selection=AssetSelection.assets("training_set")
                  | AssetSelection.checks(feature_store_data_quality))
    assert result.success
    assert _checks(result)[("marts/fct_training_examples", FEATURE_STORE)].passed
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        AssetKey("training_set")]


def test_raw_checks_warn_on_row_defects_and_block_dbt_on_table_failures(
        hireloop_home, database, tmp_path, pg_server):
    # 1 orphan candidate in 87 rows is above a 0.1 % limit: dbt does not run.
    result = _run(_resources(hireloop_home, database, tmp_path, max_orphan_share=0.001),
                  selection=AssetSelection.checks(raw_data_quality)
                  | AssetSelection.assets(feature_store))
    assert not result.success
    checks = _checks(result)
    contract = checks[("raw/candidates", RAW_TABLE)]
    assert not contract.passed and contract.severity == AssetCheckSeverity.ERROR
    assert "raw.candidates: 1 of" in contract.description and "orphans" in contract.description
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "raw/candidates: raw_table_contract" in failure.step_failure_data.error.message
    started = {e.step_key for e in result.all_events if e.is_step_start}
    assert "feature_store" not in started and "raw_data_quality" in started
    assert result.get_asset_materialization_events() == []
    # Row defects are warnings with their counts; tables without orphans hold.
    rows = checks[("raw/interview_scores", RAW_ROWS)]
    assert not rows.passed and rows.severity == AssetCheckSeverity.WARN
    assert rows.metadata["unexpected_by_reason"].value["duplicate_key"] == 1
    assert rows.metadata["data_docs"].value.startswith("file://")
    assert all(checks[(f"raw/{t}", RAW_TABLE)].passed
               for t in ("job_roles", "employees", "interview_questions"))
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute("select count(distinct suite) from monitoring.dq_results where run_id = %s",
                    [result.run_id])
        assert cur.fetchone()[0] == 8
    conn.close()
    assert (tmp_path / "index.html").exists() and (tmp_path / "raw" / "index.html").exists()
