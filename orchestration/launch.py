"""Launch a job of this code location the way the Dagster UI does, and wait for it.

`execute_in_process` runs carry no code-location origin, so the UI's job pages and timeline
never list them (they filter on the run's `.dagster/repository` tag). Here the run is made
from the code location of `workspace.yaml` (the one `dagster-webserver` and the daemon
load), with its remote and Python origins, and submitted to the instance's run coordinator:
the DefaultRunCoordinator of our dagster.yaml hands it straight to the DefaultRunLauncher,
which starts the run worker through the location's code server; a QueuedRunCoordinator
would queue it for the daemon, with nothing to change here. The caller waits on the
instance, then reads the run back from its event log (`StoredRun`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, Definitions

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = REPO_ROOT / "workspace.yaml"
LOCATION = "hireloop"  # workspace.yaml's location_name
DONE = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


class LaunchError(RuntimeError):
    """The code location could not be loaded, or the run could not be started."""


@contextmanager
def code_location(instance: DagsterInstance, workspace: Path = WORKSPACE,
                  location: str = LOCATION) -> Iterator[Any]:
    """The workspace's request context, once `location` loaded (its code server runs while
    the context is open; on exit it stops after the runs it started have finished)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace)]),
                                 code_server_log_level="WARNING") as process:
        request = process.create_request_context()
        error = request.get_code_location_error(location)
        if error is not None:
            raise LaunchError(f"code location {location} ({workspace}) did not load: "
                              f"{error.message.strip()}")
        yield request


def submit(instance: DagsterInstance, request: Any, job_name: str,
           run_config: Mapping[str, Any], tags: Mapping[str, str] | None = None,
           location: str = LOCATION) -> str:
    """Create the run from the location's job (remote and Python origins, snapshots, the
    execution plan) and submit it to the instance's run coordinator; its run id."""
    from dagster._core.definitions.selector import JobSubsetSelector

    code = request.get_code_location(location)
    (repository,) = code.get_repositories().values()
    selector = JobSubsetSelector(location_name=location, repository_name=repository.name,
                                 job_name=job_name, op_selection=None)
    job = code.get_job(selector)
    plan = code.get_execution_plan(job, run_config, step_keys_to_execute=None,
                                   known_state=None, instance=instance)
    snapshot = plan.execution_plan_snapshot
    run = instance.create_run(
        job_name=job_name, run_id=None, run_config=run_config,
        resolved_op_selection=job.resolved_op_selection,
        step_keys_to_execute=snapshot.step_keys_to_execute, op_selection=None, status=None,
        root_run_id=None, parent_run_id=None, tags={**job.tags, **(tags or {})},
        job_snapshot=job.job_snapshot, execution_plan_snapshot=snapshot,
        parent_job_snapshot=job.parent_job_snapshot, remote_job_origin=job.get_remote_origin(),
        job_code_origin=job.get_python_origin(), asset_selection=None,
        asset_check_selection=None, asset_graph=repository.asset_graph)
    instance.submit_run(run.run_id, request)
    return run.run_id


def wait(instance: DagsterInstance, run_id: str, poll_s: float = 0.5,
         on_poll: Callable[[], None] | None = None) -> DagsterRunStatus:
    """Block until the run ends (success, failure or cancellation); its final status.

    Interrupted (Ctrl-C), the run is terminated through the launcher, not left running."""
    try:
        while True:
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status in DONE:
                return run.status
            if on_poll is not None:
                on_poll()
            time.sleep(poll_s)
    except KeyboardInterrupt:
        instance.run_launcher.terminate(run_id)
        raise


@dataclass
class StoredRun:
    """A finished run read back from the instance, with the parts of an in-process result
    that `run_failures` and the CLI read (success, events, check evaluations, outputs)."""

    run_id: str
    success: bool
    all_events: list[Any]
    definitions: Definitions
    instance: DagsterInstance
    _values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, instance: DagsterInstance, run_id: str,
             definitions: Definitions) -> StoredRun:
        run = instance.get_run_by_id(run_id)
        events = [e.dagster_event for e in instance.all_logs(run_id)
                  if e.dagster_event is not None]
        return cls(run_id, run is not None and run.status == DagsterRunStatus.SUCCESS, events,
                   definitions, instance)

    def get_asset_check_evaluations(self) -> list[Any]:
        return [e.event_specific_data for e in self.all_events
                if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]

    @functools.cached_property
    def materialized(self) -> frozenset[AssetKey]:
        """The assets this run materialised (read once from its events)."""
        return frozenset(e.asset_key for e in self.all_events
                         if e.event_type == DagsterEventType.ASSET_MATERIALIZATION)

    def output_for_node(self, node: str) -> Any:
        """The value asset `node` stored in this run (read through its IO manager); a
        KeyError when this run did not materialise it (an older value is not this run's)."""
        key = AssetKey(node)
        if key not in self.materialized:
            raise KeyError(f"{node} was not materialised in run {self.run_id}")
        if node not in self._values:
            self._values[node] = self.definitions.load_asset_value(key, instance=self.instance)
        return self._values[node]


def launch_and_wait(instance: DagsterInstance, definitions: Definitions, job_name: str,
                    run_config: Mapping[str, Any], tags: Mapping[str, str] | None = None,
                    workspace: Path = WORKSPACE) -> StoredRun:
    """Launch `job_name` from the workspace's code location, wait for it, read it back.

    `definitions` must be those the location loads (the configured ones): outputs are read
    through its IO manager."""
    with code_location(instance, workspace) as request:
        run_id = submit(instance, request, job_name, run_config, tags)
        wait(instance, run_id)
    return StoredRun.read(instance, run_id, definitions)
