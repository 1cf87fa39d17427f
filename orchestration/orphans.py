"""Runs whose process died: tag in-process runs with their process, sweep orphans to failed.

A run made with `execute_in_process` lives and dies with the process that runs it; no
daemon watches it, so a `kill -9` (or a crash, or a reboot) mid-run leaves it `STARTED` in
Dagster forever. Each such run carries the host, pid and start time of its process
(`process_tags`); when the platform starts, or before the CLI launches a run,
`sweep_orphaned_runs` marks every run still `STARTING`/`STARTED` whose process is gone as
FAILURE, with a message saying so. Runs from another host, and runs without the tags
(launched ones, by the CLI, the UI or the daemon: their run worker is not the process that
asked, and finishes the run if that one dies; or made before these tags existed), are left
alone: whether they live cannot be told from here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import psutil
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

TAG_HOST = "hireloop/host"
TAG_PID = "hireloop/pid"
TAG_PROCESS_START = "hireloop/process_start"  # the pid's start time: pids are reused
LIVE_STATUSES = (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED)


def _process_start(pid: int) -> str | None:
    """When process `pid` started (seconds since the epoch, as text), None if it is gone."""
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # alive, but another user's: say alive
        return "unknown"


def process_tags(pid: int | None = None) -> dict[str, str]:
    """The tags that tie a run to the process executing it (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return {TAG_HOST: socket.gethostname(), TAG_PID: str(pid),
            TAG_PROCESS_START: _process_start(pid) or ""}


def _is_alive(tags: dict[str, str]) -> bool:
    started = _process_start(int(tags[TAG_PID]))
    return started is not None and started in ("unknown", tags.get(TAG_PROCESS_START))


@dataclass(frozen=True)
class Orphan:
    run_id: str
    job_name: str
    pid: str


def sweep_orphaned_runs(instance: DagsterInstance) -> list[Orphan]:
    """Mark this host's in-process runs whose process is gone as failed; returns them."""
    host = socket.gethostname()
    runs = instance.get_runs(RunsFilter(statuses=list(LIVE_STATUSES), tags={TAG_HOST: host}))
    orphans = []
    for run in runs:
        tags = dict(run.tags)
        if not tags.get(TAG_PID, "").isdigit() or _is_alive(tags):
            continue
        instance.report_run_failed(
            run, message=f"Marked failed by hireloop: the process that ran it (pid "
                         f"{tags[TAG_PID]} on {host}) is gone; it was killed or crashed "
                         "mid-run. Run the job again (`hireloop build`).")
        orphans.append(Orphan(run.run_id, run.job_name, tags[TAG_PID]))
    return orphans


def sweep_current_instance() -> list[Orphan]:
    """`sweep_orphaned_runs` on the instance of `$DAGSTER_HOME` (set by the CLI)."""
    with DagsterInstance.get() as instance:
        return sweep_orphaned_runs(instance)
