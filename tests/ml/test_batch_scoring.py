"""Batch scoring uses the endpoint's own checks: a bad row is refused with its reason, the
rest is scored exactly as the served pyfunc would score it."""

from __future__ import annotations

import numpy as np
import pytest

from ml.batch_scoring import LOG_COLUMNS, request_frame, score_candidates
from ml.datasets import read_candidates_to_score
from ml.model_checks import beats_rating_baseline, carries_signature, finite_predictions
from ml.pyfunc_model import contract_of, signature
from ml.scoring_input import input_hashes, validate
from tests.ml.model_fixture import trained_model


@pytest.fixture(scope="module")
def model(feature_store):
    return trained_model(feature_store)


@pytest.fixture(scope="module")
def candidates(feature_store):
    conn = feature_store.connect()
    try:
        return read_candidates_to_score(conn)
    finally:
        conn.close()


def test_numeric_columns_arrive_as_floats(candidates):
    assert len(candidates) > 20
    assert candidates["role_family"].map(type).eq(str).all()
    numeric = candidates.select_dtypes("number").columns
    assert len(numeric) > 10
    assert not any(candidates[c].map(type).astype(str).str.contains("Decimal").any()
                   for c in candidates.columns)


def test_bad_rows_are_counted_with_reasons_and_the_rest_scored(model, candidates):
    frame = candidates.head(60).reset_index(drop=True).copy()
    family = frame.loc[3, "role_family"]
    field = next(c for c in model.families[family].required
                 if c in frame.columns and c != "role_family" and not c.endswith("_adj"))
    frame.loc[3, field] = None
    frame.loc[7, "role_family"] = "astronaut"
    result = score_candidates(model, frame, "7", chunk_rows=25)
    assert len(result.scores) == 58 and len(result.rejected) == 2
    rejected = result.rejected.set_index("candidate_pseudonym")
    assert rejected.loc[frame.loc[3, "candidate_id"], "field"] == field
    reason = rejected.loc[frame.loc[7, "candidate_id"], "reason"]
    assert "not a known role family" in reason and "astronaut" not in reason  # no echo
    assert not rejected["reason"].str.startswith("row ").any()
    assert list(result.scores.columns[:len(LOG_COLUMNS)]) == list(LOG_COLUMNS)
    assert result.scores["request_id"].isna().all()
    assert (result.scores["model_version"] == "7").all()

    good = frame.drop(index=[3, 7])
    contract = contract_of(model).feature_rows()  # the feature store's adjusted scores
    clean = validate(request_frame(good, contract), contract, 100)
    np.testing.assert_allclose(result.scores["probability"], model.predict_proba(clean))
    assert result.scores["input_hash"].tolist() == input_hashes(clean, contract)
    assert result.example is not None and result.example["role_family"] in model.families


def test_model_checks_name_what_fails(model, candidates, feature_store):
    import pandas as pd

    comparison = pd.DataFrame({"model": [0.70], "baseline_rating": [0.72]}, index=["overall"])
    assert not beats_rating_baseline(comparison).passed
    assert beats_rating_baseline(comparison.assign(model=0.75)).passed
    holdout = feature_store.read("SELECT * FROM marts.fct_training_examples LIMIT 50")
    assert finite_predictions(model, holdout).passed
    assert carries_signature(signature(contract_of(model))).passed
    assert not carries_signature(None).passed
