"""Runs of the Dagster jobs (defined in orchestration/definitions.py), in-process against the
persistent instance (CLI and demo).

Every run is tagged with the process that runs it, and orphans of killed processes are
swept to failed before it starts (orchestration/orphans.py). A run that stops is explained
(orchestration/run_failures.py), and whenever dbt ran, pass or fail, the data-quality
report is made: the steward needs it most when the build stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, Definitions

from ml.tracking import TrainedModel
from orchestration.orphans import process_tags, sweep_orphaned_runs
from orchestration.run_failures import RunFailure, dbt_ran, explain_failure

log = logging.getLogger(__name__)
SUMMARY = "feature_store_summary"
CONSOLE_LEVEL = "CRITICAL"


def ingest_config(candidates: int, seed: int, as_of: str | None,
                  import_dir: Path | None = None, defect_rate: float = 0.0,
                  correct_as_of: str | None = None, profile: Path | None = None
                  ) -> dict[str, Any]:
    """Run config of `raw_hr_tables`; an as-of left out is the simulator's clock, or the
    simulated export's own (a real export is refused without one)."""
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


def execute(definitions: Definitions, job_name: str, instance: DagsterInstance,
            run_config: dict[str, Any] | None = None, console_level: str = CONSOLE_LEVEL):
    """Sweep orphaned runs, then run `job_name` in-process, tagged with this process; a
    failing run is returned, not raised (`explain_failure` says why).

    Dagster's console log shows events from `console_level` up; every event still goes to
    the instance's event log (the run's page in the UI). The default keeps the console to
    what the CLI prints itself: a failed step's stack trace is for the UI, not the user.
    """
    for orphan in sweep_orphaned_runs(instance):
        log.warning("marked run %s (%s) failed: its process %s is gone", orphan.run_id,
                    orphan.job_name, orphan.pid)
    job = definitions.resolve_job_def(job_name)
    config = {"loggers": {"console": {"config": {"log_level": console_level}}},
              **(run_config or {})}
    return job.execute_in_process(run_config=config, instance=instance,
                                  tags=process_tags(), raise_on_error=False)


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
    with hireloop.connection() as conn:
        try:
            return build_store_report(conn, reports).text
        except Exception as exc:  # the marts are missing or stale after a dbt failure
            conn.rollback()
            log.info("feature store not summarised: %s", exc)
    with hireloop.connection() as conn:
        return build_store_report(conn, reports, with_feature_store=False).text + (
            "\n\n(the feature store itself was not completed in this run)")


def run_loop(candidates: int, seed: int, as_of: str | None, import_dir: Path | None = None,
             training: dict[str, Any] | None = None, defect_rate: float = 0.0,
             correct_as_of: str | None = None, profile: Path | None = None,
             definitions: Definitions | None = None,
             instance: DagsterInstance | None = None) -> LoopOutcome:
    """Materialise the whole loop (`hireloop_loop`) in-process, visible in the Dagster UI.

    `defect_rate` > 0 plants defects in the simulated export (hris.simulator.defects).
    `definitions` and `instance` default to the configured ones (`$DAGSTER_HOME`).
    """
    defs = _definitions(definitions)
    ingest = ingest_config(candidates, seed, as_of, import_dir, defect_rate, correct_as_of,
                           profile)
    ops: dict[str, Any] = {"raw_hr_tables": {"config": ingest}}
    if training:
        ops["trained_model"] = {"config": training}
    if instance is None:
        with DagsterInstance.get() as own:
            result = execute(defs, "hireloop_loop", own, {"ops": ops})
    else:
        result = execute(defs, "hireloop_loop", instance, {"ops": ops})
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
    )


def run_inference_log_ingest() -> dict[str, Any]:
    """Materialise `inference_log_ingest` (online scores → monitoring.scoring_log)."""
    defs = _definitions(None)
    with DagsterInstance.get() as instance:
        result = execute(defs, "ingest_inference_log", instance)
    failure = explain_failure(result)
    if failure is not None:
        raise RuntimeError(failure.message())
    return result.output_for_node("inference_log_ingest")
