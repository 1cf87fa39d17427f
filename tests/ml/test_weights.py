"""Row weights mean what they say: a row of weight k counts as k copies of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.calibration import PlattCalibrator
from ml.linear import LinearBase

RNG = np.random.default_rng(3)
N = 120
X = pd.DataFrame({"interviewer_empathy": RNG.normal(size=N),
                  "interviewer_logic": np.where(RNG.random(N) < 0.2, np.nan,
                                                RNG.normal(size=N))})
Y = (X["interviewer_empathy"] + RNG.normal(size=N) > 0).to_numpy().astype(int)
K = RNG.integers(0, 4, N)          # 0 to 3 copies of each row
COPIES = np.repeat(np.arange(N), K)


def test_linear_base_with_integer_weights_equals_duplicated_rows():
    mono = {"interviewer_empathy": 1, "interviewer_logic": 1}
    weighted = LinearBase(list(X.columns), mono, l2=3.0).fit(X, Y, K.astype(float))
    copied = LinearBase(list(X.columns), mono, l2=3.0).fit(
        X.iloc[COPIES].reset_index(drop=True), Y[COPIES])
    assert weighted.coef_ == pytest.approx(copied.coef_, abs=1e-5)
    assert weighted.intercept_ == pytest.approx(copied.intercept_, abs=1e-5)
    plain = LinearBase(list(X.columns), mono, l2=3.0).fit(X, Y)
    assert not np.allclose(plain.coef_, weighted.coef_, atol=1e-3)  # the weights mattered


def test_platt_with_integer_weights_equals_duplicated_rows():
    raw = 1 / (1 + np.exp(-X["interviewer_empathy"].to_numpy()))
    weighted = PlattCalibrator().fit(raw, Y, K.astype(float))
    copied = PlattCalibrator().fit(raw[COPIES], Y[COPIES])
    assert (weighted.a, weighted.b) == pytest.approx((copied.a, copied.b), abs=1e-5)
