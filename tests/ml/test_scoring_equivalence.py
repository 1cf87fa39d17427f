"""The fast scoring path (arrays, one pass per family) gives what the straightforward one gave.

Reference: tests/ml/reference_scoring.py (pandas design matrices, the sklearn wrapper's
predict on DataFrames, SHAP from a DataFrame DMatrix, reasons grouped by pandas). Compared
on the feature store's own rows (nullable numerics as objects, nulls where a family's
interviews skip a dimension), on perturbed copies with extra nulls, row by row and in mixed
batches, for a per-family and a pooled (one-hot) model, and through the served pyfunc.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.pyfunc_model import reasons
from ml.rater_offsets import RaterOffsets, adjusted_source
from ml.scoring_input import (
    InputContract,
    InputError,
    field_spec,
    input_hashes,
    validate,
    validate_rows,
)
from ml.split import time_split
from ml.train import TrainConfig, set_thresholds, train_strategy
from tests.ml import reference_scoring as ref
from tests.ml.model_fixture import trained_model
from tests.ml.test_pyfunc import make_pyfunc, scored, valid_rows

TOL = 1e-9


@pytest.fixture(scope="module")
def frame(feature_store) -> pd.DataFrame:
    return feature_store.read("SELECT * FROM marts.fct_training_examples")


@pytest.fixture(scope="module")
def pooled(frame):
    split = time_split(frame)
    config = TrainConfig(n_search=1, max_trees=40, early_stopping_rounds=10, refit=False,
                         strategies=("pooled",), nthread=2)
    model, _ = train_strategy(frame, split, "pooled", config)
    set_thresholds(model, frame.iloc[split.holdout])
    return model


@pytest.fixture(scope="module", params=["per_family", "pooled"])
def model(request, feature_store, pooled):
    return trained_model(feature_store) if request.param == "per_family" else pooled


def _perturbed(frame: pd.DataFrame, model, seed: int) -> pd.DataFrame:
    """The rows again, numbers jittered and a fifth of the feature cells nulled."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    cols = sorted({c for fm in model.families.values() for c in fm.features
                   if not c.startswith("role_family=")})
    for c in cols:
        x = pd.to_numeric(out[c], errors="coerce").astype(float).to_numpy()
        x = x * rng.uniform(0.8, 1.2, len(x))
        x[rng.random(len(x)) < 0.2] = np.nan
        out[c] = x
    return out


def _assert_same(model, rows: pd.DataFrame) -> None:
    p_ref = ref.predict_proba(model, rows)
    scored = model.score(rows)
    np.testing.assert_allclose(scored.proba, p_ref, rtol=0, atol=TOL)
    np.testing.assert_allclose(model.predict_proba(rows), p_ref, rtol=0, atol=TOL)
    assert list(scored.band) == list(ref.band(model, rows, p_ref))
    assert list(model.band(rows, scored.proba)) == list(scored.band)
    c_ref = ref.contributions(model, rows)
    c_new = model.contributions(rows)
    assert list(c_new.columns) == list(c_ref.columns)
    assert c_new.index.equals(c_ref.index)
    np.testing.assert_allclose(c_new.to_numpy(float), c_ref.to_numpy(float), rtol=0, atol=TOL)
    assert reasons(c_new) == ref.reasons(c_ref)


def test_scores_match_the_reference_on_many_rows(model, frame):
    rows = frame[frame["role_family"].isin(list(model.families))]
    assert len(rows) > 500 and rows["role_family"].nunique() == len(model.families)
    _assert_same(model, rows)
    _assert_same(model, _perturbed(rows, model, seed=1))


def test_scores_match_the_reference_row_by_row_and_in_small_batches(model, frame):
    rows = _perturbed(frame[frame["role_family"].isin(list(model.families))], model, seed=2)
    rng = np.random.default_rng(3)
    for i in rng.choice(len(rows), 25, replace=False):
        _assert_same(model, rows.iloc[[i]])
    for size in (2, 3, 7, 40):
        _assert_same(model, rows.iloc[rng.choice(len(rows), size, replace=False)])


def test_the_served_pyfunc_matches_the_reference(feature_store, tmp_path):
    model = trained_model(feature_store)
    saved = tmp_path / "model"
    model.save(saved)
    pyfunc = make_pyfunc(saved)
    rows = valid_rows(model, 240, seed=5)
    rng = np.random.default_rng(6)
    optional = sorted({c for f in model.families.values() for c in f.features}
                      - {c for f in model.families.values() for c in f.required})
    for c in optional:  # optional inputs: sometimes null
        rows.loc[rng.random(len(rows)) < 0.3, c] = np.nan
    rows["education"] = rng.choice(["bachelor", "master", None], len(rows))
    rows.loc[rng.random(len(rows)) < 0.2, "request_id"] = None

    clean = validate(rows, pyfunc.contract, 1000)
    p_ref = ref.predict_proba(model, clean)
    b_ref = ref.band(model, clean, p_ref)
    r_ref = ref.reasons(ref.contributions(model, clean))
    out = scored(lambda r: pyfunc.predict(None, r), rows)
    np.testing.assert_allclose(out["probability"], p_ref, rtol=0, atol=TOL)
    assert list(out["band"]) == list(b_ref)
    assert list(out["reasons"]) == r_ref
    for i in rng.choice(len(rows), 12, replace=False):  # one-row requests: the same
        one = scored(lambda r: pyfunc.predict(None, r), rows.iloc[[i]])
        assert one["probability"].iloc[0] == pytest.approx(p_ref[i], abs=TOL)
        assert (one["band"].iloc[0], one["reasons"].iloc[0]) == (b_ref[i], r_ref[i])

    arrays = validate_rows(rows, pyfunc.contract, 1000)
    pd.testing.assert_frame_equal(arrays.frame(), clean)
    assert input_hashes(arrays, pyfunc.contract) == input_hashes(clean, pyfunc.contract)


def test_every_problem_of_a_batch_is_named(feature_store):
    """One check path lists every problem, row by row: a type error in one row and a value
    out of range in another are both named, with their rule, and neither value is echoed."""
    model = trained_model(feature_store)
    contract = InputContract.from_model(model.families)
    rows = valid_rows(model, 4, seed=7)
    names = [f.name for f in contract.fields if f.kind != "category"
             and f.name in rows.columns and field_spec(f.name).high is not None]
    first, later = names[0], names[-1]
    bad = rows.astype(object)
    bad.loc[0, later] = "high"           # a type error in a later field, earlier row
    bad.loc[3, first] = 1e6              # out of range in an earlier field, later row
    with pytest.raises(InputError) as err:
        validate_rows(bad, contract, 10)
    found = {(p.row, p.field, p.rule) for p in err.value.problems}
    assert found == {(0, later, "type"), (3, first, "range")}
    assert "high" not in str(err.value) and "1e+06" not in str(err.value)


def test_reasons_match_the_reference_on_random_contributions():
    """Groups of one, two and three columns (interviewer_, ai_ and a derived score share a
    dimension), zeros, an infinity and the non-reasons (bias, role family)."""
    rng = np.random.default_rng(8)
    cols = ["interviewer_communication", "ai_communication", "interviewer_logic_adj",
            "interviewer_logic", "ai_logic", "overall_rating_mean", "bias", "role_family",
            "role_family=rnd", "interviewer_persuasion", "n_interviews"]
    values = rng.normal(size=(400, len(cols)))
    values[rng.random(values.shape) < 0.3] = 0.0
    values[:5] = 0.0
    values[7, 0] = np.inf
    values[9, 3] = -np.inf
    frame = pd.DataFrame(values, columns=cols)
    assert reasons(frame) == ref.reasons(frame)
    assert reasons(frame.iloc[:, [0]]) == ref.reasons(frame.iloc[:, [0]])


@pytest.mark.parametrize("n", [1, 9, 150])
def test_nan_and_pd_na_read_alike_and_adjusted_scores_are_derived(feature_store, n):
    """A null read as NaN or as pd.NA (an object column) gives the same clean rows, with
    rater-adjusted scores derived: adjusted = raw score - mean offset of the raters."""
    model = trained_model(feature_store)
    lenient, strict = "a" * 32, "b" * 32
    contract = InputContract.from_model(
        model.families, rater_offsets=RaterOffsets({lenient: 0.75, strict: -0.5}))
    adjusted = contract.adjusted
    assert adjusted, "the model should use rater-adjusted scores"
    rng = np.random.default_rng(n)
    rows = valid_rows(model, n, seed=n)
    raters = np.array([lenient, f"{lenient},{strict}", None, "c" * 32], dtype=object)
    rows["rater_ids"] = raters[rng.integers(0, len(raters), n)]
    rows["education"] = rng.choice(np.array(["bachelor", "phd", None], dtype=object), n)
    optional = sorted({c for f in model.families.values() for c in f.features}
                      - {c for f in model.families.values() for c in f.required}
                      - set(adjusted))
    nulled = rng.random(n) < 0.5
    rows.loc[nulled, optional[0]] = np.nan
    if "n_interviews" in rows:
        rows["n_interviews"] = rows["n_interviews"].fillna(3).astype(int)

    quick = validate_rows(rows, contract, 1000).frame()
    odd = rows.astype(object)
    odd.loc[nulled, optional[0]] = pd.NA
    careful = validate_rows(odd, contract, 1000).frame()
    pd.testing.assert_frame_equal(quick, careful)

    mean = np.array([{lenient: 0.75, f"{lenient},{strict}": 0.125}.get(r, 0.0)
                     for r in rows["rater_ids"]])
    for name, source in adjusted.items():
        if source in rows:
            assert adjusted_source(name) == source
            np.testing.assert_array_equal(quick[name], rows[source].astype(float) - mean)
