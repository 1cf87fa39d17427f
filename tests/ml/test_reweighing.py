"""Kamiran–Calders reweighing makes sex and met_kpi independent in the weighted training set.

Real PostgreSQL and dbt (the session's feature store): the training rows and dim_candidates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.datasets import read_training_set
from ml.fairness_io import read_people
from ml.features import LABEL, WEIGHT, select_features
from ml.reweighing import reweighed


def test_every_sex_has_the_overall_met_kpi_rate_once_weighted(feature_store):
    conn = feature_store.connect()
    try:
        frame, people = read_training_set(conn), read_people(conn)
    finally:
        conn.close()
    out = reweighed(frame, people)
    y = out[LABEL].astype(bool).to_numpy()
    w = out[WEIGHT].to_numpy()
    sex = frame["candidate_id"].map(people.set_index("candidate_id")["gender"])
    raw = pd.Series(y).groupby(sex.to_numpy()).mean()
    assert raw.max() - raw.min() > 0.01  # hires' rates differ by sex before
    for group in sex.dropna().unique():
        take = (sex == group).to_numpy()
        assert np.isclose(np.average(y[take], weights=w[take]), y.mean())
    # the weights sum to the number of rows; no protected column is added to the frame
    assert np.isclose(w.sum(), len(out))
    assert set(out.columns) == set(frame.columns) | {WEIGHT}
    assert "gender" not in select_features(out)
