"""Simulated quarters (hris.simulator.quarters), without a database: determinism, what the
clock reveals, the scenario's reach, the person who decides, the truth kept for everyone.

The model's answers are an input of the simulation (it is deterministic in them), so these
tests give it fixed answers: a band per candidate from a rule on its request id. The same
cycle against a served model over HTTP is tests/orchestration/test_simulate_quarters.py.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hris.ingest import simulated_source
from hris.pseudonym import PSEUDONYM_HEX_CHARS
from hris.simulator import simulate
from hris.simulator.cohorts import day_number
from hris.simulator.generate import HISTORY_END, HISTORY_START
from hris.simulator.quarters import (
    CohortSpec,
    History,
    QuarterRefused,
    QuarterState,
    cohort_employment,
    cohort_tables,
    draw_cohort,
    quarter_ends,
    quarter_label,
    visible_at,
)
from hris.simulator.recruiter import OFFER, REJECTED_EARLY, REJECTED_FINAL, decide
from monitoring import hiring_decisions

HISTORY = History(n=3_000, seed=13, as_of=dt.date(2025, 1, 1))
KEY = b"quarters-test-key"
BANDS = ("advance", "review", "hold")


def _answers(requests: list[dict]) -> dict[str, dict]:
    """A fixed model: the band cycles with the request's position."""
    return {r["request_id"]: {"request_id": r["request_id"], "band": BANDS[i % 3],
                              "probability": (i % 10) / 10, "model_version": "1"}
            for i, r in enumerate(requests)}


def _run(scenario: str, quarters: int = 2) -> list[tuple[QuarterState, list, object]]:
    """Quarters 1..n, each fed the decisions of the ones before (as the log would)."""
    past: dict[str, tuple[str, int]] = {}
    out = []
    for q in range(1, quarters + 1):
        specs = [CohortSpec(i, scenario, 250) for i in range(1, q + 1)]
        state = QuarterState(HISTORY, specs, KEY, dict(past))
        due = state.to_decide()
        decisions = state.decide(due, _answers(state.requests(due)))
        out.append((state, decisions, state.export(decisions)))
        past.update({d.candidate_pseudonym: (d.decision, q) for d in decisions})
    return out


@pytest.fixture(scope="module")
def stable():
    return _run("stable")


@pytest.fixture(scope="module")
def drifted():
    return _run("concept_drift")


def test_quarters_follow_the_calendar_from_the_historys_as_of():
    assert quarter_ends(dt.date(2025, 1, 1), 3) == [
        dt.date(2025, 4, 1), dt.date(2025, 7, 1), dt.date(2025, 10, 1)]
    assert quarter_ends(dt.date(2024, 11, 15), 2) == [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]
    assert quarter_label(dt.date(2025, 4, 1)) == "2025-Q1"
    assert quarter_label(dt.date(2025, 1, 1)) == "2024-Q4"
    # the history's rate: 3,000 applications over three years
    assert HISTORY.quarterly_volume() == 250


@pytest.mark.parametrize(("defects", "end", "source"), [
    (0.0, HISTORY_END, "simulator:seed=7:n=20000"),  # as every installation so far
    (0.01, HISTORY_END, "simulator:seed=7:n=20000:defects=0.01"),
    (0.0, "2024-06-30", "simulator:seed=7:n=20000:end=2024-06-30"),
    (0.01, "2024-06-30", "simulator:seed=7:n=20000:defects=0.01:end=2024-06-30"),
])
def test_the_first_loads_source_brings_the_historys_end_back(defects, end, source):
    assert simulated_source(20_000, 7, defects, end) == source
    history = History.from_source(source, dt.date(2025, 1, 1))
    assert (history.n, history.seed, history.start, history.end) == (
        20_000, 7, HISTORY_START, end)


def test_a_shorter_history_keeps_its_rate_and_its_quarters_follow_its_end():
    short = History(n=3_000, seed=13, as_of=dt.date(2024, 7, 1), end="2024-06-30")
    # 3,000 applications over 2.5 years (912 days), not over the default's three
    assert short.quarterly_volume() == 300
    ends = quarter_ends(short.as_of, 9)
    assert (ends[0], quarter_label(ends[0])) == (dt.date(2024, 10, 1), "2024-Q3")
    assert (ends[-1], quarter_label(ends[-1])) == (dt.date(2026, 10, 1), "2026-Q3")
    cohort = draw_cohort(short, CohortSpec(1, "stable", short.quarterly_volume()))
    assert cohort.world.end == dt.date(2024, 6, 30)  # the history's world, continued
    days = cohort.applicants.app_day
    assert len(days) == 300
    assert days.min() > day_number(short.as_of) and days.max() <= day_number(ends[0])


def test_the_same_quarters_are_drawn_again_exactly(stable):
    again = _run("stable")
    for (_, d1, e1), (_, d2, e2) in zip(stable, again, strict=True):
        assert d1 == d2
        for name, frame in e1.frames.items():
            pd.testing.assert_frame_equal(frame, e2.frames[name])
        pd.testing.assert_frame_equal(e1.truth, e2.truth)


def test_a_quarter_holds_only_what_happened_inside_it(stable):
    previous = HISTORY.as_of
    for state, decisions, export in stable:
        lo, hi = previous.isoformat(), state.as_of.isoformat()
        frames = export.frames
        reviews = frames["performance_reviews"]
        assert len(reviews) and (reviews["submitted_at"] > lo).all()
        assert (reviews["submitted_at"] <= hi).all()  # a review arrives once submitted
        assert (frames["interviews"]["interview_date"] > lo).all()
        assert (frames["interviews"]["interview_date"] <= hi).all()
        assert (frames["candidates"]["application_date"] <= hi).all()
        assert frames["employees"]["hire_date"].max() <= hi
        # the history's hires keep being reviewed: their ids are the history's
        assert reviews["employee_id"].str.len().eq(8).any()
        # every decision falls in the quarter, and names a pseudonym, never an HR id
        assert all(lo < d.decided_on.isoformat() <= hi for d in decisions)
        assert all(len(d.candidate_pseudonym) == PSEUDONYM_HEX_CHARS for d in decisions)
        previous = state.as_of
    # quarter 1's applicants still in their rounds at its end are decided in quarter 2
    (_, d1, _), (_, d2, _) = stable
    first = {d.candidate_pseudonym for d in d1}
    carried = [d for d in d2 if d.request_id and "-c1-" in d.request_id]
    assert carried and not first & {d.candidate_pseudonym for d in carried}


def test_reviews_of_hires_appear_once_submitted_and_never_change(stable):
    (_, _, e1), (_, _, e2) = stable
    r1, r2 = e1.frames["performance_reviews"], e2.frames["performance_reviews"]
    assert not set(r1["review_id"]) & set(r2["review_id"])  # each arrives once
    # the history's own reviews submitted after its as-of are the ones revealed
    future = simulate(HISTORY.n, HISTORY.seed, reveal_until="2025-07-01").raw
    later = future["performance_reviews"]
    later = later[later["submitted_at"] > "2025-01-01"]
    history_rows = pd.concat([r1, r2])
    history_rows = history_rows[history_rows["employee_id"].str.len() == 8]
    assert set(history_rows["review_id"]) == set(later["review_id"])
    # and the history itself is untouched by revealing its future
    base = simulate(HISTORY.n, HISTORY.seed).raw
    kept = future["performance_reviews"]
    pd.testing.assert_frame_equal(kept[kept["submitted_at"] <= "2025-01-01"],
                                  base["performance_reviews"])


def test_hires_start_and_are_decided_by_a_person(stable):
    for _, decisions, export in stable:
        offers = [d for d in decisions if d.decision == "offer"]
        assert offers and export.hires_started > 0
        assert all(d.reason for d in decisions)


def test_decisions_depend_on_the_band_and_on_the_old_process():
    n = 4_000
    u = np.random.default_rng(0).random(n)
    verdict = np.array([OFFER, REJECTED_FINAL, REJECTED_EARLY] * (n // 3 + 1))[:n]
    for band in BANDS:
        decision, _ = decide(verdict, np.full(n, band, dtype=object), u)
        by_verdict = pd.Series(decision == "offer").groupby(verdict).mean()
        assert by_verdict[OFFER] > by_verdict[REJECTED_FINAL]  # the old process matters
        assert by_verdict[REJECTED_EARLY] == 0
    offer_rate = {}
    for band in BANDS:
        decision, _ = decide(np.full(n, OFFER, dtype=object), np.full(n, band, dtype=object), u)
        offer_rate[band] = (decision == "offer").mean()
    assert offer_rate["advance"] == offer_rate["review"] == 1.0
    assert 0.4 < offer_rate["hold"] < 0.6  # the band matters: a hold is looked at again
    rescued, _ = decide(np.full(n, REJECTED_FINAL, dtype=object),
                        np.full(n, "advance", dtype=object), u)
    assert 0.4 < (rescued == "offer").mean() < 0.6
    unscored, reasons = decide(np.array([OFFER, REJECTED_FINAL], dtype=object),
                               np.array([None, None], dtype=object), u[:2])
    assert unscored.tolist() == ["offer", "reject"] and "not scored" in reasons[0]


def test_concept_drift_changes_outcomes_only_from_the_first_simulated_quarter(stable,
                                                                              drifted):
    for (_, ds, es), (_, dd, ed) in zip(stable, drifted, strict=True):
        # the same people apply and are interviewed, and the same decisions are made ...
        for name in ("candidates", "interviews", "interview_scores", "interview_answers"):
            pd.testing.assert_frame_equal(es.frames[name], ed.frames[name])
        assert ds == dd
        # ... but the KPI's drivers changed for every new applicant
        ts, td = (e.truth[e.truth["candidate_id"].str.len() == 10] for e in (es, ed))
        assert td["drivers_drifted"].all() and not ts["drivers_drifted"].any()
        assert not np.allclose(ts["performance_index"], td["performance_index"])
        # the history's candidates still in process were drawn before: not drifted
        assert not ed.truth.loc[ed.truth["candidate_id"].str.len() == 8,
                                "drivers_drifted"].any()
        # the history's hires perform as before: their reviews are the same
        rs, rd = (e.frames["performance_reviews"] for e in (es, ed))
        old = rs["employee_id"].str.len() == 8
        pd.testing.assert_frame_equal(rs[old].reset_index(drop=True),
                                      rd[rd["employee_id"].str.len() == 8]
                                      .reset_index(drop=True))
    state = drifted[0][0]
    assert state.cohorts[1].world.change_date == HISTORY.as_of + dt.timedelta(days=1)


def test_the_truth_keeps_every_applicants_counterfactual_outcome(stable):
    _, _, export = stable[-1]
    truth = export.truth[export.truth["candidate_id"].str.len() == 10]  # the new applicants
    assert len(truth) == 2 * 250 and export.truth["candidate_id"].is_unique
    rejected = truth[truth["status"] == "rejected"]
    assert len(rejected) > 50
    assert rejected["met_kpi"].notna().all() and rejected["p_true"].between(0, 1).all()
    assert rejected["met_kpi"].any()  # some the company turned away would have met it


def test_a_cohort_cannot_be_drawn_for_an_unknown_scenario_or_size():
    with pytest.raises(QuarterRefused, match="scenario"):
        draw_cohort(HISTORY, CohortSpec(1, "weather", 10))
    with pytest.raises(QuarterRefused, match="per quarter"):
        draw_cohort(HISTORY, CohortSpec(1, "stable", 0))
    with pytest.raises(QuarterRefused, match="hireloop build"):
        History.from_source("/some/export/folder", dt.date(2025, 1, 1))
    assert History.from_source("simulator:seed=7:n=20000", dt.date(2025, 1, 1)).n == 20_000


def test_the_decision_log_keeps_pseudonyms_only():
    assert hiring_decisions._PSEUDONYM_CHARS == PSEUDONYM_HEX_CHARS
    with pytest.raises(ValueError, match="never the HR system's id"):
        hiring_decisions.HiringDecision("C0000001", "offer", "someone", "why", "cli")
    with pytest.raises(ValueError, match="decision must be"):
        hiring_decisions.HiringDecision("a" * 32, "maybe", "someone", "why", "cli")


def test_the_historys_candidates_still_in_process_go_on(stable):
    history = simulate(HISTORY.n, HISTORY.seed).raw["candidates"]
    pending = set(history.loc[history["status"] == "pending", "candidate_id"])
    assert len(pending) > 50
    (_, d1, e1), (_, _, e2) = stable
    # cohort 0, as of the history's as-of, is the history itself (its draws replayed)
    cohort = QuarterState(HISTORY, [CohortSpec(1, "stable", 250)], KEY).cohorts[0]
    tables = cohort_tables(cohort, cohort.funnel, cohort_employment(cohort, cohort.funnel, {}))
    final = dict(zip(cohort.candidate_ids, cohort.funnel.final_day.tolist(), strict=True))
    pd.testing.assert_frame_equal(visible_at(tables, HISTORY.as_of, final)["candidates"],
                                  history)
    # and those in process then are decided and resolved in the quarters that follow
    changed = pd.concat([e1.frames["candidates"], e2.frames["candidates"]])
    went_on = changed[changed["candidate_id"].isin(pending)]
    assert set(went_on["candidate_id"]) == pending - set(
        cohort.candidate_ids[cohort.funnel.final_day > _day_of(dt.date(2025, 7, 1))])
    assert (went_on["status"] != "pending").all()
    assert any("-c0-" in (d.request_id or "") for d in d1)  # scored and decided like any
    late = e1.frames["employees"]
    assert late["employee_id"].str.len().eq(10).any()  # hired after the history's as-of
    # their truth is kept up to date beside the new applicants'
    history_truth = e1.truth[e1.truth["candidate_id"].str.len() == 8]
    assert set(history_truth["candidate_id"]) == pending


def _day_of(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days
