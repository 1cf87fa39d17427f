"""The rater-bias correction: the flagged human inputs leave the model, nothing else does.

Real PostgreSQL and dbt (the session's feature store, 8,000 applicants, where the simulator
lowers women's human communication scores). Models use a quick search; what is checked is
which inputs the model has and how it ranks, not fixed figures.
"""

from __future__ import annotations

from dataclasses import replace

import mlflow
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ml.datasets import read_training_set
from ml.fairness_data import rater_bias
from ml.fairness_io import read_people
from ml.features import RATING_COLUMNS_PREFIX, is_banned, select_features
from ml.rater_bias_correction import VERSION_KEY, audit_store, correction_from_audit
from ml.rater_offsets import read_rater_offsets
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from ml.training_run import train_and_log

QUICK = TrainConfig(n_search=1, max_trees=80, early_stopping_rounds=15, refit=False,
                    strategies=("per_family",))
CORRECTED = replace(QUICK, rater_bias_correction=True)
HUMAN = ("interviewer_communication", "interviewer_communication_adj")
IMPRESSIONS = ("overall_rating_mean", "overall_rating_hr", "overall_rating_business",
               "overall_rating_director", "recommend_share")


@pytest.fixture(scope="module")
def store(feature_store):
    conn = feature_store.connect()
    try:
        return {"frame": read_training_set(conn), "audit": audit_store(conn),
                "people": read_people(conn), "offsets": read_rater_offsets(conn)}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def models(store):
    return {name: train_and_evaluate(store["frame"], config, make_figures=False,
                                     audit=store["audit"], rater_offsets=store["offsets"])
            for name, config in (("unmitigated", QUICK), ("corrected", CORRECTED))}


def test_the_flagged_human_score_and_the_impressions_built_on_it_are_removed(store):
    features = select_features(store["frame"])
    correction = correction_from_audit(store["audit"], features)
    assert set(correction.removed) == {*HUMAN, *IMPRESSIONS} & set(features)
    assert set(HUMAN) <= set(correction.removed)
    # the AI's score replaces the human one; every other human dimension stays
    kept = correction.keep(features)
    assert "ai_communication" in kept
    assert [f for f in features if f.startswith("interviewer_") and f not in HUMAN] == \
        [f for f in kept if f.startswith("interviewer_")]
    assert not any(is_banned(c) for c in correction.removed)
    assert all("sex=female" in correction.removed[c] for c in HUMAN)
    # the findings behind it: sex on communication only (women, and men as its mirror)
    assert {(f["attribute"], f["dimension"]) for f in correction.findings} == \
        {("sex", "communication")}
    assert ("sex", "female") in {(f["attribute"], f["category"]) for f in correction.findings}


def test_a_finding_significant_only_by_the_audits_narrow_se_removes_nothing(store):
    """The audit's SEs are ~1.4 times too narrow (ml.fairness_data): a rater gap just past
    its Bonferroni line is not enough to drop a score; one that stays past it with the SE
    widened is. (This store's audit holds such a borderline finding, not planted: race
    black on data_awareness; the exact-set test above fails if it is acted on.)"""
    audit = store["audit"]
    features = select_features(store["frame"])
    row = rater_bias(audit, "sex", "female", "communication")
    line = norm.isf(audit["alpha_each"] / 2)

    def at(z: float) -> dict:
        return {**audit, "findings": [{**row, "rater_se": abs(row["rater_gap"]) / z}]}

    assert not correction_from_audit(at(1.2 * line), features).removed
    assert set(correction_from_audit(at(1.5 * line), features).removed) >= set(HUMAN)


def test_without_impressions_only_the_human_score_goes(store):
    features = select_features(store["frame"])
    correction = correction_from_audit(store["audit"], features, impressions=False)
    assert set(correction.removed) == set(HUMAN)


def test_a_flagged_dimension_without_an_ai_score_is_kept_and_no_finding_removes_nothing(
        store):
    no_ai = [f for f in select_features(store["frame"]) if f != "ai_communication"]
    assert not correction_from_audit(store["audit"], no_ai).removed
    assert not correction_from_audit({**store["audit"], "findings": []}, no_ai).removed


def test_the_corrected_model_never_reads_the_removed_inputs(store, models):
    model = models["corrected"].model
    removed = model.version_info[VERSION_KEY]["removed"]
    assert set(HUMAN) <= set(removed)
    for fam in model.families.values():
        assert not set(fam.features) & set(removed)
        assert not any(is_banned(f) for f in fam.features)
        assert not set(fam.required) & set(removed)
        # the AI's score takes the human one's place in the linear base too, on its own
        assert "ai_communication" in fam.linear_base.columns
        assert "ai_communication" not in fam.linear_base.pairs_.values()
    # the same people with the removed inputs changed (as a biased rater would) score the same
    rows = store["frame"].head(200).copy()
    changed = rows.copy()
    for col in removed:
        changed[col] = pd.to_numeric(changed[col], errors="coerce") - 1.0
    np.testing.assert_array_equal(model.predict_proba(rows), model.predict_proba(changed))
    unmitigated = models["unmitigated"].model
    assert not np.array_equal(unmitigated.predict_proba(rows),
                              unmitigated.predict_proba(changed))
    # the card says what was left out and why
    card = models["corrected"].card
    assert all(f"`{c}`" in card for c in removed) and "rater gap" in card
    assert "Rater-bias correction: off" in models["unmitigated"].card


def test_the_corrected_model_scores_women_against_men_as_p_true_does(feature_store, models):
    """Women's mean score (logit) minus men's, over every applicant with an interview: the
    unmitigated model places women lower than their true probability does (it learns the
    raters' bias back); the corrected one is closer to p_true. (A mean gap, not the top-30 %
    impact ratio: on 8,000 applicants that ratio moved toward p_true's in 4 of 5 measured
    worlds, the mean gap in 5 of 5 with room; bench/fairness.py measures the ratios.)"""
    pop = feature_store.read("SELECT * FROM intermediate.int_candidate_features_joined "
                             "WHERE n_interviews > 0")
    truth = feature_store.sim.truth["candidates"].copy()
    truth.index = feature_store.pseudonyms().loc[truth["candidate_id"]].to_numpy()
    people = feature_store.read("SELECT candidate_id, gender FROM marts.dim_candidates")
    gender = pop["candidate_id"].map(people.set_index("candidate_id")["gender"])
    women, men = (gender == "female").to_numpy(), (gender == "male").to_numpy()

    def gap(p: np.ndarray) -> float:
        logit = np.log(p / (1 - p))
        return float(logit[women].mean() - logit[men].mean())

    p_true = gap(truth.loc[pop["candidate_id"], "p_true"].to_numpy())
    before = gap(models["unmitigated"].model.predict_proba(pop))
    after = gap(models["corrected"].model.predict_proba(pop))
    assert before < p_true
    assert abs(after - p_true) < abs(before - p_true)


def test_the_flag_without_an_audit_trains_unmitigated_and_says_so(store):
    result = train_and_evaluate(store["frame"], CORRECTED, make_figures=False,
                                rater_offsets=store["offsets"])
    assert result.model.version_info[VERSION_KEY] == {"audited": False, "removed": {},
                                                       "findings": []}
    assert "interviewer_communication" in result.report["features"]
    assert "no data audit was given" in result.card


def test_the_logged_run_names_the_removed_inputs(mlflow_target, store):
    trained = train_and_log(store["frame"], CORRECTED, rater_offsets=store["offsets"],
                            make_figures=False, audit=store["audit"])
    run = mlflow.get_run(trained.logged.run_id)
    logged = run.data.params["rater_bias_correction.removed"].split(",")
    assert set(HUMAN) <= set(logged)
    assert run.data.params["config.rater_bias_correction"] == "True"
    record = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/{VERSION_KEY}.json")
    assert set(record["removed"]) == set(logged)
    assert all(c.startswith(("interviewer_", RATING_COLUMNS_PREFIX, "recommend"))
               for c in logged)
