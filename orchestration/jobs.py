"""Running the Dagster jobs in-process against the persistent instance (CLI and demo)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from ml.tracking import TrainedCandidate


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


def run_build(candidates: int, seed: int, as_of: str | None, import_dir: Path | None = None,
              defect_rate: float = 0.0) -> str:
    """Materialise ingest → feature store → summary; returns the printed summary."""
    from orchestration.definitions import defs

    ingest = ingest_config(candidates, seed, as_of, import_dir, defect_rate)
    job = defs.resolve_job_def("build_feature_store")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config={"ops": {"raw_hr_tables": {"config": ingest}}}, instance=instance
        )
    if not result.success:
        raise RuntimeError("build_feature_store failed; see the run in the Dagster UI")
    return result.output_for_node("feature_store_summary")


@dataclass
class LoopOutcome:
    """What `hireloop build` prints: the feature-store summary and the model's figures."""

    feature_summary: str
    candidate: TrainedCandidate | None
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


def run_loop(candidates: int, seed: int, as_of: str | None, import_dir: Path | None = None,
             training: dict[str, Any] | None = None, defect_rate: float = 0.0,
             correct_as_of: str | None = None, profile: Path | None = None) -> LoopOutcome:
    """Materialise the whole loop (`hireloop_loop`) in-process, visible in the Dagster UI.

    `defect_rate` > 0 plants defects in the simulated export (hris.simulator.defects).
    """
    from orchestration.definitions import defs

    ingest = ingest_config(candidates, seed, as_of, import_dir, defect_rate, correct_as_of,
                           profile)
    ops: dict[str, Any] = {"raw_hr_tables": {"config": ingest}}
    if training:
        ops["trained_model"] = {"config": training}
    job = defs.resolve_job_def("hireloop_loop")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config={"ops": ops}, instance=instance,
                                        raise_on_error=False)
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        checks = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
        raise RuntimeError(f"hireloop_loop failed (steps {failed}, checks {checks}); "
                           "see the run in the Dagster UI")
    candidate = _output(result, "trained_model")
    mlflow = defs.resources["mlflow"]
    url = None
    if candidate is not None:
        url = mlflow.run_url(candidate.logged.experiment_id, candidate.logged.run_id)
    return LoopOutcome(
        feature_summary=result.output_for_node("feature_store_summary"),
        candidate=candidate,
        version=_output(result, "registered_challenger"),
        decision=_output(result, "promotion_decision"),
        deployed=_output(result, "deployed_endpoint"),
        batch=_output(result, "batch_scores"),
        run_url=url,
    )


def run_inference_log_ingest() -> dict[str, Any]:
    """Materialise `inference_log_ingest` (online scores → monitoring.scoring_log)."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("ingest_inference_log")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance)
    return result.output_for_node("inference_log_ingest")
