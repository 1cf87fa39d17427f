"""The fairness gate: a challenger whose impact ratio fails the four-fifths rule (under 0.8
and significant), or sank under it well below the champion's, is refused with the reason
recorded; the first model is held to the rule too. The end-to-end case trains a challenger
on deliberately biased labels (met_kpi := the applicant is a man) on the real feature
store and judges it against a registered champion in a real MLflow store."""

from __future__ import annotations

import json

import mlflow
import pytest

from ml.fairness_io import read_people
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
