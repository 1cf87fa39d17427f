"""Probability calibration that keeps the order of scores (a better interview never ranks lower).

Platt scaling (a logistic curve on the raw log-odds) is the default: two parameters suit the
few hundred time-later rows a role family has; isotonic regression needs more. Both are
monotone non-decreasing; Platt's slope is forced positive.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

_EPS = 1e-6


class PlattCalibrator:
    """p = sigmoid(a * logit(raw) + b) with a > 0, fitted by penalised maximum likelihood.

    A Gaussian prior pulls (a, b) towards the identity (1, 0) with the weight of
    `prior_rows` observations: on a family's hundred validation rows an unpenalised fit can
    flatten a good model (slope near 0) by chance; with thousands of rows the data win.
    """

    def __init__(self, prior_rows: float = 100.0) -> None:
        self.a = 1.0
        self.b = 0.0
        self.prior_rows = prior_rows

    def fit(self, raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
            ) -> PlattCalibrator:
        """`weight`: per row (None: every row 1); the prior counts against the weight sum."""
        z = logit(np.clip(np.asarray(raw, float), _EPS, 1 - _EPS))
        y = np.asarray(y, float)
        rows = len(y) if weight is None else float(np.sum(weight))
        w = self.prior_rows / max(rows, 1)

        def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
            a, b = params
            p = np.clip(expit(a * z + b), _EPS, 1 - _EPS)
            nll = -np.average(y * np.log(p) + (1 - y) * np.log(1 - p), weights=weight)
            nll += 0.5 * w * ((a - 1.0) ** 2 + b**2)
            r = p - y
            return nll, np.array([np.average(r * z, weights=weight) + w * (a - 1.0),
                                  np.average(r, weights=weight) + w * b])

        res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B",
                       bounds=[(1e-3, None), (None, None)])
        self.a, self.b = float(res.x[0]), float(res.x[1])
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        z = logit(np.clip(np.asarray(raw, float), _EPS, 1 - _EPS))
        return expit(self.a * z + self.b)


class IsotonicCalibrator:
    """Isotonic regression on the raw probability (non-decreasing, clipped at the ends)."""

    def __init__(self) -> None:
        self.iso = IsotonicRegression(out_of_bounds="clip", y_min=_EPS, y_max=1 - _EPS)

    def fit(self, raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
            ) -> IsotonicCalibrator:
        self.iso.fit(np.asarray(raw, float), np.asarray(y, float), sample_weight=weight)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return self.iso.predict(np.asarray(raw, float))


def fit_calibrator(method: str, raw: np.ndarray, y: np.ndarray,
                   weight: np.ndarray | None = None):
    """'platt', 'isotonic', or 'auto' (isotonic from 2,000 rows on, Platt below);
    `weight` per row, None for equal weights."""
    if method == "auto":
        method = "isotonic" if len(y) >= 2000 else "platt"
    if method == "platt":
        return PlattCalibrator().fit(raw, y, weight)
    if method == "isotonic":
        return IsotonicCalibrator().fit(raw, y, weight)
    raise ValueError(f"unknown calibration method {method!r}")
