"""Running the Dagster jobs in-process against the persistent instance (CLI and demo)."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance


def run_build(candidates: int, seed: int, as_of: str, import_dir: Path | None = None) -> str:
    """Materialise ingest → feature store → summary; returns the printed summary."""
    from orchestration.definitions import defs

    ingest = {"candidates": candidates, "seed": seed, "as_of": as_of, "progress": True}
    if import_dir is not None:
        ingest.update(source="import", import_dir=str(import_dir))
    job = defs.resolve_job_def("build_feature_store")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config={"ops": {"raw_hr_tables": {"config": ingest}}}, instance=instance
        )
    if not result.success:
        raise RuntimeError("build_feature_store failed; see the run in the Dagster UI")
    return result.output_for_node("feature_store_summary")
