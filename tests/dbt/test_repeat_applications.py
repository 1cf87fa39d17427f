"""Repeat applications build: each application is its own row, the label stays on the one
that led to the hire, a later application is scored (pending) or left unlabelled (an
internal move), a rehire is a second hire, and no review feeds two labels.

The hr fixture's re-applications (hr_fixture._reapply) are valid rows: before this was
modelled, a second hired application of one employee failed the build on
unique_int_performance_reviews_ranked_review_id, and the interviews of any application
made after the hire date were quarantined as interview_after_hire. The simulator's defect
injection follows the same rule (its manifest must equal the quarantine).
"""

from __future__ import annotations

import datetime as dt
from statistics import mean

import pandas as pd
import pytest

from hris.pseudonym import pseudonym
from hris.simulator import simulate
from hris.simulator.defects import MAX_RATE, plant_defects
from tests.dbt.hr_fixture import (
    AS_OF,
    EARLIER_APPLICATION,
    INTERNAL_MOVE,
    PENDING_REAPPLICATION,
    PLANTED,
    REAPPLICATIONS,
    REAPPLIED_HIRES,
    REHIRE,
    REHIRE_EMPLOYEE,
)

LABEL_TEST = "assert_labels_on_the_application_that_led_to_the_hire"
NOT_THE_HIRE = (INTERNAL_MOVE, PENDING_REAPPLICATION, EARLIER_APPLICATION)


def _ids(world, *raw_ids: str) -> list[str]:
    return [pseudonym(world.key, i) for i in raw_ids]


def _candidates_in(world, table: str, raw_ids) -> set[str]:
    """The raw ids among `raw_ids` whose pseudonym is a candidate_id of `table`."""
    by_pseudonym = {pseudonym(world.key, i): i for i in raw_ids}
    rows = world.query(f"select candidate_id from {table} where candidate_id = any(%s)",
                       (list(by_pseudonym),))
    return {by_pseudonym[c] for (c,) in rows}


def test_an_export_with_repeat_applications_builds_with_every_test_passing(dbt_world):
    build = dbt_world.build
    assert build.returncode == 0, build.stdout[-4000:]
    assert "ERROR=0" in build.stdout and "WARN=0" in build.stdout
    for test in (LABEL_TEST, "unique_int_performance_reviews_ranked_review_id",
                 "unique_int_hires_joined_employee_id",
                 "assert_training_features_before_hire_date",
                 "assert_training_labels_from_reviews_after_hire", "assert_raw_rows_conserved"):
        assert f"PASS {test} " in build.stdout, test


def test_repeat_applications_are_staged_not_quarantined(dbt_world):
    """Every re-application, its interviews, scores and answers are clean rows."""
    frames = dbt_world.frames
    assert not [p for p in PLANTED if p.key[0] in REAPPLICATIONS]
    assert _candidates_in(dbt_world, "staging.stg_hris__candidates", REAPPLICATIONS) == set(
        REAPPLICATIONS)
    interviews = frames["interviews"]
    mine = list(interviews[interviews.candidate_id.isin(list(REAPPLICATIONS))].interview_id)
    assert len(mine) == 7
    for table in ("interviews", "interview_scores", "interview_answers"):
        (staged,) = dbt_world.query(
            f"select count(*) from staging.stg_hris__{table} where interview_id = any(%s)",
            (_ids(dbt_world, *mine),))[0]
        (quarantined,) = dbt_world.query(
            f"select count(*) from quarantine.quarantine_{table} where interview_id = any(%s)",
            (_ids(dbt_world, *mine),))[0]
        raw = frames[table]
        assert staged == raw.interview_id.isin(mine).sum() and quarantined == 0, table


def test_the_label_sits_on_the_application_that_led_to_the_hire(dbt_world):
    rows = dbt_world.query(
        "select employee_id, candidate_id from intermediate.int_hires_labeled "
        "where employee_id = any(%s)",
        (_ids(dbt_world, *REAPPLIED_HIRES.values(), REHIRE_EMPLOYEE, "E0066"),))
    expected = {**{e: c for c, e in REAPPLIED_HIRES.items()},
                REHIRE_EMPLOYEE: REHIRE, "E0066": "C0066"}
    assert dict(rows) == {pseudonym(dbt_world.key, e): pseudonym(dbt_world.key, c)
                          for e, c in expected.items()}
    # The hire applications train (mature, interviewed before the hire); the others do not.
    training = _candidates_in(dbt_world, "marts.fct_training_examples",
                              [*REAPPLIED_HIRES, *NOT_THE_HIRE, REHIRE, "C0066"])
    assert training == {*REAPPLIED_HIRES, REHIRE, "C0066"}
    # dim_candidates: one row per application; the hire date only on the hire application,
    # and employee_link says which application of the employee each one is.
    links = {**{c: "hire" for c in (*REAPPLIED_HIRES, REHIRE, "C0066")},
             INTERNAL_MOVE: "after_hire", PENDING_REAPPLICATION: "after_hire",
             EARLIER_APPLICATION: "before_hire", "C0003": None}
    assert dbt_world.frames["candidates"].set_index("candidate_id").employee_id["C0003"] is None
    dim = {c: (d, link) for c, d, link in dbt_world.query(
        "select candidate_id, hire_date, employee_link from marts.dim_candidates "
        "where candidate_id = any(%s)", (_ids(dbt_world, *links),))}
    hires = dbt_world.frames["employees"].set_index("employee_id").hire_date
    for cid, link in links.items():
        hire_date, got = dim[pseudonym(dbt_world.key, cid)]
        assert got == link, cid
        eid = REAPPLIED_HIRES.get(cid)
        assert hire_date == (dt.date.fromisoformat(hires[eid]) if eid else hire_date), cid
        if link != "hire":
            assert hire_date is None, cid


def _expected_attainment(frames, employee_id: str) -> float:
    """The label recomputed from the export: the first four clean reviews from the hire
    date on, submitted by the as-of date (these roles' KPIs are higher-is-better)."""
    reviews = frames["performance_reviews"]
    hire = frames["employees"].set_index("employee_id").loc[employee_id, "hire_date"]
    quarantined = {p.key[0] for p in PLANTED if p.table == "performance_reviews"}
    mine = reviews[(reviews.employee_id == employee_id) & ~reviews.review_id.isin(quarantined)
                   & (reviews.period_start >= hire) & (reviews.submitted_at <= AS_OF.isoformat())]
    first_four = mine.sort_values(["period_start", "review_id"])[:4]
    assert len(first_four) == 4, employee_id
    return mean(float(v) >= float(t) for v, t in zip(first_four.kpi_value, first_four.kpi_target,
                                                      strict=True))


@pytest.mark.parametrize("candidate_id", [*REAPPLIED_HIRES, REHIRE])
def test_each_hire_is_labelled_from_its_own_reviews(dbt_world, candidate_id):
    employee = REAPPLIED_HIRES.get(candidate_id, REHIRE_EMPLOYEE)
    (attainment, n_reviews), = dbt_world.query(
        "select kpi_attainment, n_label_reviews from marts.fct_training_examples "
        "where candidate_id = %s", (pseudonym(dbt_world.key, candidate_id),))
    assert n_reviews == 4
    assert attainment == pytest.approx(_expected_attainment(dbt_world.frames, employee))


def test_no_review_is_counted_twice(dbt_world):
    """Each staged review of a hire feeds one candidate: its employee's hire application."""
    rows = dbt_world.query(
        "select employee_id, count(*), count(distinct review_id), "
        "count(distinct candidate_id), min(candidate_id) "
        "from intermediate.int_performance_reviews_ranked group by employee_id")
    assert rows
    for _, n, distinct_reviews, n_candidates, _ in rows:
        assert n == distinct_reviews and n_candidates == 1
    by_employee = {e: c for e, _, _, _, c in rows}
    for cid, eid in REAPPLIED_HIRES.items():
        assert by_employee[pseudonym(dbt_world.key, eid)] == pseudonym(dbt_world.key, cid)
        (staged,) = dbt_world.query(
            "select count(*) from staging.stg_hris__performance_reviews where employee_id = %s "
            "and submitted_at <= %s", (pseudonym(dbt_world.key, eid), AS_OF))[0]
        (used,) = dbt_world.query(
            "select count(*) from intermediate.int_performance_reviews_ranked "
            "where employee_id = %s", (pseudonym(dbt_world.key, eid),))[0]
        assert used == staged > 0, eid


def test_a_pending_reapplication_is_scored_on_its_own_interviews_not_labelled(dbt_world):
    frames = dbt_world.frames
    cid = PENDING_REAPPLICATION
    (n_interviews, communication, last), = dbt_world.query(
        "select n_interviews, interviewer_communication, last_interview_date "
        "from marts.fct_candidates_to_score where candidate_id = %s",
        (pseudonym(dbt_world.key, cid),))
    interviews = frames["interviews"]
    own = interviews[interviews.candidate_id == cid]
    scores = frames["interview_scores"]
    expected = mean(float(s) for s in scores[
        scores.interview_id.isin(list(own.interview_id)) & (scores.dimension == "communication")
        & (scores.scored_by == "interviewer")].score)
    assert n_interviews == len(own) == 2
    assert communication == pytest.approx(expected)
    assert last == dt.date.fromisoformat(own.interview_date.max())
    for table in ("intermediate.int_hires_labeled", "marts.fct_training_examples"):
        assert not _candidates_in(dbt_world, table, [cid]), table


def test_an_internal_move_is_neither_labelled_nor_scored(dbt_world):
    """A hired application after the employee's hire date has no hire date of its own in
    the contract: not a training example (the label is the first hire's), not pending."""
    for table in ("intermediate.int_hires_labeled", "marts.fct_training_examples",
                  "marts.fct_candidates_to_score"):
        assert not _candidates_in(dbt_world, table, [INTERNAL_MOVE, EARLIER_APPLICATION]), table
    (status, n_interviews), = dbt_world.query(
        "select status, n_interviews from intermediate.int_candidate_features_joined "
        "where candidate_id = %s", (pseudonym(dbt_world.key, INTERNAL_MOVE),))
    assert (status, n_interviews) == ("hired", 2)


def test_the_label_test_catches_a_label_moved_to_another_application(dbt_world):
    """Give C0004's label to its internal move: the singular test fails; restored, passes."""
    tamper = ("update intermediate.int_hires_labeled set candidate_id = %s "
              "where candidate_id = %s")
    hire, move = _ids(dbt_world, "C0004", INTERNAL_MOVE)
    conn = dbt_world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(tamper, (move, hire))
        conn.commit()
        moved = dbt_world.dbt("test", "--select", LABEL_TEST)
    finally:
        with conn.cursor() as cur:
            cur.execute(tamper, (hire, move))
        conn.commit()
        conn.close()
    assert moved.returncode != 0 and f"FAIL 1 {LABEL_TEST}" in moved.stdout, moved.stdout[-2000:]
    clean = dbt_world.dbt("test", "--select", LABEL_TEST)
    assert clean.returncode == 0, clean.stdout[-2000:]


def _with_reapplications(raw: dict, n: int) -> tuple[dict, set[str]]:
    """`raw` plus `n` internal moves: a hire applies again (hired) after the hire date and
    is interviewed twice after it. Returns the export and those interviews' ids."""
    cands, emps, ivs = raw["candidates"], raw["employees"], raw["interviews"]
    hires = cands[cands.status == "hired"].merge(
        emps[["employee_id", "hire_date"]], on="employee_id")
    hires = hires[hires.hire_date < "2024-06-01"].head(n)
    assert len(hires) == n
    moves = hires.drop(columns="hire_date").assign(
        candidate_id=hires.candidate_id + "-MOVE",
        application_date=[(dt.date.fromisoformat(d) + dt.timedelta(days=30)).isoformat()
                          for d in hires.hire_date])
    template = ivs.iloc[0]
    new = [{**template, "interview_id": f"{cid}-I{k}", "candidate_id": cid,
            "interview_date": (dt.date.fromisoformat(app) + dt.timedelta(days=10 * k)).isoformat()}
           for cid, app in zip(moves.candidate_id, moves.application_date, strict=True)
           for k in (1, 2)]
    out = {**raw, "candidates": pd.concat([cands, moves], ignore_index=True),
           "interviews": pd.concat([ivs, pd.DataFrame(new)], ignore_index=True)}
    return out, {r["interview_id"] for r in new}


def test_simulated_defects_never_plant_interview_after_hire_on_a_reapplication():
    """The simulator's defect injection knows the rule too: an interview of an application
    made after the hire date is no interview_after_hire, so it is never planted as one (the
    manifest must equal the quarantine)."""
    sim = simulate(n_candidates=400, seed=5)
    raw, moved = _with_reapplications(sim.raw, 40)
    _, manifest = plant_defects(raw, MAX_RATE, seed=1, as_of=sim.as_of)
    planted = manifest[(manifest.table == "interviews")
                       & (manifest.reason == "interview_after_hire")]
    assert len(planted) > 0
    assert not set(planted.interview_id) & moved
