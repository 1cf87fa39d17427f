"""The data-window choice on real simulated worlds (PostgreSQL + dbt), without Dagster.

A champion trained before the change could be seen (cohorts up to 2023-Q3), then one
challenger per window, with partial labels (the loop's default) and without (waiting for
mature labels), judged on the newest mature cohort (2024-Q2, held out of every
challenger) with the paired test, and checked against sim_truth's counterfactual outcomes
of every post-change applicant (thousands: the window's true worth, which the company
cannot see).
"""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ml.datasets import read_early_outcomes, read_training_set
from ml.features import select_features
from ml.retrain import KEPT, PROMOTED, RetrainGatePolicy, decide_from_figures, gate
from ml.split import COHORT
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from ml.windows import WindowPolicy, gate_cohort, quarter_index, window_frame
from tests.simulated_store import post_change_applicants

QUICK = TrainConfig(n_search=2, max_trees=200, early_stopping_rounds=20,
                    strategies=("per_family",))
CHAMPION_THROUGH = "2023-Q3"


def champion_frame(mature: pd.DataFrame) -> pd.DataFrame:
    """The training set as an export before the change showed had it."""
    q = quarter_index(mature[COHORT])
    return mature.loc[q <= quarter_index(pd.Series([CHAMPION_THROUGH]))[0]]


def world(store, partial: bool) -> dict:
    conn = store.connect()
    try:
        mature = read_training_set(conn)
        early = read_early_outcomes(conn, list(mature.columns))
    finally:
        conn.close()
    g = gate_cohort(mature)
    gate_rows = mature.loc[mature[COHORT] == g].reset_index(drop=True)
    champion = train_and_evaluate(champion_frame(mature), QUICK, make_figures=False).model
    policy = WindowPolicy(partial_labels=partial)
    models, windows = {}, {}
    for w in policy.windows:
        wf = window_frame(mature, w, policy, g, early)
        models[w] = train_and_evaluate(wf.frame, QUICK, make_figures=False,
                                       split=wf.split).model
        windows[w] = wf.info
    verdict = gate(models, champion, "1", gate_rows, g, windows, RetrainGatePolicy())
    post = post_change_applicants(store)
    truth = {w: roc_auc_score(post["cf_met"], m.predict_proba(post))
             for w, m in {**models, "champion": champion}.items()}
    return {"verdict": verdict, "truth": truth, "gate": g, "n_post": len(post)}


@pytest.fixture(scope="module")
def drifted(drift_store):
    return {partial: world(drift_store, partial) for partial in (True, False)}


def test_after_concept_drift_a_recency_window_with_partial_labels_wins(drifted):
    found = drifted[True]
    verdict = found["verdict"]
    assert found["gate"] == "2024-Q2"            # the first post-change cohort, held out
    assert verdict.decision == PROMOTED and verdict.winner in ("recent", "recency")
    winner = verdict.figures["challengers"][verdict.winner]["overall"]
    assert winner["low"] > 0 and winner["n"] >= 200
    # the window bought something over all data on the same rows
    assert verdict.figures["vs_all"][verdict.winner]["diff"] > 0
    # and it is real: on every post-change applicant's counterfactual outcome
    truth = found["truth"]
    assert found["n_post"] > 3000
    assert truth[verdict.winner] > truth["champion"] + 0.02
    assert truth[verdict.winner] > truth["all"]
    assert decide_from_figures(verdict.figures) == (PROMOTED, verdict.winner)


def test_waiting_for_mature_labels_has_nothing_to_learn_the_new_world_from(drifted):
    # Without partial labels the only mature post-change cohort is the gate's own: no
    # window can learn the new drivers, none beats the champion, and the truth agrees.
    waited = drifted[False]
    assert waited["verdict"].decision == KEPT
    partial = drifted[True]["truth"]
    best_waiting = max(v for k, v in waited["truth"].items() if k != "champion")
    assert best_waiting < waited["truth"]["champion"] + 0.01
    assert max(v for k, v in partial.items() if k != "champion") > best_waiting + 0.02


def test_in_a_stable_world_no_window_beats_all_data_and_the_champion_stays(stable_store):
    found = world(stable_store, partial=True)
    verdict = found["verdict"]
    assert verdict.decision == KEPT and verdict.winner is None
    assert decide_from_figures(verdict.figures) == (KEPT, None)
    for name, versus_all in verdict.figures["vs_all"].items():
        assert versus_all["low"] <= 0, f"{name} beat all data by more than noise"
    # nothing passed: every challenger's interval against the champion reaches zero
    assert all(c["overall"]["low"] <= 0 for c in verdict.figures["challengers"].values())


def test_early_outcomes_are_the_immature_hires_with_their_reviews_so_far(drift_store):
    conn = drift_store.connect()
    try:
        mature = read_training_set(conn)
        early = read_early_outcomes(conn, list(mature.columns))
    finally:
        conn.close()
    assert len(early) > 300 and not set(early["candidate_id"]) & set(mature["candidate_id"])
    assert set(early["n_reviews_so_far"]) <= {0, 1, 2, 3}
    assert (early["attainment_so_far"].isna() == (early["n_reviews_so_far"] == 0)).all()
    assert early["attainment_so_far"].dropna().between(0, 1).all()
    # the same feature columns as the training set, so a partial label trains like a label
    assert set(select_features(mature)) <= set(early.columns)
    # they are the newest hires: every cohort at or after the gate cohort's
    assert quarter_index(early[COHORT]).min() >= quarter_index(pd.Series(["2024-Q2"]))[0]
