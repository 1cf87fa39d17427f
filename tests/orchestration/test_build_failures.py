"""A build that stops says why, and still prints the data-quality report; one that passes
prints it from the summary asset. Real dbt and GX on a copy of the hand-made export, real
Dagster runs; the CLI end to end in its own installation."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
    job,
    mem_io_manager,
    op,
    resource,
)
from dagster_dbt import DbtCliResource

from hris.exports import record_export
from orchestration.assets.data_quality import DataQualityResource, feature_store_data_quality
from orchestration.assets.feature_store import feature_store
from orchestration.assets.summary import feature_store_summary
from orchestration.config import Settings
from orchestration.dbt import dbt_resource
from orchestration.definitions import build_definitions
from orchestration.orphans import TAG_PID
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from orchestration.run_failures import dbt_failed_tests, explain_failure
from orchestration.runs import execute, run_loop, store_report_text
from orchestration.services import dagster_webserver
from orchestration.supervisor import Supervisor
from tests.dbt import conftest as dbt_conftest
from tests.dbt.hr_fixture import AS_OF

dbt_world = dbt_conftest.dbt_world
REPO_ROOT = Path(__file__).resolve().parents[2]
STORE_AND_GATE = (AssetSelection.assets(feature_store, feature_store_summary, "training_set")
                  | AssetSelection.checks(feature_store_data_quality))


@pytest.fixture(scope="module")
def database(pg_server, dbt_world) -> str:
    name = pg_server.copy_database(dbt_world.env["HIRELOOP_PG_DBNAME"], "build_failures")
    conn = pg_server.endpoint.connect(name)
    with conn.cursor() as cur:
        record_export(cur, "tests/dbt fixture", "import", AS_OF)
    conn.commit()
    conn.close()
    return name


def _definitions(home: Path, database: str, docs: Path, **bounds) -> Definitions:
    runtime = HireloopRuntime(home=str(home), database=database)
    base = build_definitions({
        "hireloop": runtime, "dbt": dbt_resource(), "io_manager": mem_io_manager,
        "mlflow": MlflowResource(runtime=runtime, database="unused_mlflow"),
        "endpoint": EndpointResource(home=str(docs)),
        "data_quality": DataQualityResource(docs_dir=str(docs), **bounds)})
    return Definitions.merge(base, Definitions(
        jobs=[define_asset_job("store_and_gate", selection=STORE_AND_GATE)]))


def _build(definitions: Definitions):
    with DagsterInstance.ephemeral() as instance:
        result = execute(definitions, "store_and_gate", instance)
    return result, store_report_text(result, definitions), explain_failure(result)


def test_a_blocking_check_stops_the_build_and_the_report_is_still_made(
        hireloop_home, database, tmp_path):
    # No role family has a met_kpi rate of 99.9 %: the feature-store suite fails after dbt.
    definitions = _definitions(hireloop_home, database, tmp_path, label_rate_min=0.999,
                               min_rows_per_family=1)
    result, text, failure = _build(definitions)
    assert not result.success
    started = {e.step_key for e in result.all_events if e.is_step_start}
    assert "feature_store_summary" not in started  # blocked with training: made here instead
    assert "== Data quality:" in text and "raw rows quarantined" in text
    assert "invalid_value" in text.split("== invalid_value")[0]  # the per-reason column
    allowed = text.split("== invalid_value: the allowed values")[1]
    assert "interview_scores" in allowed and "communication" in allowed  # dimensions
    page = hireloop_home / "reports" / "data_quality.html"
    assert f"(for the HR data steward): {page}" in text and page.exists()
    assert failure is not None and failure.expected and failure.errors == []
    assert [(c.check, c.from_dbt) for c in failure.checks] == [("feature_store_suite", False)]
    message = failure.message()
    assert "check feature_store_suite on marts/fct_training_examples failed" in message
    assert "met_kpi rate is outside [0.999, 0.95]" in message
    assert "nothing was trained" in message and "hireloop build" in message
    assert "Traceback" not in message and result.run_id in message


def test_a_passing_build_prints_the_summary_assets_report(hireloop_home, database, tmp_path):
    definitions = _definitions(hireloop_home, database, tmp_path, label_rate_min=0.0,
                               label_rate_max=1.0, min_rows_per_family=1)
    result, text, failure = _build(definitions)
    assert result.success and failure is None
    assert text == result.output_for_node("feature_store_summary")
    assert "== Data quality:" in text and "== invalid_value: the allowed values" in text
    assert str(hireloop_home / "reports" / "data_quality.html") in text


def test_a_refused_import_stops_the_loop_with_its_message_and_no_report(
        hireloop_home, database, tmp_path):
    definitions = _definitions(hireloop_home, database, tmp_path)
    with DagsterInstance.ephemeral() as instance:
        outcome = run_loop(candidates=0, seed=0, as_of=AS_OF.isoformat(),
                           import_dir=tmp_path / "no-such-export", definitions=definitions,
                           instance=instance)
    assert outcome.feature_summary is None  # dbt did not run: nothing new to report
    failure = outcome.failure
    assert failure is not None and failure.expected and failure.errors == []
    assert failure.refusals == [f"{tmp_path / 'no-such-export'}: not a directory"]
    assert "refused before anything was loaded" in failure.message()
    assert outcome.model is None and outcome.version is None


@op
def broken_step():
    raise ZeroDivisionError("a bug, not the data")


@job
def broken():
    broken_step()


def test_an_unexpected_error_is_reported_with_its_stack():
    with DagsterInstance.ephemeral() as instance:
        result = broken.execute_in_process(instance=instance, raise_on_error=False)
    failure = explain_failure(result)
    assert failure is not None and not failure.expected and failure.checks == []
    (error,) = failure.errors
    assert error.step == "broken_step"
    assert error.error == "ZeroDivisionError: a bug, not the data"
    assert "test_build_failures.py" in error.details  # the stack, to debug
    assert "not a data problem" in failure.message()


@resource
def unreachable(_):
    raise ConnectionError("the server is gone")


@op(required_resource_keys={"server"})
def needs_server():
    pass


@job(resource_defs={"server": unreachable})
def server_gone():
    needs_server()


def test_a_run_that_fails_outside_any_step_says_why():
    # A resource that cannot start fails the run before any step: the cause is named.
    with DagsterInstance.ephemeral() as instance:
        result = server_gone.execute_in_process(instance=instance, raise_on_error=False)
    failure = explain_failure(result)
    assert failure is not None and not failure.expected
    (error,) = failure.errors
    assert error.step == "run" and error.error == "ConnectionError: the server is gone"
    assert "test_build_failures.py" in error.details


def test_a_dbt_test_failing_on_the_data_is_a_failed_check_not_an_error(
        pg_server, dbt_world, monkeypatch):
    # Two clean job roles made to share an id behind staging's back: dbt's unique test on
    # stg_hris__job_roles fails, as a dbt test does on data the quarantine let through.
    name = pg_server.copy_database(dbt_world.env["HIRELOOP_PG_DBNAME"], "dbt_test_fails")
    conn = pg_server.endpoint.connect(name)
    with conn.cursor() as cur:
        cur.execute("""UPDATE staging.base_hris__job_roles SET role_id = (
                           SELECT min(role_id) FROM staging.stg_hris__job_roles)
                       WHERE role_id = (SELECT max(role_id) FROM staging.stg_hris__job_roles)""")
    conn.commit()
    conn.close()
    for key, value in pg_server.endpoint.dbt_env(name).items():
        monkeypatch.setenv(key, value)

    @op(name="feature_store")
    def dbt_unique_test(dbt: DbtCliResource):
        dbt.cli(["test", "--select", "unique_stg_hris__job_roles_role_id"]).wait()

    @job(resource_defs={"dbt": dbt_resource()})
    def dbt_tests():
        dbt_unique_test()

    with DagsterInstance.ephemeral() as instance:
        result = dbt_tests.execute_in_process(instance=instance, raise_on_error=False)
    failure = explain_failure(result)
    assert failure is not None and failure.expected, failure.errors
    assert [(c.check, c.from_dbt) for c in failure.checks] == [
        ("unique_stg_hris__job_roles_role_id", True)]
    message = failure.message()
    assert "check unique_stg_hris__job_roles_role_id on dbt failed" in message
    assert "A dbt test failed on the data" in message and "Traceback" not in message


def test_a_dbt_error_that_is_no_test_failure_stays_an_error():
    message = ("The dbt CLI process with command\n\n`dbt build`\n\nfailed with exit code `1`."
               "\n\nErrors parsed from dbt logs:\n\nDatabase Error in model stg_x (models/x.sql)"
               "\n\nFailure in test unique_y (models/y.yml)")
    assert dbt_failed_tests(message) == []
    assert dbt_failed_tests(message.split("Database Error")[0] + "Failure in test unique_y "
                            "(models/y.yml)\nFailure in test unique_y (models/y.yml)") == [
        "unique_y"]


JOB_RUNS = """query ($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { runs { runId status tags { key value }
                             repositoryOrigin { repositoryLocationName repositoryName } } }
  }
}"""


def _job_page_runs(url: str, job: str) -> list[dict]:
    """The runs the UI's job page lists for `job` (its GraphQL query: the job's `runs`)."""
    selector = {"pipelineName": job, "repositoryName": "__repository__",
                "repositoryLocationName": "hireloop"}
    body = json.dumps({"query": JOB_RUNS, "variables": {"selector": selector}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    job_page = answer["data"]["pipelineOrError"]
    assert job_page["__typename"] == "Pipeline", answer
    return job_page["runs"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_build_that_trips_a_check_exits_2_with_the_report_and_no_traceback(monkeypatch):
    # 300 applicants leave fewer than 30 hires per role family: the feature-store suite
    # (its default bounds) stops the loop after dbt, as it would for a user's small export.
    # Its own installation (a short path: PostgreSQL's socket path has a length limit).
    # The run was launched, not run in the CLI's process: the Dagster UI lists it on the
    # job's page, with the code location's origin (what its timeline groups runs by).
    home = Path(tempfile.mkdtemp(prefix="hl-build-", dir="/tmp"))
    port = _free_port()
    env = {**os.environ, "HIRELOOP_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
           "HIRELOOP_DAGSTER_PORT": str(port)}
    env.pop("HIRELOOP_DATABASE_URL", None)
    monkeypatch.setenv("HIRELOOP_HOME", str(home))  # for the webserver's code location
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    cli = [sys.executable, "-m", "orchestration.cli"]
    try:
        done = subprocess.run([*cli, "build", "--candidates", "300"], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=1200, check=False)
        settings = Settings(home=home, dagster_port=port)
        Supervisor(home).start(dagster_webserver(settings))
        listed = _job_page_runs(f"http://127.0.0.1:{port}", "hireloop_loop")
    finally:
        subprocess.run([*cli, "down"], env=env, cwd=REPO_ROOT, capture_output=True,
                       timeout=300, check=False)
        shutil.rmtree(home, ignore_errors=True)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "== Data quality:" in done.stdout
    assert "(for the HR data steward):" in done.stdout
    assert "check feature_store_suite on marts/fct_training_examples failed" in done.stderr
    assert "role families with fewer than 30 rows" in done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    (run,) = listed
    assert run["status"] == "FAILURE" and f"Dagster run {run['runId']}" in done.stderr
    assert f"/runs/{run['runId']}" in done.stdout
    assert run["repositoryOrigin"] == {"repositoryLocationName": "hireloop",
                                       "repositoryName": "__repository__"}
    # its run worker, not the CLI, ran it: no process tag for the orphan sweep to misread
    assert TAG_PID not in {t["key"] for t in run["tags"]}
