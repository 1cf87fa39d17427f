"""Runs of the Dagster jobs (defined in orchestration/definitions.py) for the CLI and demo.

The configured definitions are launched from the workspace's code location
(orchestration/launch.py), so the run shows on the UI's job page and timeline and runs in
its own run worker, as a run started from the UI or by a sensor does; the CLI waits for it
and reads it back. Definitions a caller binds itself (tests) cannot be launched (the code
location loads the configured ones) and run in-process, tagged with the process that runs
them; orphans of killed processes are swept to failed before any run starts
(orchestration/orphans.py). A run that stops is explained
(orchestration/run_failures.py), and whenever dbt ran, pass or fail, the data-quality
report is made: the steward needs it most when the build stopped.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, Definitions

from ml.tracking import TrainedModel
from orchestration.launch import StoredRun, launch_and_wait
from orchestration.orphans import process_tags, sweep_orphaned_runs
from orchestration.run_failures import RunFailure, dbt_ran, explain_failure

log = logging.getLogger(__name__)
SUMMARY = "feature_store_summary"
CONSOLE_LEVEL = "CRITICAL"


def ingest_config(candidates: int, seed: int, as_of: str | None,
                  import_dir: Path | None = None, defect_rate: float = 0.0,
                  correct_as_of: str | None = None, profile: Path | None = None,
                  history_end: str | None = None) -> dict[str, Any]:
    """Run config of `raw_hr_tables`; an as-of left out is the simulator's clock (the day
    after `history_end` when given), or the simulated export's own (a real export is
    refused without one)."""
    ingest: dict[str, Any] = {"candidates": candidates, "seed": seed, "progress": True,
                              "defect_rate": defect_rate}
    if as_of is not None:
        ingest["as_of"] = as_of
    if correct_as_of is not None:
        ingest["correct_as_of"] = correct_as_of
    if import_dir is not None:
        ingest.update(source="import", import_dir=str(import_dir))
    if profile is not None:
        ingest["profile"] = str(profile)
    if history_end is not None:
        ingest["history_end"] = history_end
    return ingest


@dataclass
class LoopOutcome:
    """What `hireloop build` prints: the feature-store report, why the run stopped if it
    did, and the model's figures."""

    run_id: str
    feature_summary: str | None  # None: dbt did not run (nothing new to report)
    failure: RunFailure | None
    model: TrainedModel | None  # the trained model, None when training did not run
    version: str | None
    decision: dict[str, Any] | None
    deployed: dict[str, Any] | None
    batch: dict[str, Any] | None
    run_url: str | None
    online: dict[str, Any] | None = None  # the interview tool's HTTP scoring (online_scores)
    ingested: dict[str, Any] | None = None  # inference_log_ingest: added, duplicates...
    drift: dict[str, Any] | None = None  # feature_drift: quarter, drift share, alarms
    feedback: dict[str, Any] | None = None  # feedback_report: quarter, page, index
    quality: dict[str, Any] | None = None  # model_quality: rows by kind, page
    fairness: dict[str, Any] | None = None  # fairness_report: flags, findings, pages


def _output(result, node: str) -> Any:
    try:
        return result.output_for_node(node)
    except Exception:  # the step did not run (e.g. the blocking check stopped it)
        return None


def _definitions(definitions: Definitions | None) -> Definitions:
    if definitions is not None:
        return definitions
    from orchestration.definitions import defs

    return defs


def _console(run_config: dict[str, Any] | None, console_level: str) -> dict[str, Any]:
    return {"loggers": {"console": {"config": {"log_level": console_level}}},
            **(run_config or {})}


def _sweep(instance: DagsterInstance) -> None:
    for orphan in sweep_orphaned_runs(instance):
        log.warning("marked run %s (%s) failed: its process %s is gone", orphan.run_id,
                    orphan.job_name, orphan.pid)


def execute(definitions: Definitions, job_name: str, instance: DagsterInstance,
            run_config: dict[str, Any] | None = None, console_level: str = CONSOLE_LEVEL):
    """Sweep orphaned runs, then run `job_name` in-process, tagged with this process; a
    failing run is returned, not raised (`explain_failure` says why).

    Dagster's console log shows events from `console_level` up; every event still goes to
    the instance's event log (the run's page in the UI). The default keeps the console to
    what the CLI prints itself: a failed step's stack trace is for the UI, not the user.
    """
    _sweep(instance)
    job = definitions.resolve_job_def(job_name)
    return job.execute_in_process(run_config=_console(run_config, console_level),
                                  instance=instance, tags=process_tags(), raise_on_error=False)


def launch(definitions: Definitions, job_name: str, instance: DagsterInstance,
           run_config: dict[str, Any] | None = None,
           console_level: str = CONSOLE_LEVEL) -> StoredRun:
    """Sweep orphaned runs, then launch `job_name` from the workspace's code location and
    wait for it; the finished run read back (same reading as `execute`'s result).

    The run is not tagged with this process: its run worker is another, which finishes
    the run even if this one is killed (the code server waits for its runs to end)."""
    _sweep(instance)
    return launch_and_wait(instance, definitions, job_name, _console(run_config, console_level))


def store_report_text(result, definitions: Definitions) -> str | None:
    """The summary asset's text, or, when the run stopped before it, the same report made
    here (data quality only when the marts cannot be read); None when dbt did not run."""
    if not dbt_ran(result):
        return None
    text = _output(result, SUMMARY)
    if text is not None:
        return text
    from monitoring.store_report import build_store_report

    hireloop = definitions.resources["hireloop"]
    reports = hireloop.settings.reports_dir
    with hireloop.connection("transform") as conn:  # as the summary asset reads
        try:
            return build_store_report(conn, reports).text
        except Exception as exc:  # the marts are missing or stale after a dbt failure
            conn.rollback()
            log.info("feature store not summarised: %s", exc)
    with hireloop.connection("transform") as conn:
        return build_store_report(conn, reports, with_feature_store=False).text + (
            "\n\n(the feature store itself was not completed in this run)")


def run_loop(candidates: int, seed: int, as_of: str | None, import_dir: Path | None = None,
             training: dict[str, Any] | None = None, defect_rate: float = 0.0,
             correct_as_of: str | None = None, profile: Path | None = None,
             definitions: Definitions | None = None,
             instance: DagsterInstance | None = None, http_batch: int = 100,
             history_end: str | None = None) -> LoopOutcome:
    """Materialise the whole loop (`hireloop_loop`): ingest to the interview tool's online
    scores and their ingest into the scoring log, in one run.

    `defect_rate` > 0 plants defects in the simulated export (hris.simulator.defects);
    `history_end` ends the simulated history on another day than HISTORY_END;
    `http_batch` is the interview tool's candidates per request. `definitions` and
    `instance` default to the configured ones (`$DAGSTER_HOME`); the configured definitions
    are launched (listed by the UI), definitions of the caller's run in-process.
    """
    defs = _definitions(definitions)
    ingest = ingest_config(candidates, seed, as_of, import_dir, defect_rate, correct_as_of,
                           profile, history_end)
    ops: dict[str, Any] = {"raw_hr_tables": {"config": ingest},
                           "online_scores": {"config": {"batch_size": http_batch}}}
    if training:
        ops["trained_model"] = {"config": training}
    run = launch if definitions is None else execute
    if instance is None:
        with DagsterInstance.get() as own:
            result = run(defs, "hireloop_loop", own, {"ops": ops})
            return _loop_outcome(result, defs)
    return _loop_outcome(run(defs, "hireloop_loop", instance, {"ops": ops}), defs)


def _loop_outcome(result, defs: Definitions) -> LoopOutcome:
    """What the CLI prints of a finished loop run (outputs read while its instance is open:
    a launched run's are read through the IO manager)."""
    model = _output(result, "trained_model")
    url = None
    if model is not None:
        url = defs.resources["mlflow"].run_url(model.logged.experiment_id, model.logged.run_id)
    return LoopOutcome(
        run_id=result.run_id,
        feature_summary=store_report_text(result, defs),
        failure=explain_failure(result),
        model=model,
        version=_output(result, "registered_challenger"),
        decision=_output(result, "promotion_decision"),
        deployed=_output(result, "deployed_endpoint"),
        batch=_output(result, "batch_scores"),
        run_url=url,
        online=_output(result, "online_scores"),
        ingested=_output(result, "inference_log_ingest"),
        drift=_output(result, "feature_drift"),
        feedback=_output(result, "feedback_report"),
        quality=_output(result, "model_quality"),
        fairness=_output(result, "fairness_report"),
    )



def launch_jobs(definitions: Definitions | None, jobs: list[tuple[str, dict[str, Any]]],
                instance: DagsterInstance, console_level: str = CONSOLE_LEVEL,
                request: Any = None, tags: dict[str, str] | None = None) -> list[Any]:
    """Run `jobs` ((name, run config) pairs that do not depend on each other); their
    results, in order. The configured definitions (None) are launched together from the code
    location `request` (orchestration.launch.code_location; opened here when None), so
    the UI lists the runs and their run workers start side by side; a caller's own
    definitions run in-process, one after another. `tags` go on every run (a sensor's
    request: orchestration.sensors.launch_tags)."""
    _sweep(instance)
    if definitions is not None:
        return [definitions.resolve_job_def(name).execute_in_process(
                    run_config=_console(config, console_level), instance=instance,
                    tags={**process_tags(), **(tags or {})}, raise_on_error=False)
                for name, config in jobs]
    from orchestration.launch import code_location, submit, wait

    defs = _definitions(None)
    with contextlib.ExitStack() as stack:
        if request is None:
            request = stack.enter_context(code_location(instance))
        run_ids = [submit(instance, request, name, _console(config, console_level), tags)
                   for name, config in jobs]
        for run_id in run_ids:
            wait(instance, run_id)
    return [StoredRun.read(instance, run_id, defs) for run_id in run_ids]
