"""A finished run read back from the instance (orchestration.launch.StoredRun), as the CLI
reads a launched run: events, checks and outputs are this run's own, never an older run's.

Real Dagster runs on an ephemeral instance, outputs in a real filesystem IO manager (what
the configured definitions use); the launch itself is tested end to end with the CLI
(tests/orchestration/test_build_failures.py)."""

from __future__ import annotations

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    DagsterInstance,
    Definitions,
    FilesystemIOManager,
    asset,
    asset_check,
    define_asset_job,
)

from orchestration.launch import StoredRun
from orchestration.run_failures import explain_failure


@asset
def scored() -> dict:
    return {"scored": 3}


@asset_check(asset=scored, blocking=True)
def scored_is_enough() -> AssetCheckResult:
    return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR,
                            description="too few scored")


@asset(deps=[scored])
def ingested() -> dict:
    return {"added": 3}


def _definitions(tmp_path, with_check: bool) -> Definitions:
    return Definitions(
        assets=[scored, ingested], asset_checks=[scored_is_enough] if with_check else [],
        jobs=[define_asset_job("both")],
        resources={"io_manager": FilesystemIOManager(base_dir=str(tmp_path))})


def test_a_stored_run_reads_its_own_outputs_and_not_an_older_runs(tmp_path):
    with DagsterInstance.ephemeral() as instance:
        good = _definitions(tmp_path, with_check=False)
        first = good.resolve_job_def("both").execute_in_process(instance=instance)
        stored = StoredRun.read(instance, first.run_id, good)
        assert stored.success and explain_failure(stored) is None
        assert stored.output_for_node("ingested") == {"added": 3}

        # The blocking check stops the second run before `ingested`: its stored value is
        # the first run's, which the second must not report as its own.
        gated = _definitions(tmp_path, with_check=True)
        second = gated.resolve_job_def("both").execute_in_process(instance=instance,
                                                                  raise_on_error=False)
        again = StoredRun.read(instance, second.run_id, gated)
        assert not again.success and again.output_for_node("scored") == {"scored": 3}
        with pytest.raises(KeyError, match=second.run_id):
            again.output_for_node("ingested")
        failure = explain_failure(again)  # the same explanation as the in-process result's
        assert failure == explain_failure(second)
        assert [(c.check, c.description) for c in failure.checks] == [
            ("scored_is_enough", "too few scored")]
        assert failure.expected and second.run_id in failure.message()
