"""Features come only from interviews before the hire date; labels only from later reviews."""

from __future__ import annotations

import datetime as dt
import json
from statistics import mean

import pytest

from hris.pseudonym import pseudonym
from tests.dbt.conftest import DBT_PROJECT_DIR
from tests.dbt.hr_fixture import EARLY_REVIEW_EMPLOYEE, LATE_INTERVIEW_CANDIDATE, PLANTED

PIT_TESTS = ("assert_training_features_before_hire_date",
             "assert_training_labels_from_reviews_after_hire")


def test_features_use_only_interviews_before_the_hire_date(dbt_world):
    # Recomputed from the intermediate rows, not from the mart's own columns.
    rows = dbt_world.query(
        "select f.candidate_id, f.hire_date, max(i.interview_date), count(i.*) "
        "from marts.fct_training_examples f "
        "join intermediate.int_interviews_filtered i using (candidate_id) "
        "group by f.candidate_id, f.hire_date")
    assert len(rows) > 10
    for _, hire_date, last_interview, n in rows:
        assert last_interview < hire_date and n > 0


def test_labels_use_only_reviews_from_the_hire_date_on(dbt_world):
    rows = dbt_world.query(
        "select f.hire_date, min(r.period_start), count(*) "
        "from marts.fct_training_examples f "
        "join intermediate.int_performance_reviews_ranked r using (candidate_id) "
        "where r.review_rank <= 4 group by f.candidate_id, f.hire_date")
    assert rows
    for hire_date, first_period, n in rows:
        assert first_period >= hire_date and n <= 4


def test_interview_on_the_hire_date_is_ignored(dbt_world):
    """The fixture's hire C0001 has an all-10 interview on the hire date: staged (not after
    the hire date), but it must not count (features use interviews strictly before)."""
    frames = dbt_world.frames
    cid = LATE_INTERVIEW_CANDIDATE
    hire = frames["employees"].set_index("employee_id").loc[
        frames["candidates"].set_index("candidate_id").loc[cid, "employee_id"], "hire_date"]
    interviews = frames["interviews"]
    used = set(interviews[(interviews.candidate_id == cid) & (interviews.interview_date < hire)]
               .interview_id)
    assert used and (interviews[interviews.candidate_id == cid].interview_date >= hire).any()
    # Repeats of a score's key are quarantined: the first occurrence is the staged one.
    scores = frames["interview_scores"].drop_duplicates(
        ["interview_id", "dimension", "scored_by"], keep="first")
    expected = mean(float(s) for s in scores[
        scores.interview_id.isin(used) & (scores.dimension == "communication")
        & (scores.scored_by == "interviewer")].score)
    got, n_interviews = dbt_world.query(
        "select interviewer_communication, n_interviews from marts.fct_training_examples "
        "where candidate_id = %s", (pseudonym(dbt_world.key, cid),))[0]
    assert got == pytest.approx(expected)
    assert n_interviews == len(used)


def test_review_before_the_hire_date_is_ignored(dbt_world):
    """E0001 has a review starting before the hire date with a huge KPI value: quarantined
    (review_before_hire), so the label comes from the reviews from the hire date on."""
    frames = dbt_world.frames
    employee = frames["employees"].set_index("employee_id").loc[EARLY_REVIEW_EMPLOYEE]
    reviews = frames["performance_reviews"]
    quarantined = {p.key[0] for p in PLANTED if p.table == "performance_reviews"}
    everything = reviews[reviews.employee_id == EARLY_REVIEW_EMPLOYEE]
    assert (everything.period_start < employee.hire_date).any()
    mine = everything[~everything.review_id.isin(quarantined)]
    first_four = mine[mine.period_start >= employee.hire_date].sort_values("period_start")[:4]
    assert len(first_four) == len(mine[:4])
    met = [float(v) >= float(t) for v, t in zip(first_four.kpi_value, first_four.kpi_target,
                                                strict=True)]
    row = dbt_world.query(
        "select kpi_attainment, first_review_period_start from marts.fct_training_examples "
        "where role_id is not null and candidate_id = ("
        "  select candidate_id from staging.stg_hris__candidates where employee_id = %s)",
        (pseudonym(dbt_world.key, EARLY_REVIEW_EMPLOYEE),))
    assert row == [(pytest.approx(mean(met)), dt.date.fromisoformat(employee.hire_date))]


def test_point_in_time_tests_catch_a_leak(dbt_world):
    """Make one example use a later interview and an earlier review: both singular tests fail."""
    (cid, hire, last, first) = dbt_world.query(
        "select candidate_id, hire_date, last_interview_date, first_review_period_start "
        "from marts.fct_training_examples order by candidate_id limit 1")[0]
    tamper = ("update marts.fct_training_examples set last_interview_date = %s, "
              "first_review_period_start = %s where candidate_id = %s")
    conn = dbt_world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(tamper, (hire, hire - dt.timedelta(days=1), cid))
        conn.commit()
        leaked = dbt_world.dbt("test", "--select", *PIT_TESTS)
        statuses = _statuses()
    finally:
        with conn.cursor() as cur:
            cur.execute(tamper, (last, first, cid))
        conn.commit()
        conn.close()
    assert leaked.returncode != 0
    assert statuses == {t: "fail" for t in PIT_TESTS}
    clean = dbt_world.dbt("test", "--select", *PIT_TESTS)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert _statuses() == {t: "pass" for t in PIT_TESTS}


def _statuses() -> dict[str, str]:
    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results["results"]
            if r["unique_id"].startswith("test.")}


def test_early_outcomes_point_in_time_test_catches_a_leak(dbt_world):
    """A mature hire copied into fct_early_outcomes with an interview on its hire date
    breaks two rules of assert_early_outcomes_point_in_time; removed, the test passes."""
    name = "assert_early_outcomes_point_in_time"
    conn = dbt_world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "insert into marts.fct_early_outcomes (candidate_id, role_family, hire_date, "
                "cohort_quarter, n_reviews_so_far, attainment_so_far, last_interview_date) "
                "select candidate_id, role_family, hire_date, cohort_quarter, 1, 0.5, "
                "hire_date from marts.fct_training_examples order by candidate_id limit 1")
        conn.commit()
        leaked = dbt_world.dbt("test", "--select", name)
        statuses = _statuses()
    finally:
        with conn.cursor() as cur:
            cur.execute("delete from marts.fct_early_outcomes e using "
                        "marts.fct_training_examples t where e.candidate_id = t.candidate_id")
        conn.commit()
        conn.close()
    assert leaked.returncode != 0 and statuses == {name: "fail"}
    clean = dbt_world.dbt("test", "--select", name)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert _statuses() == {name: "pass"}
