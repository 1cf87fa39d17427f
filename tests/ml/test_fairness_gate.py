"""The fairness gate: a challenger whose impact ratio fails the four-fifths rule (under 0.8
and significant), or sank under it well below the champion's, is refused with the reason
recorded; the first model is held to the rule too. The end-to-end case trains a challenger
on deliberately biased labels (met_kpi := the applicant is a man) on the real feature
store and judges it against a registered champion in a real MLflow store."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from ml.fairness_gate import ratio_drop_p
from ml.fairness_io import read_people
from ml.fairness_tables import AuditPolicy
from ml.promotion import (
    DEFAULT_CHECKS,
    GatePolicy,
    apply_decision,
    check_fairness,
    decide,
    judge,
)
from ml.pyfunc_model import log_pyfunc
from ml.registry import MODEL_NAME, champion_version, register_version
from ml.retrain import PROMOTED, REFUSED, RetrainGatePolicy, decide_from_figures, refusals
from ml.retrain import gate as retrain_gate
from ml.split import time_split
from ml.train import TrainConfig, set_thresholds, train_strategy
from tests.ml.conftest import register_champion
from tests.ml.model_fixture import trained_model

FAIR_CHECKS = (*DEFAULT_CHECKS, check_fairness)


def metrics(auc: float, fairness: dict | None) -> dict:
    out = {"overall": {"roc_auc": auc, "ece": 0.03, "n": 500},
           "by_family": {"sales": {"roc_auc": auc, "n": 250}}}
    if fairness is not None:
        out["fairness"] = fairness
    return out


def figures(ratio: float, flagged: bool, p: float = 0.01) -> dict:
    return {"n": 500, "categories": {
        "sex|selection|female": {"n": 240, "rate": 0.2, "impact_ratio": ratio,
                                 "p_adjusted": p, "flagged": flagged},
        "sex|selection|male": {"n": 250, "rate": 0.3, "impact_ratio": 1.0,
                               "p_adjusted": p, "flagged": False}}}


def test_a_flagged_category_refuses_the_challenger_and_says_which():
    decision = decide(metrics(0.75, figures(0.6, True)), metrics(0.70, figures(0.9, False)),
                      checks=FAIR_CHECKS)
    assert not decision.promote
    failed = [r for r in decision.reasons if r.startswith("FAIL")]
    assert failed == [failed[0]] and "FAIL fairness: sex female (selection rate)" in failed[0]
    assert "0.600 < 0.8" in failed[0]
    assert decision.figures["checks"]["fairness"]["passed"] is False


def test_an_insignificant_low_ratio_passes_unless_it_sank_below_the_champions():
    champion = metrics(0.70, figures(0.78, False, p=0.4))
    assert decide(metrics(0.75, figures(0.75, False, p=0.3)), champion,
                  checks=FAIR_CHECKS).promote
    sunk = decide(metrics(0.75, figures(0.62, False, p=0.3)), champion, checks=FAIR_CHECKS)
    assert not sunk.promote
    assert any("worse than the champion's 0.780 by more than 0.1" in r for r in sunk.reasons)
    # a ratio above four-fifths that fell is no refusal: both meet the rule
    high = metrics(0.70, figures(1.0, False, p=0.4))
    assert decide(metrics(0.75, figures(0.85, False)), high, checks=FAIR_CHECKS).promote
    margin = GatePolicy(fairness_margin=0.2)
    assert decide(metrics(0.75, figures(0.62, False, p=0.3)), champion, margin,
                  checks=FAIR_CHECKS).promote
    # a category too small for its ratio to mean anything unless significant
    small = GatePolicy(fairness_min_n=300)
    assert decide(metrics(0.75, figures(0.62, False, p=0.3)), champion, small,
                  checks=FAIR_CHECKS).promote


def test_a_ratio_sunk_by_noise_on_the_same_people_passes_the_paired_test():
    """A drop past the margin refuses only when the paired test on the same people says the
    challenger's ratio is lower (drop_p under alpha); without the test, the point estimate."""
    champion = metrics(0.70, figures(0.78, False, p=0.4))
    noisy = figures(0.62, False, p=0.3) | {"drop_p": {"sex|selection|female": 0.21}}
    passed = decide(metrics(0.75, noisy), champion, checks=FAIR_CHECKS)
    assert passed.promote
    notes = passed.figures["checks"]["fairness"]
    assert notes["failures"] == []
    real = figures(0.62, False, p=0.3) | {"drop_p": {"sex|selection|female": 0.004}}
    refused = decide(metrics(0.75, real), champion, checks=FAIR_CHECKS)
    assert not refused.promote
    assert any("paired bootstrap p 0.004" in r for r in refused.reasons)


def _scored(n: int, seed: int, female_advance: float) -> pd.DataFrame:
    """`n` people, half women, banded advance at `female_advance` (women) and 0.5 (men)."""
    rng = np.random.default_rng(seed)
    female = np.arange(n) % 2 == 0
    advance = rng.random(n) < np.where(female, female_advance, 0.5)
    return pd.DataFrame({"gender": np.where(female, "female", "male"),
                         "race_ethnicity": "unknown", "age_40_plus": None,
                         "band": np.where(advance, "advance", "review"),
                         "probability": rng.random(n)})


def test_the_paired_bootstrap_sees_a_real_drop_and_not_a_reshuffle():
    policy = AuditPolicy()
    old = _scored(400, 1, 0.5)
    same = ratio_drop_p(old, old.copy(), "sex|selection|female", policy)
    assert same == 1.0  # identical scorings: the ratio is never lower
    worse = old.assign(band=np.where((old["gender"] == "female").to_numpy()
                                     & (np.arange(400) % 4 == 0), "review", old["band"]))
    assert ratio_drop_p(worse, old, "sex|selection|female", policy) < 0.01
    other = _scored(400, 2, 0.5)  # another draw of the same fair model: no systematic drop
    assert ratio_drop_p(other, old, "sex|selection|female", policy) > 0.01


def test_the_first_model_is_held_to_the_rule_and_missing_figures_fail_closed():
    refused = decide(metrics(0.75, figures(0.5, True)), None, checks=FAIR_CHECKS)
    assert not refused.promote and refused.reasons[0] == "no champion yet"
    assert refused.reasons[1].startswith("FAIL fairness")
    assert decide(metrics(0.75, figures(0.95, False)), None, checks=FAIR_CHECKS).promote
    blind = decide(metrics(0.75, None), None, checks=FAIR_CHECKS)
    assert not blind.promote and "protected attributes" in blind.reasons[1]
    assert decide(metrics(0.75, None), None).promote  # the gate without the check: unchanged


# -- a challenger trained on deliberately biased labels --------------------------------------


@pytest.fixture(scope="module")
def store_frames(feature_store):
    frame = feature_store.read("SELECT * FROM marts.fct_training_examples")
    conn = feature_store.connect()
    try:
        people = read_people(conn)
    finally:
        conn.close()
    return frame, people


@pytest.fixture(scope="module")
def biased_model(store_frames):
    """Trained as the fixture model is, on labels that say only who is a man."""
    frame, people = store_frames
    split = time_split(frame)
    sex = frame["candidate_id"].map(people.set_index("candidate_id")["gender"])
    biased = frame.assign(met_kpi=(sex == "male").to_numpy())
    config = TrainConfig(n_search=1, max_trees=40, early_stopping_rounds=10, refit=False,
                         strategies=("per_family",), nthread=2)
    model, _ = train_strategy(biased, split, "per_family", config)
    set_thresholds(model, frame.iloc[split.holdout])
    return model


def _register(client, model) -> str:
    with mlflow.start_run() as run:
        log_pyfunc(model, "model", model_name=MODEL_NAME)
    return str(register_version(client, run.info.run_id, "model").version)


def test_the_biased_challenger_is_refused_first_alone_then_against_a_champion(
        mlflow_target, feature_store, store_frames, biased_model):
    client = mlflow_target.client
    frame, people = store_frames
    holdout = frame.iloc[time_split(frame).holdout]
    # alone (no champion yet): only the fairness rule speaks, and it refuses
    alone = judge(client, biased_model, holdout, people=people,
                  tracking_uri=mlflow_target.tracking_uri)
    assert alone.champion is None and not alone.decision.promote
    assert any(r.startswith("FAIL fairness: sex female") for r in alone.decision.reasons)
    # the fair model passes the same rule and becomes champion
    fair = trained_model(feature_store)
    first = judge(client, fair, holdout, people=people)
    assert first.decision.promote, first.decision.reasons
    champion = register_champion(client, fair, "fair first model")
    version = _register(client, biased_model)
    judged = judge(client, biased_model, holdout, people=people,
                   tracking_uri=mlflow_target.tracking_uri)
    assert judged.champion_version == champion
    assert judged.champion["fairness"]["categories"]  # both scored on the same rows
    record = apply_decision(client, version, judged.decision, "test", "biased labels")
    assert record["event"] == "kept_champion"
    assert str(champion_version(client).version) == champion
    tags = client.get_model_version(MODEL_NAME, version).tags
    reasons = json.loads(tags["promotion.reasons"])
    assert any(r.startswith("FAIL fairness: sex female") for r in reasons), reasons
    assert json.loads(tags["promotion.figures"])["checks"]["fairness"]["passed"] is False


def test_the_retrain_gate_refuses_an_unfair_pick_and_records_why(feature_store, store_frames,
                                                                biased_model):
    """The retrain's gate holds challengers to the same fairness rule: the biased pick is
    refused for cause (the decision recomputes to REFUSED from the recorded figures), a
    fair pick passes it, and each challenger's judgement is in the figures."""
    frame, people = store_frames
    rows = frame.iloc[time_split(frame).holdout]
    windows = {"biased": {"gate_cohort": "holdout"}, "fair": {"gate_cohort": "holdout"}}
    policy = RetrainGatePolicy(min_gate_rows=1)
    unfair = retrain_gate({"biased": biased_model}, None, None, rows, "holdout", windows,
                          policy, people=people)
    assert unfair.winner == "biased"
    judged = unfair.figures["fairness"]["biased"]
    assert not judged["passed"] and judged["min_impact_ratio"] < 0.8
    assert any(f.startswith("sex female") for f in judged["failures"]), judged
    assert refusals(unfair.figures)[0].startswith("challenger 'biased' refused, fairness: ")
    assert decide_from_figures(unfair.figures) == (REFUSED, "biased")

    fair = retrain_gate({"fair": trained_model(feature_store)}, None, None, rows, "holdout",
                        windows, policy, people=people)
    assert fair.figures["fairness"]["fair"]["passed"], fair.figures["fairness"]
    assert refusals(fair.figures) == []
    assert decide_from_figures(fair.figures) == (PROMOTED, "fair")
