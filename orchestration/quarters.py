"""One simulated quarter's cycle, as an installation lives it (`hireloop simulate`).

`run_quarter` takes a sandbox one calendar quarter past its as-of in force: the quarter's
applicants are interviewed (hris.simulator.quarters); the interview tool scores each
candidate whose rounds ended through the RUNNING endpoint over HTTP (interview records and
the candidate id, as an ATS does: the inference log carries the pseudonym); a person decides
from the band and the old process together, recorded in monitoring.hiring_decisions; the
quarter's new and changed rows reach hireloop as an HR export does (CSV files under
`$HIRELOOP_HOME/exports/<as_of>/`, imported by the `build_feature_store` job's ingest with
its own as-of, which rebuilds the feature store and the serving context); the inference log
is ingested and the champion in force monitored at the new as-of (drift, quality, the
feedback page), all in the one `quarter_cycle` run. The truth of the new applicants goes to
sim_truth. The loop then closes on the QuarterResult (orchestration.loop_cycle.
close_quarter): the trigger looks, a retrain runs when it asks.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance, Definitions

from hris.contract import RAW_TABLES
from hris.exports import SANDBOX, installation_kind, latest_as_of
from hris.interview_tool import score_records
from hris.simulated_export import MANIFEST_NAME, write_export_frames
from hris.simulator.quarters import (
    CohortSpec,
    History,
    QuarterRefused,
    QuarterState,
    quarter_ends,
    quarter_label,
)
from hris.simulator.recruiter import DECIDED_BY
from hris.simulator.truth import append_truth
from ml.records_route import today as real_today
from monitoring.hiring_decisions import HiringDecision, append_decisions, read_decisions
from orchestration.resources import EndpointResource, HireloopRuntime
from orchestration.run_failures import explain_failure
from orchestration.runs import launch_jobs

QUARTER_JOB = "quarter_cycle"  # orchestration/definitions.py
MAX_QUARTERS = 400  # how far from the history an installation can be advanced


class QuarterFailed(RuntimeError):
    """A run of the quarter's cycle stopped; the message says why (the run's explanation)."""


@dataclass
class QuarterResult:
    """What one quarter did: who applied, was scored, decided, hired; what the export held
    and what its import did; the Dagster runs."""

    index: int
    quarter: str
    as_of: dt.date
    applicants: int
    scored: int
    refused: int
    failed: int
    decided: int
    offers: int
    hires_started: int
    reviews_arrived: int
    terminations: int
    export_dir: Path
    imported: dict[str, dict[str, int]] = field(default_factory=dict)
    inference_ingested: int = 0
    run_ids: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        """One printout line per quarter."""
        return (f"{self.quarter} (as of {self.as_of}): {self.applicants} applied, "
                f"{self.scored} scored over HTTP ({self.refused} refused), {self.decided} "
                f"decided ({self.offers} offers), {self.hires_started} hires started, "
                f"{self.reviews_arrived} reviews arrived; export {self.export_dir} "
                f"({sum(self.seconds.values()):.0f} s: "
                + ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in self.seconds.items())
                + ")")


def _refuse_the_future(ends: list[dt.date], done: int, ahead: int, today: dt.date) -> None:
    """QuarterRefused when the `ahead` quarters after the `done` ones would end after today:
    the endpoint refuses interview dates in the future, so simulated time cannot pass the
    real date (their interviews would be refused, not scored)."""
    last = done + ahead
    if last >= len(ends) or ends[last] - dt.timedelta(days=1) <= today:
        return
    fit = sum(1 for end in ends[done + 1:last + 1] if end - dt.timedelta(days=1) <= today)
    raise QuarterRefused(
        f"simulated quarter {quarter_label(ends[last])} would end on "
        f"{ends[last] - dt.timedelta(days=1)}, after today ({today}): the endpoint refuses "
        "interview dates in the future, so simulated time cannot pass the real date; "
        f"{done} quarter(s) have run from this history, {fit} more fit today"
        + (f" (run `hireloop simulate --quarters {fit}`)" if fit else ""))


def _history_and_specs(cur, scenario: str, per_quarter: int | None, ahead: int = 1,
                       today: dt.date | None = None) -> tuple[History, list[CohortSpec]]:
    """The history (first load), the specs of the quarters simulated so far (their export
    manifests) and the next one's; QuarterRefused unless `ahead` quarters fit before
    `today` (default: the real date)."""
    kind = installation_kind(cur)
    if kind is None:
        raise QuarterRefused("nothing is loaded yet: run `hireloop build` first (it simulates "
                             "a history, trains and serves a champion)")
    if kind != SANDBOX:
        raise QuarterRefused("this installation is real (it holds an HR system's exports): "
                             "time is simulated only in a sandbox; point HIRELOOP_HOME at "
                             "another folder and run `hireloop build` there")
    cur.execute("SELECT source, as_of_date FROM raw._exports ORDER BY export_id")
    loads = cur.fetchall()
    history = History.from_source(loads[0][0], loads[0][1])
    in_force = latest_as_of(cur)
    ends = [history.as_of, *quarter_ends(history.as_of, MAX_QUARTERS)]
    if in_force not in ends:
        raise QuarterRefused(f"the as-of in force, {in_force}, is no quarter's end after the "
                             f"history's {history.as_of}: only simulated quarters can follow it")
    done = ends.index(in_force)
    _refuse_the_future(ends, done, ahead, today or real_today())
    specs: dict[int, CohortSpec] = {}
    for source, _ in loads[1:]:
        manifest = Path(source) / MANIFEST_NAME
        if manifest.is_file():
            details = json.loads(manifest.read_text(encoding="utf-8"))
            if "quarter_index" in details:
                specs[int(details["quarter_index"])] = CohortSpec(
                    int(details["quarter_index"]), details["scenario"],
                    int(details["per_quarter"]))
    missing = [q for q in range(1, done + 1) if q not in specs]
    if missing:
        raise QuarterRefused(f"the export of simulated quarter {missing[0]} is gone (its "
                             "folder under $HIRELOOP_HOME/exports): the quarters cannot be "
                             "re-drawn without it")
    volume = per_quarter or history.quarterly_volume()
    return history, [*(specs[q] for q in range(1, done + 1)),
                     CohortSpec(done + 1, scenario, volume)]


def preflight(hireloop: HireloopRuntime, scenario: str, quarters: int = 1,
              today: dt.date | None = None) -> None:
    """QuarterRefused if this installation cannot be advanced by `quarters` (reads, changes
    nothing): for callers that would otherwise start the code server first."""
    with hireloop.connection("ml") as conn, conn.cursor() as cur:  # the load register
        _history_and_specs(cur, scenario, None, quarters, today)


def _past_decisions(cur, history: History) -> dict[str, tuple[str, int]]:
    frame = read_decisions(cur, source="simulation")
    if frame.empty:
        return {}
    index = {d: i + 1 for i, d in enumerate(quarter_ends(history.as_of, MAX_QUARTERS))}
    return {p: (d, index[a]) for p, d, a in frame[["candidate_pseudonym", "decision",
                                                    "as_of"]].itertuples(index=False)}


def _imported(result) -> dict[str, dict[str, int]]:
    """Per raw table, what the run's import did (the raw assets' metadata)."""
    out = {}
    for event in result.all_events:
        if event.event_type != DagsterEventType.ASSET_MATERIALIZATION:
            continue
        materialization = event.event_specific_data.materialization
        path = materialization.asset_key.path
        if len(path) == 2 and path[0] == "raw" and path[1] in RAW_TABLES:
            meta = materialization.metadata
            out[path[1]] = {k: int(meta[k].value) for k in (
                "rows_read", "inserted", "updated", "unchanged", "duplicate_keys_in_export")}
    return out


def check_run(result, what: str) -> None:
    """QuarterFailed, saying why, when the run (in-process or launched) did not succeed."""
    failure = explain_failure(result)
    if failure is not None or not result.success:
        message = failure.message() if failure is not None else "the run failed"
        raise QuarterFailed(f"{what}: {message}")


def run_quarter(scenario: str, per_quarter: int | None = None, *, hireloop: HireloopRuntime,
                endpoint: EndpointResource, definitions: Definitions | None = None,
                instance: DagsterInstance | None = None, batch_size: int = 100,
                code_location: Any = None) -> QuarterResult:
    """Advance the sandbox by one calendar quarter (see the module's docstring).

    `per_quarter` applicants (default: the history's quarterly rate). `definitions` and
    `instance` as in orchestration.runs.run_loop: the configured ones are launched (the UI
    lists the runs), a caller's own run in-process; `code_location` (a request of
    orchestration.launch.code_location on `instance`) lets quarters share one code server
    (it takes a while to load). Raises QuarterRefused (nothing done)
    or QuarterFailed (a run stopped; the decisions and the export are kept, and running
    the quarter again re-imports the same export).
    """
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    key = hireloop.settings.pseudonym_key()
    # the load register and the decision log (ml); the truth is the simulator's (ingest)
    with hireloop.connection("ml") as conn, conn.cursor() as cur:
        history, specs = _history_and_specs(cur, scenario, per_quarter)
        past = _past_decisions(cur, history)
    state = QuarterState(history, specs, key, past)
    due = state.to_decide()
    seconds["simulate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = score_records(endpoint.url, hireloop.settings.endpoint_token(),
                           state.requests(due), batch_size=batch_size)
    answers = {p["request_id"]: p for p in report.predictions}
    decisions = state.decide(due, answers)
    seconds["score"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    export = state.export(decisions)
    directory = hireloop.settings.home / "exports" / state.as_of.isoformat()
    if (directory / MANIFEST_NAME).is_file():
        shutil.rmtree(directory)  # this quarter's own export, written by an earlier try
    spec = specs[-1]
    write_export_frames(export.frames, directory, state.as_of, {
        "seed": history.seed, "scenario": spec.scenario, "quarter_index": spec.index,
        "quarter": state.label, "per_quarter": spec.per_quarter, "history_n": history.n})
    # The truth first: it replaces by candidate id, so a quarter run again after a failure
    # between the two leaves neither twice.
    with hireloop.connection("ingest") as conn, conn.cursor() as cur:
        append_truth(cur, export.truth)
    with hireloop.connection("ml") as conn, conn.cursor() as cur:
        append_decisions(cur, [HiringDecision(
            candidate_pseudonym=d.candidate_pseudonym, decision=d.decision,
            decided_by=DECIDED_BY, reason=d.reason, source="simulation",
            role_family=d.role_family, model_version=d.model_version,
            probability=d.probability, band=d.band, request_id=d.request_id,
            quarter=state.label, as_of=state.as_of,
            decided_at=dt.datetime.combine(d.decided_on, dt.time(12), dt.UTC))
            for d in decisions])
    seconds["export"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # One run: the import, the build, the inference log (the endpoint logged every score
    # before the export was written) and the champion's monitoring at the new as-of.
    jobs = [(QUARTER_JOB, {"ops": {"raw_hr_tables": {"config": {
                "source": "import", "import_dir": str(directory)}}}})]
    if instance is None:
        with DagsterInstance.get() as own:
            results = launch_jobs(definitions, jobs, own)
            ingested = _finish(results[0])
    else:
        results = launch_jobs(definitions, jobs, instance, request=code_location)
        ingested = _finish(results[0])
    seconds["import_build_monitor"] = time.perf_counter() - t0
    return QuarterResult(
        index=spec.index, quarter=state.label, as_of=state.as_of,
        applicants=spec.per_quarter, scored=report.scored, refused=report.refused,
        failed=report.failed, decided=len(decisions),
        offers=sum(d.decision == "offer" for d in decisions),
        hires_started=export.hires_started, reviews_arrived=export.reviews,
        terminations=export.terminations, export_dir=directory,
        imported=_imported(results[0]), inference_ingested=ingested,
        run_ids=[r.run_id for r in results], seconds=seconds)


def _finish(result: Any) -> int:
    """Check the quarter's run (read while its instance is open); the inference log rows
    added."""
    check_run(result, "the quarter's import, feature-store build and monitoring")
    return int(result.output_for_node("inference_log_ingest")["added"])
