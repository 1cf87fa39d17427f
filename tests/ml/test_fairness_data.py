"""The data audit finds the simulator's planted rater bias, calls it that, and sizes it.

The simulated world lowers women's human `communication` scores by a planted number of
points, with no difference in ability or performance; race and age carry nothing. Real
PostgreSQL and dbt (the session's feature store, 8,000 applicants).
"""

from __future__ import annotations

import pandas as pd
import pytest

from ml.fairness_data import RATER_BIAS, data_audit, rater_bias
from ml.fairness_io import read_interview_scores, read_labels, read_people

TOLERANCE = 0.1  # score points; the first-interview estimate's standard error is ~0.065 here


@pytest.fixture(scope="module")
def audit(feature_store):
    conn = feature_store.connect()
    try:
        frames = read_interview_scores(conn), read_people(conn), read_labels(conn)
    finally:
        conn.close()
    return data_audit(*frames)


@pytest.fixture(scope="module")
def planted(feature_store) -> float:
    return feature_store.sim.world.planted()["communication_bias_points"]


def test_the_planted_communication_gap_is_found_as_rater_bias_and_sized(audit, planted):
    row = rater_bias(audit, "sex", "female", "communication")
    assert row["verdict"] == RATER_BIAS
    assert abs(-row["rater_gap_first"] - planted) < TOLERANCE, row
    assert abs(-row["rater_gap"] - planted) < TOLERANCE, row
    # the 95 % interval of the size holds the planted value
    assert abs(-row["rater_gap_first"] - planted) < 1.96 * row["rater_se_first"]
    # what the AI measured of the same interviews shows no gap: it is not ability
    assert abs(row["ai_gap"]) < 0.1 and row["ai_p"] > audit["alpha_each"]
    # hires who later performed alike were still rated apart, in the same direction
    assert row["conditional_gap"] < -0.5


def test_the_rater_bias_is_found_in_every_role_family_that_assesses_communication(audit):
    families = {r["role_family"] for r in audit["findings"]
                if (r["attribute"], r["category"], r["dimension"]) == (
                    "sex", "female", "communication") and r["verdict"] == RATER_BIAS}
    assert families == {"all", "sales", "customer_service", "rnd", "manufacturing"}


def test_no_dimension_but_communication_shows_a_sex_gap(audit):
    sex = [r for r in audit["findings"] if r["attribute"] == "sex"]
    assert sex and {r["dimension"] for r in sex} == {"communication"}
    assert not [r for r in audit["findings"] if r["attribute"] == "age_40_plus"]


def test_interview_scores_without_an_interviewer_column_are_refused(audit):
    with pytest.raises(ValueError, match="interviewer_id"):
        data_audit(pd.DataFrame({"interview_id": [], "candidate_id": [], "dimension": [],
                                 "scored_by": [], "score": [], "interview_date": []}),
                   pd.DataFrame({"candidate_id": []}))
