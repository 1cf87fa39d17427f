"""Rater offsets: recomputed independently, point in time, and never a feature.

The recomputation reads only the staged tables and re-derives, in pandas, what
int_interviews_centred / int_interviews_rater_adjusted and the adjusted candidate scores must
hold: residuals against the (round, role family, dimension) mean of strictly earlier days,
an interviewer's shrunk mean residual over strictly earlier days.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.dbt.conftest import DBT_PROJECT_DIR
from tests.dbt.hr_fixture import AS_OF

RATER_TEST = "assert_rater_offsets_before_interview"
K = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
    "rater_prior_interviews"]


def _frame(world, sql: str) -> pd.DataFrame:
    conn = world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            cols = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def expected_offsets(dbt_world) -> pd.DataFrame:
    """Per interview: the rater offset recomputed from staging with plain pandas loops."""
    iv = _frame(dbt_world, """
        select i.interview_id, i.candidate_id, i.interviewer_id, i.interview_date, i.round,
               r.role_family
        from staging.stg_hris__interviews i
        join staging.stg_hris__candidates c using (candidate_id)
        left join staging.stg_hris__job_roles r on r.role_id = c.applied_role_id
    """)
    iv = iv[iv.interview_date <= AS_OF]
    sc = _frame(dbt_world, "select interview_id, dimension, score::float8 as score "
                           "from staging.stg_hris__interview_scores "
                           "where scored_by = 'interviewer'")
    s = sc.merge(iv, on="interview_id")
    residuals = []
    for row in s.itertuples():
        earlier = s[(s["round"] == row.round) & (s.role_family == row.role_family)
                    & (s.dimension == row.dimension) & (s.interview_date < row.interview_date)]
        residuals.append(row.score - earlier.score.mean() if len(earlier) else np.nan)
    s["residual"] = residuals
    per_iv = s.groupby("interview_id")["residual"].mean()
    iv["mean_residual"] = iv.interview_id.map(per_iv)
    offsets, counts = [], []
    for row in iv.itertuples():
        earlier = iv[(iv.interviewer_id == row.interviewer_id)
                     & (iv.interview_date < row.interview_date)].mean_residual.dropna()
        offsets.append(earlier.sum() / (len(earlier) + K) if row.interviewer_id else 0.0)
        counts.append(len(earlier) if row.interviewer_id else 0)
    iv["rater_offset"], iv["rater_offset_n"] = offsets, counts
    return iv.set_index("interview_id")


def test_offsets_match_an_independent_recomputation(dbt_world, expected_offsets):
    got = _frame(dbt_world, "select interview_id, rater_offset, rater_offset_n, "
                            "offset_max_source_date, interview_date "
                            "from intermediate.int_interviews_rater_adjusted"
                 ).set_index("interview_id")
    exp = expected_offsets.loc[got.index]
    assert len(got) > 50 and (got.rater_offset_n > 0).sum() > 20
    np.testing.assert_allclose(got.rater_offset.astype(float), exp.rater_offset, atol=1e-9)
    assert (got.rater_offset_n == exp.rater_offset_n).all()
    with_source = got.offset_max_source_date.notna()
    assert (got.offset_max_source_date[with_source] < got.interview_date[with_source]).all()


def test_adjusted_scores_are_scores_minus_their_rater_offsets(dbt_world, expected_offsets):
    """interviewer_<dim>_adj = mean over the point-in-time interviews of score - offset."""
    used = _frame(dbt_world, "select interview_id, candidate_id "
                             "from intermediate.int_interviews_filtered")
    sc = _frame(dbt_world, "select interview_id, score::float8 as score "
                           "from staging.stg_hris__interview_scores "
                           "where scored_by = 'interviewer' and dimension = 'communication'")
    s = sc.merge(used, on="interview_id")
    s["adj"] = s.score - s.interview_id.map(expected_offsets.rater_offset)
    expected = s.groupby("candidate_id").adj.mean()
    got = _frame(dbt_world, "select candidate_id, interviewer_communication_adj::float8 as adj, "
                            "interviewer_communication::float8 as raw "
                            "from marts.fct_training_examples").set_index("candidate_id")
    assert len(got) > 10
    np.testing.assert_allclose(got.adj, expected.loc[got.index], atol=1e-9)
    assert not np.allclose(got.adj, got.raw)


def test_rater_ids_reach_only_the_scoring_mart_never_a_feature(dbt_world):
    rows = dbt_world.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and (column_name like '%%interviewer_id%%' "
        "or column_name = 'rater_ids')")
    assert set(rows) == {("fct_candidates_to_score", "rater_ids"),
                         ("dim_interviewers", "interviewer_id"),
                         ("fct_rater_offset_steps", "interviewer_id")}
    ids, n = dbt_world.query(
        "select rater_ids, n_interviews from marts.fct_candidates_to_score "
        "where rater_ids is not null limit 1")[0]
    assert len(ids.split(",")) == n and all(len(p) == 32 for p in ids.split(","))


def test_offset_point_in_time_test_catches_a_leak(dbt_world):
    """Stamp one offset as fed by its own interview's day: the singular test must fail."""
    (iid, source) = dbt_world.query(
        "select interview_id, offset_max_source_date "
        "from intermediate.int_interviews_rater_adjusted where rater_offset_n > 0 "
        "order by interview_id limit 1")[0]
    tamper = ("update intermediate.int_interviews_rater_adjusted "
              "set offset_max_source_date = {} where interview_id = %s")
    conn = dbt_world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(tamper.format("interview_date"), (iid,))
        conn.commit()
        leaked = dbt_world.dbt("test", "--select", RATER_TEST)
        leaked_status = _status()
    finally:
        with conn.cursor() as cur:
            cur.execute(tamper.format("%s"), (source, iid))
        conn.commit()
        conn.close()
    assert isinstance(source, dt.date)
    assert leaked.returncode != 0 and leaked_status == "fail"
    clean = dbt_world.dbt("test", "--select", RATER_TEST)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert _status() == "pass"


def _status() -> str:
    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())
    return next(r["status"] for r in results["results"]
                if r["unique_id"].split(".")[-1] == RATER_TEST)
