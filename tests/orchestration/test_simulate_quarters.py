"""Simulated quarters of a real sandbox, each through the whole cycle: a 3,000-applicant
history (2022-01-01 to 2024-06-30, as of 2024-07-01) built by the real `build_feature_store`
job (real PostgreSQL and dbt), a champion
trained on it and served by the real endpoint process; per quarter (orchestration.quarters.
run_quarter) the interview tool scoring over HTTP, the person's decisions in
monitoring.hiring_decisions, and one `quarter_cycle` run: the quarter imported as an export
by the job's own ingest, the inference log ingested, the champion monitored; then the loop
closes (orchestration.loop_cycle.close_quarter): the trigger's sensor evaluated in process, a
retrain when it asks.
Eight `stable` quarters, 2024-Q3 to 2026-Q2, under the default thresholds (no retrain,
every family's drift tested from the second close on), then a ninth, 2026-Q3, under
thresholds no figure can stay inside (the breach: one retrain, its decision under the
quarter's run key).

The pure simulation (determinism, the scenario's reach, the decision rule) is proven in
tests/hris/test_quarters.py; here, that the cycle holds together on the real parts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from dagster import RunsFilter
from typer.testing import CliRunner

from hris.contract import RAW_TABLES
from hris.exports import record_export
from hris.ingest import ingest_export
from hris.pseudonym import PSEUDONYM_HEX_CHARS
from hris.simulator.quarters import QuarterRefused
from monitoring.hiring_decisions import COLUMNS, HiringDecision, append_decisions, read_decisions
from monitoring.loop_trigger import LABELS, TriggerPolicy, decide, read_figures
from orchestration.cli import app
from orchestration.definitions import build_definitions
from orchestration.loop_cycle import close_quarter
from orchestration.quarters import QUARTER_JOB, preflight, run_quarter
from orchestration.resources import EndpointResource, HireloopRuntime
from orchestration.sensors import (
    RETRAIN_JOB,
    TRIGGER_RESOURCE,
    TriggerThresholds,
    evaluate_loop_trigger,
)
from tests.ml.test_endpoint import free_port
from tests.orchestration.quarter_sandbox import QUICK_RETRAIN, served_sandbox

HISTORY_N, SEED, PER_QUARTER = 3_000, 17, 900
# The module's sandbox (a history, a champion, quarters of dbt builds) is set up inside
# its first test: room beyond the suite's 900 s for a loaded machine.
pytestmark = pytest.mark.timeout(2400)
SCENARIO = "stable"
# The history ends half a year before the default's (2024-12-31) so that eight stable
# quarters and the breach's, 2024-Q3 to 2026-Q3, fit before the real date (2026-12-03:
# simulated time cannot pass it; see the refusal's test); a 2024-12-31 history fits seven.
HISTORY_END, HISTORY_AS_OF = "2024-06-30", dt.date(2024, 7, 1)
STABLE_QUARTERS = 8
# Thresholds no tested figure stays inside (a calibration error or an early-attainment gap
# is never exactly zero): the last quarter breaches on whatever the monitor recorded.
TIGHT = TriggerThresholds(max_drift_share=1e-6, min_drift_n=1, max_calibration_error=1e-6,
                          min_calibration_n=1, max_early_gap=1e-6, min_early_n=1)


@pytest.fixture(scope="module")
def sandbox(pg_server, hireloop_home, tmp_path_factory):
    """The history built, a champion served; then STABLE_QUARTERS + 1 quarters run through
    the whole cycle (the last under TIGHT thresholds). Yields what each test reads: the database,
    the runtime, the quarters' results and closings, the retrain runs after each quarter,
    a look of the trigger after the last, the monitoring runs, the first champion."""
    folder = tmp_path_factory.mktemp("quarters")
    with served_sandbox(pg_server, hireloop_home, folder, "quarters", HISTORY_N, SEED,
                        history_end=HISTORY_END) as box:
        runtime, defs, instance = box.runtime, box.defs, box.instance
        tight = build_definitions({**box.resources, TRIGGER_RESOURCE: TIGHT})
        results, closed, retrains = [], [], []
        for quarter in range(STABLE_QUARTERS + 1):
            bound = defs if quarter < STABLE_QUARTERS else tight
            result = run_quarter(SCENARIO, PER_QUARTER, hireloop=runtime,
                                 endpoint=box.endpoint, definitions=bound, instance=instance)
            closed.append(close_quarter(result, hireloop=runtime, definitions=bound,
                                        instance=instance, retrain_config=QUICK_RETRAIN))
            results.append(result)
            retrains.append([r.dagster_run for r in instance.get_run_records(
                RunsFilter(job_name=RETRAIN_JOB))])
        again = evaluate_loop_trigger(instance, tight)  # the breach's quarter looked at again
        monitor_runs = instance.get_run_records(RunsFilter(job_name=QUARTER_JOB))
    yield SimpleNamespace(database=box.database, runtime=runtime, results=results,
                          closed=closed, retrains=retrains, again=again,
                          monitor_runs=monitor_runs, champion=box.champion, read=box.read)


def test_each_quarter_is_scored_decided_exported_and_imported_at_its_as_of(sandbox):
    first, second = sandbox.results[:2]
    assert (first.index, first.quarter, first.as_of) == (1, "2024-Q3", dt.date(2024, 10, 1))
    assert (second.index, second.quarter, second.as_of) == (2, "2024-Q4", dt.date(2025, 1, 1))
    assert sandbox.results[-1].quarter == "2026-Q3"
    exports = sandbox.read("SELECT source, as_of_date, kind FROM raw._exports "
                           "ORDER BY export_id")
    # the history's first load names its end: the quarters continue from it
    assert (exports["source"].iloc[0], exports["as_of_date"].iloc[0]) == (
        f"simulator:seed={SEED}:n={HISTORY_N}:end={HISTORY_END}", HISTORY_AS_OF)
    assert exports["as_of_date"].tolist()[-len(sandbox.results):] == [
        r.as_of for r in sandbox.results]
    assert set(exports["kind"]) == {"simulator"}  # a sandbox, simulated exports only
    for result in sandbox.results:
        assert result.applicants == PER_QUARTER
        assert result.scored > 100 and result.refused == 0 and result.failed == 0
        assert result.decided == result.scored and 0 < result.offers < result.decided
        assert result.hires_started > 0 and result.reviews_arrived > 0
        assert result.inference_ingested == result.scored
        assert result.export_dir == Path(sandbox.runtime.home) / "exports" / str(result.as_of)


def test_every_candidate_scored_over_http_is_in_the_scoring_log_and_the_decision_log(sandbox):
    decisions = sandbox.read("SELECT * FROM monitoring.hiring_decisions ORDER BY decision_id")
    assert len(decisions) == sum(r.decided for r in sandbox.results)
    assert (decisions["source"] == "simulation").all()
    assert decisions["candidate_pseudonym"].str.fullmatch(
        f"[0-9a-f]{{{PSEUDONYM_HEX_CHARS}}}").all()  # never the HR system's id
    assert decisions["candidate_pseudonym"].is_unique
    logged = sandbox.read("SELECT request_id, candidate_pseudonym, model_version, probability, "
                          "band FROM monitoring.scoring_log WHERE source = 'online'")
    joined = decisions.merge(logged, on="request_id", suffixes=("", "_log"), how="left",
                             validate="one_to_one")
    assert joined["band_log"].notna().all()  # every decision answers a logged score
    assert (joined["candidate_pseudonym"] == joined["candidate_pseudonym_log"]).all()
    assert (joined["band"] == joined["band_log"]).all()
    assert (joined["probability"] - joined["probability_log"]).abs().max() < 1e-12
    assert (joined["model_version"] == joined["model_version_log"]).all()
    by_quarter = decisions.groupby("quarter").size().to_dict()
    assert by_quarter == {r.quarter: r.decided for r in sandbox.results}
    assert (decisions["decided_at"].dt.date <= decisions["as_of"]).all()


def test_decisions_depend_on_the_band_and_on_the_old_process(sandbox):
    decisions = sandbox.read("SELECT band, decision, reason FROM monitoring.hiring_decisions")
    verdict = decisions["reason"].str.split(";").str[0]
    offered = decisions["decision"] == "offer"
    # not the band alone: a band holds both offers and rejections
    assert (offered.groupby(decisions["band"]).nunique() == 2).any()
    # the old process matters: whom an earlier round rejected is never offered
    assert not offered[verdict == "an earlier round rejected"].any()
    # the band matters: a withdrawn offer followed a hold, an offer made anyway an advance
    vetoed = (verdict == "the interview rounds would offer") & ~offered
    rescued = (verdict == "the director round rejected") & offered
    assert vetoed.any() or rescued.any()
    assert (decisions.loc[vetoed, "band"] == "hold").all()
    assert (decisions.loc[rescued, "band"] == "advance").all()


def test_reviews_arrive_only_once_submitted(sandbox):
    previous = HISTORY_AS_OF.isoformat()
    for result in sandbox.results:
        reviews = pd.read_csv(result.export_dir / "performance_reviews.csv", dtype=str)
        assert len(reviews) == result.reviews_arrived > 0
        assert (reviews["submitted_at"] > previous).all()
        assert (reviews["submitted_at"] <= result.as_of.isoformat()).all()
        previous = result.as_of.isoformat()
    latest = sandbox.read("SELECT max(submitted_at) AS m FROM raw.performance_reviews")
    assert latest["m"].iloc[0] <= sandbox.results[-1].as_of.isoformat()


def test_a_quarters_import_is_counted_like_any_import_and_a_reimport_is_a_noop(
        sandbox, pg_server):
    last = sandbox.results[-1]
    for result in sandbox.results:
        source = str(result.export_dir.resolve())
        for name, table in RAW_TABLES.items():
            path = result.export_dir / f"{name}.csv"
            rows = pd.read_csv(path, dtype=str) if path.exists() else pd.DataFrame()
            counts = result.imported.get(name, {"rows_read": 0, "inserted": 0, "updated": 0,
                                                "unchanged": 0})
            assert counts["rows_read"] == len(rows), name
            assert counts["inserted"] + counts["updated"] + counts["unchanged"] == len(rows)
            if len(rows):  # nothing lost: every row exported is held (or a later version)
                held = sandbox.read(f"SELECT {', '.join(table.key)} FROM raw.{name}")
                keys = rows[list(table.key)].merge(held, how="left", indicator=True)
                assert (keys["_merge"] == "both").all(), name
            if result is last:  # what this import wrote is all there, under its source
                landed = sandbox.read(f"SELECT count(*) AS n FROM raw.{name} "
                                      f"WHERE _source = '{source}'")["n"].iloc[0]
                assert landed == counts["inserted"] + counts["updated"], name
            quarantined = sandbox.read(f"SELECT count(*) AS n FROM quarantine.quarantine_{name} "
                                       f"WHERE _source = '{source}'")["n"].iloc[0]
            assert quarantined == 0, name  # clean simulated rows: none quarantined
    # the status of quarter 1's applicants decided in quarter 2 was updated in place
    assert sandbox.results[1].imported["candidates"]["updated"] > 0
    exports_before = len(sandbox.read("SELECT * FROM raw._exports"))
    conn = pg_server.endpoint.connect(sandbox.database)
    try:
        again = ingest_export(conn, sandbox.results[-1].export_dir, None)
    finally:
        conn.close()
    assert all(t.inserted == 0 and t.updated == 0 for t in again.load.tables.values())
    assert len(sandbox.read("SELECT * FROM raw._exports")) == exports_before


def test_sim_truth_holds_counterfactuals_for_every_new_applicant(sandbox):
    truth = sandbox.read("SELECT candidate_id, status, met_kpi, p_true, drivers_drifted "
                         "FROM sim_truth.candidates")
    new = truth[truth["candidate_id"].str.len() == 10]
    assert len(new) == len(sandbox.results) * PER_QUARTER and new["candidate_id"].is_unique
    rejected = new[new["status"] == "rejected"]
    assert len(rejected) > 50 and rejected["met_kpi"].notna().all()
    assert rejected["p_true"].between(0, 1).all()
    # a stable world: the drivers drift for no one (concept drift's reach:
    # tests/hris/test_quarters.py)
    assert not truth["drivers_drifted"].any()


def test_each_quarter_is_monitored_at_its_own_as_of_without_training(sandbox):
    assert len(sandbox.monitor_runs) == len(sandbox.results)  # one monitoring run a quarter
    for result, closed in zip(sandbox.results, sandbox.closed, strict=True):
        as_of = f"'{result.as_of}'"
        drift = sandbox.read(f"SELECT role_family, model_version, n_current FROM "
                             f"monitoring.feature_drift_summary WHERE as_of = {as_of}")
        quality = sandbox.read(f"SELECT DISTINCT kind FROM monitoring.model_quality "
                               f"WHERE as_of = {as_of}")
        assert len(drift) > 0 and (drift["n_current"] > 0).all(), result.quarter
        assert set(drift["model_version"]) == {sandbox.champion}  # the champion in force
        assert "estimate" in set(quality["kind"]), result.quarter
        assert closed.run_ids[QUARTER_JOB] in {r.dagster_run.run_id
                                               for r in sandbox.monitor_runs}
    # the monitoring job trains nothing: the only registered version is the first champion
    # until a retrain promotes one
    assert set(sandbox.read("SELECT DISTINCT model_version FROM monitoring.feature_drift_summary"
                            )["model_version"]) == {sandbox.champion}


def test_a_stable_quarter_ends_in_one_no_action_whose_reasons_name_its_figures(
        sandbox, pg_server):
    stable = sandbox.results[:STABLE_QUARTERS]
    assert len(stable) == 8  # the eight stable quarters
    assert all(not runs for runs in sandbox.retrains[:STABLE_QUARTERS])  # no retrain ran
    decisions = sandbox.read("SELECT quarter, as_of, decision, reasons, run_key "
                             "FROM monitoring.loop_decisions ORDER BY decision_id")
    mine = decisions[decisions["quarter"].isin([r.quarter for r in stable])]
    assert mine["quarter"].tolist() == [r.quarter for r in stable]  # exactly one a quarter
    assert set(mine["decision"]) == {"no_action"}
    assert mine["run_key"].tolist() == [r.quarter for r in stable]
    conn = pg_server.endpoint.connect(sandbox.database)
    try:
        with conn.cursor() as cur:
            for i, (result, (_, row), closed) in enumerate(zip(
                    stable, mine.iterrows(), sandbox.closed[:STABLE_QUARTERS], strict=True)):
                # the recorded reasons are the default thresholds applied to the recorded
                # figures, recomputed here, and each names its figure
                again = decide(read_figures(cur, result.as_of.isoformat()), TriggerPolicy())
                assert not again.retrain and row["reasons"] == again.reasons
                assert all(any(label in r for label in LABELS.values()) for r in row["reasons"])
                assert any("feature drift share" in r for r in row["reasons"])
                if i:  # the first close judges the history's last quarter
                    tested = [r for r in again.figures["drift"]
                              if r["n_current"] >= TriggerPolicy().min_drift_n]
                    assert len(tested) == 4  # every family's drift was tested, and held
                # the timeline's row: what the quarter did and what the loop decided
                assert closed.reasons == again.reasons
                assert (closed.row.quarter, closed.row.scored, closed.row.decision,
                        closed.row.champion) == (result.quarter, result.scored, "no_action",
                                                 sandbox.champion)
                assert closed.row.drift_share == {
                    r["role_family"]: r["drift_share"] for r in again.figures["drift"]}
                assert closed.row.estimate is not None
    finally:
        conn.close()


def test_a_breach_launches_one_retrain_that_records_the_quarters_decision(sandbox):
    result, closed = sandbox.results[-1], sandbox.closed[-1]
    (run,) = sandbox.retrains[-1]  # one retrain, launched for the breaching quarter
    assert run.tags["dagster/run_key"] == result.quarter
    assert run.tags["hireloop/quarter"] == result.quarter
    assert run.tags["hireloop/as_of"] == result.as_of.isoformat()
    assert closed.run_ids[RETRAIN_JOB] == run.run_id
    assert sandbox.again == []  # looked at again, the quarter asks for nothing more
    rows = sandbox.read(f"SELECT decision, reasons, figures, run_key, dagster_run_id, "
                        f"champion_before, champion_after FROM monitoring.loop_decisions "
                        f"WHERE quarter = '{result.quarter}'")
    assert len(rows) == 1  # the retrain's outcome is the quarter's one decision
    row = rows.iloc[0]
    assert row["decision"] in ("retrained_promoted", "retrained_kept", "refused")
    assert closed.row.decision == row["decision"]
    assert (row["run_key"], row["dagster_run_id"]) == (result.quarter, run.run_id)
    # the trigger's breaches lead the reasons; its figures and every reason are kept
    breaches = [r for r in row["figures"]["trigger"]["reasons"] if r.endswith(": retrain")]
    assert breaches and row["reasons"][:len(breaches)] == [f"trigger: {r}" for r in breaches]
    assert row["figures"]["trigger"]["figures"]["thresholds"]["max_early_gap"] == 1e-6
    assert row["champion_before"] == sandbox.champion
    assert closed.row.champion == row["champion_after"]


def test_a_real_installation_is_not_advanced(pg_server, hireloop_home):
    database = pg_server.create_database("quarters_real")
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        record_export(cur, "/exports/hr-2025-01-01", "import", dt.date(2025, 1, 1))
    conn.close()
    runtime = HireloopRuntime(home=str(hireloop_home), database=database)
    with pytest.raises(QuarterRefused, match="only in a sandbox"):
        run_quarter("stable", hireloop=runtime, endpoint=EndpointResource(home="/nowhere"))


def test_the_cli_says_what_to_run_first_without_a_served_champion(monkeypatch,
                                                                  hireloop_home, pg_server):
    monkeypatch.setenv("HIRELOOP_HOME", str(hireloop_home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    monkeypatch.setenv("HIRELOOP_ENDPOINT_PORT", str(free_port()))
    result = CliRunner().invoke(app, ["simulate", "--quarters", "1"])
    assert result.exit_code == 2
    assert "no champion is served" in result.output and "hireloop build" in result.output
    bad = CliRunner().invoke(app, ["simulate", "--scenario", "weather"])
    assert bad.exit_code == 2 and "concept_drift" in bad.output


def test_simulated_time_never_passes_the_real_date(sandbox):
    """The endpoint refuses interviews dated after today: a quarter that would end after it
    is refused before anything runs, saying how many quarters fit."""
    last = sandbox.results[-1].as_of
    exports = "SELECT count(*) AS n FROM raw._exports"
    before = sandbox.read(exports)["n"].iloc[0]
    preflight(sandbox.runtime, SCENARIO, 1, today=last + dt.timedelta(days=91))  # it fits
    with pytest.raises(QuarterRefused) as refused:
        preflight(sandbox.runtime, SCENARIO, 3, today=last + dt.timedelta(days=91))
    message = str(refused.value)
    assert f"after today ({last + dt.timedelta(days=91)})" in message
    assert "cannot pass the real date" in message and "1 more fit today" in message
    assert "hireloop simulate --quarters 1" in message
    with pytest.raises(QuarterRefused, match="0 more fit today"):
        preflight(sandbox.runtime, SCENARIO, 1, today=last)
    assert sandbox.read(exports)["n"].iloc[0] == before  # the refusals exported nothing


def test_the_decision_log_takes_a_persons_decision_and_no_quarter_twice(sandbox, pg_server):
    conn = pg_server.endpoint.connect(sandbox.database)
    try:
        with conn, conn.cursor() as cur:
            logged = read_decisions(cur, source="simulation")
            again = [HiringDecision(**{c: (None if pd.isna(row[c]) else row[c])
                                       for c in COLUMNS}) for _, row in logged.head(20).iterrows()]
            assert append_decisions(cur, again) == 0  # the same scores' decisions: no-ops
            person = HiringDecision(
                candidate_pseudonym=logged["candidate_pseudonym"].iloc[0], decision="hold",
                decided_by="a.reviewer", reason="asked for a work sample first", source="cli",
                band=logged["band"].iloc[0], request_id=logged["request_id"].iloc[0])
            assert append_decisions(cur, [person]) == 1  # another source: its own row
            mine = read_decisions(cur, source="cli")
    finally:
        conn.close()
    assert mine[["decision", "decided_by", "request_id"]].values.tolist() == [
        ["hold", "a.reviewer", logged["request_id"].iloc[0]]]
    assert mine["decided_at"].notna().all() and mine["quarter"].isna().all()
