"""Runs killed mid-way are swept to failed on the next start; live runs are left alone.

Real processes, real SIGKILL, a real Dagster instance on the session's PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, Definitions, RunsFilter, job, op

from orchestration.orphans import TAG_PID, sweep_orphaned_runs
from orchestration.runs import execute

REPO_ROOT = Path(__file__).resolve().parents[2]

# A run that stays in its one step until killed (the file says it got there).
_RUN_UNTIL_KILLED = """
import sys, time
from pathlib import Path
from dagster import DagsterInstance, job, op
from orchestration.orphans import process_tags

@op
def wait_for_the_kill():
    Path(sys.argv[1]).write_text("in the step")
    time.sleep(3600)

@job
def killed_mid_way():
    wait_for_the_kill()

with DagsterInstance.get() as instance:
    killed_mid_way.execute_in_process(instance=instance, tags=process_tags())
"""


@pytest.fixture
def dagster_home(pg_server, tmp_path, monkeypatch) -> Path:
    database = pg_server.create_database("dagster_orphans")
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(json.dumps({
        "storage": {"postgres": {"postgres_url": pg_server.url(database)}},
        "telemetry": {"enabled": False}}))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _start_run(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"{name}.started"
    proc = subprocess.Popen([sys.executable, "-c", _RUN_UNTIL_KILLED, str(marker)],
                            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not marker.exists():  # the run is STARTED once its step runs
        assert proc.poll() is None, "the run's process ended before its step"
        time.sleep(0.2)
    return proc, marker


def _run_of(instance: DagsterInstance, pid: int):
    (run,) = instance.get_runs(RunsFilter(tags={TAG_PID: str(pid)}))
    return run


def test_a_killed_run_is_marked_failed_and_a_live_one_left_alone(dagster_home, tmp_path):
    killed, _ = _start_run(tmp_path, "killed")
    live, _ = _start_run(tmp_path, "live")
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=60)
        with DagsterInstance.get() as instance:
            assert _run_of(instance, killed.pid).status == DagsterRunStatus.STARTED  # stuck
            swept = sweep_orphaned_runs(instance)
            dead_run = _run_of(instance, killed.pid)
            live_run = _run_of(instance, live.pid)
            assert [o.run_id for o in swept] == [dead_run.run_id]
            assert dead_run.status == DagsterRunStatus.FAILURE
            assert live_run.status == DagsterRunStatus.STARTED
            logs = instance.all_logs(dead_run.run_id)
            message = next(e.dagster_event.message for e in logs
                           if e.dagster_event and e.dagster_event.is_run_failure)
            assert f"pid {killed.pid}" in message and "is gone" in message
            assert sweep_orphaned_runs(instance) == []  # a second start finds nothing
    finally:
        live.kill()
        live.wait(timeout=60)
    with DagsterInstance.get() as instance:
        assert [o.run_id for o in sweep_orphaned_runs(instance)] == [live_run.run_id]


@op
def nothing():
    return None


@job
def next_run():
    nothing()


def test_the_next_run_sweeps_orphans_first_and_carries_its_process(dagster_home, tmp_path):
    killed, _ = _start_run(tmp_path, "killed")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    with DagsterInstance.get() as instance:
        result = execute(Definitions(jobs=[next_run]), "next_run", instance)
        assert result.success
        assert _run_of(instance, killed.pid).status == DagsterRunStatus.FAILURE
        assert _run_of(instance, os.getpid()).run_id == result.run_id
