"""Rater-adjusted scores: the feature store finds the planted rater effects, and the served
model derives adjusted scores from a request's rater_ids and its own frozen offsets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from hris.pseudonym import pseudonym
from ml.features import monotone_constraints
from ml.pyfunc_model import contract_of, signature
from ml.rater_offsets import RATER_IDS, RaterOffsets, freeze, offsets_of, read_rater_offsets
from ml.scoring_input import InputError, validate
from tests.ml.model_fixture import trained_model


@pytest.fixture(scope="module")
def offsets(feature_store) -> RaterOffsets:
    conn = feature_store.connect()
    try:
        return read_rater_offsets(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def model(feature_store, offsets):
    """The session's model with the store's offsets frozen in (a copy: others stay as is)."""
    base = trained_model(feature_store)
    model = dataclasses.replace(base, version_info=dict(base.version_info))
    freeze(model, offsets)
    return model


@pytest.fixture(scope="module")
def to_score(feature_store) -> pd.DataFrame:
    conn = feature_store.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select * from marts.fct_candidates_to_score "
                        "where rater_ids is not null order by candidate_id limit 200")
            frame = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    finally:
        conn.close()
    text = {"candidate_id", "role_family", "role_id", "education", RATER_IDS}
    for col in frame.columns.difference(list(text)):  # NUMERIC arrives as Decimal
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def test_offsets_recover_the_planted_leniency(feature_store, offsets):
    staff = feature_store.sim.world.staff
    key = feature_store.key
    planted = pd.Series(staff.leniency.to_numpy(),
                        index=[pseudonym(key, e) for e in staff.employee_id])
    found = pd.Series(offsets.offsets)
    both = planted.index.intersection(found.index)
    assert len(both) >= 10
    assert np.corrcoef(planted[both], found[both])[0, 1] > 0.8


def test_adjusted_scores_are_model_inputs_with_a_positive_constraint(model):
    features = [f for fam in model.families.values() for f in fam.features]
    adjusted = [f for f in features if f.endswith("_adj")]
    assert adjusted and "rater_ids" not in features
    assert not any("interviewer_id" in f for f in features)
    assert set(monotone_constraints(adjusted).values()) == {1}


def test_served_adjustment_uses_the_frozen_offsets(model, offsets):
    contract = contract_of(model)
    assert contract.adjusted and offsets_of(model).offsets == offsets.offsets
    known = sorted(offsets.offsets, key=offsets.offsets.get)
    harsh, lenient = known[0], known[-1]
    adj, raw = next(iter(contract.adjusted.items()))
    family = next(f for f, req in contract.required.items() if raw in req)
    base = {"role_family": family, **{n: 5.0 for n in contract.required[family]
                                      if n not in contract.adjusted}}
    rows = pd.DataFrame([
        {**base, RATER_IDS: f"{harsh},{lenient}"},
        {**base, RATER_IDS: lenient},
        {**base, RATER_IDS: "f" * 32},          # well-formed but unknown: the average rater
        {**base},                               # no rater_ids: the average rater
    ])
    clean = validate(rows, contract, 100)
    o = offsets.offsets
    expected = [5 - (o[harsh] + o[lenient]) / 2, 5 - o[lenient], 5.0, 5.0]
    np.testing.assert_allclose(clean[adj].to_numpy(float), expected, atol=1e-12)
    p = model.predict_proba(clean)
    assert p[1] <= p[2] + 1e-12  # the lenient rater's 5 counts for less than an average 5
    with pytest.raises(InputError) as err:  # an adjusted value sent is refused, not replaced
        validate(pd.DataFrame([{**base, RATER_IDS: lenient, adj: 99.0}]), contract, 100)
    assert [(p.field, p.rule) for p in err.value.problems] == [(adj, "derived")]


def test_serving_reproduces_the_feature_store_adjustment(model, to_score):
    """A waiting candidate's request (raw scores + rater_ids) lands near the store's
    point-in-time adjusted scores: the offsets move little between interview and as-of."""
    contract = contract_of(model)
    request = to_score[["role_family", RATER_IDS,
                        *[c for c in contract.names if c in to_score.columns]]]
    clean = validate(request.drop(columns=list(contract.adjusted)), contract, 1000)
    gaps = [np.nanmean(np.abs(clean[adj].to_numpy(float)
                              - pd.to_numeric(to_score[adj]).to_numpy(float)))
            for adj in contract.adjusted]
    assert np.nanmax(gaps) < 0.15


@pytest.mark.parametrize("value, fragment", [
    (42, "must be a string"),
    ("not-a-pseudonym", "not an interviewer pseudonym"),
    (",".join(["a" * 32] * 21), "at most 20"),
])
def test_bad_rater_ids_are_refused_with_field_and_row(model, value, fragment):
    contract = contract_of(model)
    family = contract.families[0]
    row = {"role_family": family, **{n: 5.0 for n in contract.accepted.required[family]}}
    rows = pd.DataFrame([row, {**row, RATER_IDS: value}])
    with pytest.raises(InputError) as err:
        validate(rows, contract, 100)
    assert err.value.field == RATER_IDS and err.value.row == 1
    assert fragment in str(err.value) and "row 1" in str(err.value)
    assert "not-a-pseudonym" not in str(err.value)  # the value sent is not repeated


def test_signature_carries_rater_ids_as_a_string(model):
    spec = {c.name: c.type.name for c in signature(contract_of(model)).inputs.inputs}
    assert spec[RATER_IDS] == "string"
