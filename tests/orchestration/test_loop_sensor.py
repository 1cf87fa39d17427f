"""The loop's sensor, evaluated in process against a real (persistent) Dagster instance the way
the demo does: it requests one retrain per quarter past the thresholds (a second look with
the same figures, once the run exists, requests nothing) and records `no_action` once per
quarter below them. Figures written through SQL into real PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from dagster import instance_for_test

from monitoring.dashboard import DECISION_KIND, FIGURES_KIND
from monitoring.drift_store import open_project
from monitoring.loop_decisions import read_decisions
from orchestration.definitions import defs
from orchestration.resources import HireloopRuntime
from orchestration.sensors import (
    RETRAIN_JOB,
    SENSOR_NAME,
    evaluate_loop_trigger,
    launch_tags,
    trigger_of_run,
)
from tests.monitoring.loop_figures import insert_drift, stable_quarter


@pytest.fixture()
def loop(pg_server, tmp_path):
    """A fresh database behind the sensor's resource (a home of its own for the Evidently
    workspace), a cursor on it, a Dagster instance."""
    database = pg_server.create_database("sensor")
    resources = {"hireloop": HireloopRuntime(home=str(tmp_path / "home"), database=database,
                                             database_url=pg_server.url("postgres"))}
    conn = pg_server.endpoint.connect(database)
    conn.autocommit = True
    with instance_for_test() as instance, conn.cursor() as cur:
        yield instance, resources, cur
    conn.close()


def _launch(instance, request) -> str:
    """What the demo's launcher does with a request: a run of the job with its tags."""
    run = instance.create_run_for_job(job_def=defs.resolve_job_def(RETRAIN_JOB),
                                      tags=launch_tags(request))
    return run.run_id


def test_the_sensor_targets_the_retrain_job_of_the_definitions():
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.job_name == RETRAIN_JOB
    assert defs.resolve_job_def(RETRAIN_JOB) is not None


def test_nothing_recorded_requests_nothing_and_records_nothing(loop):
    instance, resources, cur = loop
    assert evaluate_loop_trigger(instance, defs, resources) == []
    cur.execute("SELECT to_regclass('monitoring.loop_decisions')")
    assert cur.fetchone()[0] is None


def test_below_the_thresholds_no_action_is_recorded_once_per_quarter(loop):
    instance, resources, cur = loop
    stable_quarter(cur, "2025-04-01")
    assert evaluate_loop_trigger(instance, defs, resources) == []
    assert evaluate_loop_trigger(instance, defs, resources) == []  # same quarter: no new row
    stable_quarter(cur, "2025-07-01")
    assert evaluate_loop_trigger(instance, defs, resources) == []

    decisions = read_decisions(cur)
    assert list(decisions["decision"]) == ["no_action", "no_action"]
    assert list(decisions["quarter"]) == ["2025-Q1", "2025-Q2"]
    assert list(decisions["run_key"]) == ["2025-Q1", "2025-Q2"]
    first = decisions.iloc[0]
    assert any(r.startswith("sales: feature drift share 0.031 ≤ threshold 0.080")
               for r in first["reasons"])
    assert first["figures"]["as_of"] == "2025-04-01"
    assert first["figures"]["thresholds"]["max_drift_share"] == 0.08

    # The dashboard follows: one figures snapshot per as-of and family, one per decision.
    workspace, project = open_project(resources["hireloop"].settings.evidently_dir)
    kinds = Counter(workspace.get_run(project.id, s).metadata["kind"]
                    for s in workspace.list_runs(project.id))
    assert kinds == {FIGURES_KIND: 4, DECISION_KIND: 2}


def test_past_a_threshold_one_retrain_per_quarter(loop):
    instance, resources, cur = loop
    stable_quarter(cur, "2025-04-01")
    insert_drift(cur, "2025-04-01", "rnd", 6 / 32, model_version="2")
    requests = evaluate_loop_trigger(instance, defs, resources)
    assert [r.run_key for r in requests] == ["2025-Q1"]
    request = requests[0]
    reasons = json.loads(request.tags["hireloop/trigger_reasons"])
    assert reasons == ["rnd: feature drift share 0.188 > threshold 0.080 (n 150 ≥ min 100): "
                       "retrain"]
    assert request.tags["hireloop/as_of"] == "2025-04-01"
    # The retrain job gets the whole decision back from the recorded figures.
    again = trigger_of_run(cur, launch_tags(request))
    assert again.retrain and [c.reason() for c in again.breaches] == reasons
    assert again.figures["as_of"] == "2025-04-01" and again.reasons[0] == reasons[0]

    # Not launched yet: a look again asks again (the daemon would drop the repeat by key).
    assert [r.run_key for r in evaluate_loop_trigger(instance, defs, resources)] == \
        ["2025-Q1"]
    _launch(instance, request)
    assert evaluate_loop_trigger(instance, defs, resources) == []  # the run key exists
    # The new champion's figures for the same quarter, inside the thresholds: the retrain
    # records the quarter's outcome, the trigger adds no no_action beside it.
    insert_drift(cur, "2025-04-01", "rnd", 0.0, model_version="3")
    assert evaluate_loop_trigger(instance, defs, resources) == []

    # The next quarter is a new look, with its own key.
    insert_drift(cur, "2025-07-01", "rnd", 8 / 32)
    assert [r.run_key for r in evaluate_loop_trigger(instance, defs, resources)] == \
        ["2025-Q2"]
    # A retrain is not a decision yet: the retrain job records its outcome.
    assert read_decisions(cur).empty
