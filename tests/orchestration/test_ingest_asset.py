"""The ingest asset applies hris's load rules, and the as-of it leaves is the one dbt gets.

Real PostgreSQL, the real `build_feature_store` job run in process (a refusal stops it at
its first step, so no dbt runs), and the feature store's own `prepare_dbt_run`.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from dagster import DagsterInstance

from hris.ingest import ingest_export, ingest_simulated
from orchestration.assets.feature_store import prepare_dbt_run
from orchestration.dbt import dbt_resource
from orchestration.definitions import build_definitions, defs
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from tests.hris.raw_fixtures import make_raw_frames, write_csv_export


@pytest.fixture(scope="module")
def real_export(tmp_path_factory):
    directory = tmp_path_factory.mktemp("asset_export")
    write_csv_export(make_raw_frames(40, seed=6), directory)
    return directory


def _register(pg_server, database: str) -> list[tuple]:
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute("SELECT kind, as_of_date FROM raw._exports ORDER BY export_id")
        rows = cur.fetchall()
    conn.close()
    return rows


def _ingest(hireloop_home, database: str, config: dict):
    resources = {"hireloop": HireloopRuntime(home=str(hireloop_home), database=database),
                 "dbt": dbt_resource()}
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("build_feature_store").execute_in_process(
            run_config={"ops": {"raw_hr_tables": {"config": config}}}, resources=resources,
            instance=instance, raise_on_error=False)
    failures = [e.step_failure_data.user_failure_data.description
                for e in result.all_events if e.is_step_failure]
    return result, failures


@pytest.mark.parametrize(("config", "expected"), [
    ({"source": "import", "as_of": "2025-01-01"}, "sandbox"),  # real export into a sandbox
    ({"source": "import"}, "as-of"),  # a real export without its as-of
    ({"source": "simulator", "as_of": "2024-12-01"}, "earlier than the as-of in force"),
    ({"source": "simulator", "history_end": "June"}, "history end 'June' is not a date"),
    ({"source": "simulator", "history_end": "2024-06-30", "as_of": "2024-06-30"},
     "not after the history's end"),
    ({"source": "import", "history_end": "2024-06-30"}, "simulator only"),
])
def test_the_ingest_step_refuses_what_hris_refuses(pg_server, hireloop_home, real_export,
                                                   config, expected):
    database = pg_server.create_database("ingest_asset")
    conn = pg_server.endpoint.connect(database)
    with conn:
        ingest_simulated(conn, 80, 2, dt.date(2025, 1, 1))
    conn.close()
    before = _register(pg_server, database)
    if config["source"] == "import":
        config = {**config, "import_dir": str(real_export)}
    result, failures = _ingest(hireloop_home, database, {**config, "candidates": 80})
    assert not result.success
    assert len(failures) == 1 and failures[0].startswith("load refused: ")
    assert expected in failures[0]
    assert _register(pg_server, database) == before


def test_the_last_load_governs_the_as_of_dbt_is_given(pg_server, hireloop_home, real_export):
    database = pg_server.create_database("ingest_asof")
    conn = pg_server.endpoint.connect(database)
    ingest_export(conn, real_export, dt.date(2025, 6, 30))
    ingest_export(conn, real_export, dt.date(2025, 3, 1), correct_as_of="dated in the future")
    conn.close()
    environ = dict(os.environ)
    try:
        dbt_vars = prepare_dbt_run(HireloopRuntime(home=str(hireloop_home), database=database))
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert json.loads(dbt_vars) == {"as_of_date": "2025-03-01"}  # not the greatest date


def test_a_simulated_export_folder_goes_through_the_ingest_step(pg_server, hireloop_home,
                                                                tmp_path):
    from dagster import AssetKey

    from hris.contract import RAW_TABLES
    from hris.simulated_export import write_simulated_export
    from hris.simulator import simulate

    database = pg_server.create_database("ingest_simfolder")
    folder = write_simulated_export(simulate(n_candidates=120, seed=4), tmp_path / "q1")
    runtime = HireloopRuntime(home=str(hireloop_home), database=database)
    resources = {"hireloop": runtime, "dbt": dbt_resource(),  # the rest is never used
                 "mlflow": MlflowResource(runtime=runtime, database="unused_mlflow"),
                 "endpoint": EndpointResource(home=str(tmp_path))}
    config = {"source": "import", "import_dir": str(folder)}  # its as-of from the manifest
    job = build_definitions(resources).resolve_job_def("build_feature_store")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            run_config={"ops": {"raw_hr_tables": {"config": config}}}, instance=instance,
            asset_selection=[AssetKey(["raw", t]) for t in RAW_TABLES])
    assert result.success
    assert _register(pg_server, database) == [("simulator", dt.date(2025, 1, 1))]
