"""Training: behavioural model tests on simulated data built by real dbt (DESIGN.md).

One model is trained per module on the demo-size history (20,000 applicants, seed 7) and
shared by every test; each test checks behaviour the issue asks for, not fixed figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.datasets import read_training_set
from ml.features import (
    BannedFeatureError,
    is_interview_signal,
    select_features,
)
from ml.model import HireloopModel
from ml.split import time_split
from ml.train import TrainConfig
from ml.training_pipeline import LOGIT_BASELINE, MODEL, RATING_BASELINE, train_and_evaluate
from tests.simulated_store import build_store

AUC_MARGIN = 0.03   # measured margin over the rating baseline: about 0.10 overall


@pytest.fixture(scope="module")
def training_frame(pg_server) -> pd.DataFrame:
    """fct_training_examples of a demo-size simulated HRIS, built by real dbt."""
    store = build_store(pg_server.endpoint, pg_server.create_database("training"), 20_000, 7)
    conn = store.connect()
    try:
        return read_training_set(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def result(training_frame):
    return train_and_evaluate(training_frame, TrainConfig(n_search=4, seed=0))


def test_model_beats_the_interviewer_rating_baseline(result):
    auc = result.comparison.loc["overall"]
    assert auc[MODEL] >= auc[RATING_BASELINE] + AUC_MARGIN, result.comparison
    assert set(result.comparison.columns) == {MODEL, RATING_BASELINE, LOGIT_BASELINE}
    for fam in result.model.families:
        row = result.metrics[MODEL].loc[fam]
        assert {"roc_auc", "pr_auc", "brier", "log_loss", "ece", "accuracy", "recall"} <= set(
            row.index)
        assert 0.0 <= row["ece"] <= 1.0 and not np.isnan(row["recall"])


def test_strategy_chosen_by_measurement_and_monotone_measured(result):
    info = result.model.version_info
    assert info["strategy"] in ("per_family", "pooled")
    assert set(info["selection"]) == {"per_family", "pooled"}
    best = max(info["selection"].values(), key=lambda s: s["mean_family_auc"])
    assert info["selection"][info["strategy"]]["mean_family_auc"] == best["mean_family_auc"]
    assert info["monotone_on"]["auc"] > 0.5 and info["monotone_off"]["auc"] > 0.5


def _raise_by(col: str) -> float:
    if col.endswith("_share"):
        return 0.34
    return 1.0


def test_a_better_interview_never_lowers_the_score(result, training_frame):
    model = result.model
    rng = np.random.default_rng(3)
    rows = training_frame.iloc[rng.choice(len(training_frame), 600, replace=False)]
    rows = rows.reset_index(drop=True)
    base = model.predict_proba(rows)
    signals = sorted({f for fm in model.families.values() for f in fm.features
                      if is_interview_signal(f)})
    assert any(c.startswith("interviewer_") for c in signals)
    for fm in model.families.values():
        assert all(fm.monotone[f] == 1 for f in fm.features if is_interview_signal(f))
    for col in signals:
        raised = rows.copy()
        values = pd.to_numeric(raised[col], errors="coerce")
        raised[col] = values + _raise_by(col)
        after = model.predict_proba(raised)
        ok = values.isna().to_numpy() | (after >= base - 1e-9)
        assert ok.all(), f"raising {col} lowered {int((~ok).sum())} predictions"


def _rank(result, family: str) -> list[str]:
    return list(result.importance[family].sort_values(ascending=False).index)


def test_planted_drivers_come_out_on_top(result):
    sales = _rank(result, "sales")[:4]
    assert any("communication" in c for c in sales), sales
    assert any("persuasion" in c for c in sales), sales
    rnd = result.importance["rnd"]
    tech = max(rnd.get("interviewer_technical_depth", 0), rnd.get("ai_technical_depth", 0))
    logic = max(rnd.get("interviewer_logic", 0), rnd.get("ai_logic", 0))
    assert tech > logic, rnd.sort_values(ascending=False).head(6)
    # The "production anomaly" key question measures problem_solving, the planted driver,
    # which the dimension scores measure too: the flag must rank among the top five.
    assert "key_kpi_scenario_answered_fully_share" in _rank(result, "manufacturing")[:5], (
        result.importance["manufacturing"].sort_values(ascending=False).head(6))


def test_banned_columns_never_enter(training_frame, result):
    frame = training_frame.copy()
    frame["gender"] = 1.0
    frame["age_band"] = 3.0
    frame["age_40_plus"] = 1.0
    frame["birth_year"] = 1990.0
    frame["race_ethnicity_code"] = 2.0
    chosen = select_features(frame)
    assert not {"gender", "age_band", "age_40_plus", "birth_year",
                "race_ethnicity_code"} & set(chosen)
    with pytest.raises(BannedFeatureError, match="gender"):
        select_features(frame, include=["interviewer_communication", "gender"])
    with pytest.raises(BannedFeatureError):
        TrainConfig(include=["age_band"]) and select_features(frame, include=["age_band"])
    with pytest.raises(BannedFeatureError, match="age_40_plus"):
        select_features(frame, include=["age_40_plus"])
    for fm in result.model.families.values():
        assert not any(b in f for f in fm.features for b in ("gender", "age", "birth", "race"))


def test_time_split_never_trains_on_newer_cohorts(training_frame, result):
    split = time_split(training_frame)
    c = training_frame["cohort_quarter"].astype(str).to_numpy()
    assert max(c[split.fit]) < min(c[split.valid]) <= max(c[split.valid]) < min(
        c[split.holdout])
    assert len(split.holdout) >= 0.15 * (len(split.train) + len(split.holdout))
    assert result.split.holdout_cohorts == split.holdout_cohorts


def test_save_load_round_trip_and_outputs(result, tmp_path):
    model = result.model
    holdout = result.holdout
    model.save(tmp_path / "m")
    again = HireloopModel.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_proba(holdout), holdout["proba"], atol=1e-7)
    assert set(again.band(holdout, holdout["proba"].to_numpy())) <= {"advance", "review", "hold"}
    contrib = again.contributions(holdout.head(20))
    assert len(contrib) == 20 and not contrib.isna().any().any()
    for fm in again.families.values():
        assert fm.thresholds["advance"] >= fm.thresholds["review"]
        assert "overall_rating_mean" in fm.required
    assert "model card" in result.card and set(result.figures) == {
        "roc", "calibration", "feature_importance", "shap_summary", "kpi_attainment_by_band"}


def test_paired_linear_base_is_exact_monotone_and_reads_old_versions():
    """A (human, AI) pair is one term: contributions add up to the margin, a better AI or
    human score never lowers it, a missing AI score falls back to the human one, and a base
    pickled before pairs existed still scores as it did."""
    import pickle

    from ml.linear import LinearBase

    rng = np.random.default_rng(0)
    n = 400
    ability = rng.normal(size=n)
    x = pd.DataFrame({"h": ability + rng.normal(0, .6, n), "a": ability + rng.normal(0, 1, n),
                      "k": rng.normal(size=n)})
    x.loc[rng.random(n) < .5, "a"] = np.nan
    y = (ability + rng.normal(0, 1, n) > 0).astype(int)
    base = LinearBase(["h", "a", "k"], {"h": 1, "a": 1, "k": 0}, pairs={"h": "a"},
                      extra_l2={"k": 50.0}).fit(x, y)
    wh, wa = base.pair_weights_
    assert 0 < wh <= 1 and wa > 0 and set(base.coefficients()) == {"h", "k"}
    m = base.margin(x)
    np.testing.assert_allclose(base.contributions(x).sum(axis=1) + base.intercept_, m)
    for col in ("h", "a"):
        up = x.copy()
        up[col] += 1.0
        assert (base.margin(up) >= m - 1e-12).all()
    no_ai = x.assign(a=np.nan)
    assert np.allclose(base.contributions(no_ai)["a"], 0.0)
    old = LinearBase(["h", "k"], {"h": 1, "k": 0}).fit(x, y)
    del old.__dict__["pairs_"], old.__dict__["pair_weights_"]
    np.testing.assert_allclose(pickle.loads(pickle.dumps(old)).margin(x), old.margin(x))
