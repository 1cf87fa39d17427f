"""The rest of a simulated quarter's cycle, after its import (orchestration.quarters): the
loop closes.

The quarter's `quarter_cycle` run has monitored the champion in force (drift, quality, the
feedback page: figures in monitoring.*). `close_quarter` evaluates the `loop_trigger` sensor
in process (the very code the daemon runs under `hireloop ui`), launches any retrain it
requests with the request's tags and run key, waits for it, and reads the quarter's one
decision back from monitoring.loop_decisions (no_action from the sensor, or the retrain's
promoted / kept / refused). What it returns is one line of the timeline
(orchestration.timeline).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dagster import DagsterInstance, Definitions

from monitoring.loop_decisions import ensure_schema
from monitoring.loop_trigger import read_figures
from monitoring.quality_store import read_quality
from orchestration.quarters import QUARTER_JOB, QuarterFailed, QuarterResult
from orchestration.resources import HireloopRuntime
from orchestration.run_failures import explain_failure
from orchestration.runs import launch_jobs
from orchestration.sensors import RETRAIN_JOB, evaluate_loop_trigger, launch_tags
from orchestration.timeline import CohortAuc, TimelineRow

ALL_FAMILIES = "all"  # monitoring.quality's pooled rows
MIN_TIMELINE_N = 50  # hires behind a cohort's AUC on the timeline, when a cohort has them


@dataclass(frozen=True)
class QuarterLoop:
    """The quarter's closing: its timeline row, the decision's reasons, the runs."""

    row: TimelineRow
    reasons: list[str]
    decision_id: int
    run_ids: dict[str, str]  # job name -> Dagster run id
    seconds: dict[str, float]


def _configured(definitions: Definitions | None) -> Definitions:
    if definitions is not None:
        return definitions
    from orchestration.definitions import defs

    return defs


def _decision(cur, quarter: str) -> tuple[int, str, list[str], str | None] | None:
    """The quarter's newest decision row (id, decision, reasons, champion after)."""
    ensure_schema(cur)
    cur.execute("SELECT decision_id, decision, reasons, champion_after FROM "
                "monitoring.loop_decisions WHERE quarter = %s ORDER BY decision_id DESC "
                "LIMIT 1", (quarter,))
    found = cur.fetchone()
    return None if found is None else (int(found[0]), found[1], list(found[2]), found[3])


def _cohort_auc(quality: pd.DataFrame, version: str | None, kind: str) -> CohortAuc | None:
    """The monitored version's pooled AUC of `kind` on its newest cohort with enough hires
    (the quarter's newest cohort holds only its first days' hires: an AUC of 3 says
    nothing), else on its newest cohort."""
    rows = quality[(quality["role_family"] == ALL_FAMILIES) & (quality["kind"] == kind)
                   & quality["auc"].notna() & (quality["model_version"].astype(str)
                                               == str(version))]
    rows = rows.sort_values("cohort_quarter", ascending=False)
    enough = rows[rows["n"] >= MIN_TIMELINE_N]
    for _, row in (enough if len(enough) else rows).head(1).iterrows():
        return CohortAuc(str(row["cohort_quarter"]), float(row["auc"]), int(row["n"]))
    return None


def timeline_row(cur, result: QuarterResult, decision: str, champion_after: str | None,
                 run_urls: Mapping[str, str]) -> TimelineRow:
    """The quarter's figures as the trigger read them (the champion monitored at the
    quarter's as-of), the decision and the champion after it."""
    figures = read_figures(cur, result.as_of.isoformat()) or {"drift": [], "quality": []}
    monitored = next((r["model_version"] for r in [*figures["drift"], *figures["quality"]]),
                     None)
    quality = read_quality(cur, result.as_of.isoformat())
    return TimelineRow(
        quarter=result.quarter, scored=result.scored,
        drift_share={r["role_family"]: float(r["drift_share"]) for r in figures["drift"]
                     if r["drift_share"] is not None},
        realised=_cohort_auc(quality, monitored, "realised"),
        estimate=_cohort_auc(quality, monitored, "estimate"),
        decision=decision, champion=champion_after or monitored, run_urls=dict(run_urls))


def close_quarter(result: QuarterResult, *, hireloop: HireloopRuntime,
                  definitions: Definitions | None = None, instance: DagsterInstance,
                  code_location: Any = None, retrain_config: dict[str, Any] | None = None,
                  run_url: Any = None) -> QuarterLoop:
    """Let the trigger look at the quarter's monitoring, retrain if it asks; the quarter's
    one decision (see the module's docstring).

    `definitions`, `instance`, `code_location` as in orchestration.quarters.run_quarter (the
    configured definitions are launched, a caller's own run in-process). `retrain_config`:
    the retrain's run config (e.g. quicker challengers); the trigger's thresholds are the
    definitions' `trigger` resource, read by the sensor and the retrain alike.
    `run_url(run_id)`: a run's address in the Dagster UI, for the timeline's pointers.
    Raises QuarterFailed when a retrain stops without recording its decision.
    """
    seconds: dict[str, float] = {}
    run_ids: dict[str, str] = {QUARTER_JOB: result.run_ids[0]}
    t0 = time.perf_counter()
    requests = evaluate_loop_trigger(instance, _configured(definitions))
    seconds["trigger"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for request in requests:
        (retrain,) = launch_jobs(definitions, [(RETRAIN_JOB, retrain_config or {})], instance,
                                 request=code_location, tags=launch_tags(request))
        run_ids[RETRAIN_JOB] = retrain.run_id
        # A refused pick fails the run (the blocking check) after recording `refused`.
        failure = None if retrain.success else explain_failure(retrain)
        with hireloop.connection("ml") as conn, conn.cursor() as cur:
            recorded = _decision(cur, result.quarter)
        if recorded is None or (failure is not None and recorded[1] != "refused"):
            why = failure.message() if failure is not None else "no decision was recorded"
            raise QuarterFailed(f"the retrain of {result.quarter} (Dagster run "
                                f"{retrain.run_id}): {why}")
    if requests:
        seconds["retrain"] = time.perf_counter() - t0

    with hireloop.connection("ml") as conn, conn.cursor() as cur:
        recorded = _decision(cur, result.quarter)
        if recorded is None:
            raise QuarterFailed(f"the trigger recorded no decision for {result.quarter}: were "
                                "drift and quality figures written for its as-of?")
        decision_id, decision, reasons, after = recorded
        urls = {job: run_url(run_id) if run_url else run_id for job, run_id in run_ids.items()}
        row = timeline_row(cur, result, decision, after, urls)
    return QuarterLoop(row=row, reasons=reasons, decision_id=decision_id, run_ids=run_ids,
                       seconds=seconds)


__all__ = ["QuarterLoop", "close_quarter", "timeline_row"]
