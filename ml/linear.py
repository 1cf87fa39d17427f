"""A small, sign-constrained logistic regression used as the trees' starting point.

Trees extrapolate flat outside the range they saw, and hires are a range-restricted sample
(the weakest applicants were never hired). A linear base margin carries the score's
direction beyond that range; boosted trees then model what the line misses. Coefficients of
interview signals are bounded at >= 0, so the base itself never lowers a score when an
interview gets better. Missing values: the column mean plus a missing indicator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit


class LinearBase:
    """L2-penalised logistic regression on standardised inputs, coefficients sign-bounded."""

    def __init__(self, columns: Sequence[str], monotone: Mapping[str, int], l2: float = 1.0):
        self.columns = list(columns)
        self.monotone = {c: int(monotone.get(c, 0)) for c in self.columns}
        self.l2 = l2
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None       # per column, then per missing indicator
        self.intercept_: float = 0.0
        self.indicators_: list[str] = []

    def _design(self, x: pd.DataFrame) -> np.ndarray:
        return self._design_array(x[self.columns].to_numpy(np.float64))

    def _design_array(self, v: np.ndarray) -> np.ndarray:
        miss = np.isnan(v)
        v = np.where(miss, self.mean_, v)
        z = (v - self.mean_) / self.scale_
        ind = miss[:, [self.columns.index(c) for c in self.indicators_]].astype(float)
        return np.hstack([z, ind])

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> LinearBase:
        v = x[self.columns].to_numpy(np.float64)
        self.mean_ = np.nan_to_num(np.nanmean(v, axis=0)) if len(v) else np.zeros(v.shape[1])
        sd = np.nanstd(v, axis=0)
        self.scale_ = np.where(np.isfinite(sd) & (sd > 1e-9), sd, 1.0)
        miss_share = np.isnan(v).mean(0)
        self.indicators_ = [c for c, s in zip(self.columns, miss_share, strict=True)
                            if 0.0 < s < 1.0]
        d = self._design(x)
        y = np.asarray(y, float)
        n, k = d.shape
        lam = self.l2 / n

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            m = d @ w[1:] + w[0]
            p = expit(m)
            ll = np.mean(np.logaddexp(0.0, m) - y * m) + 0.5 * lam * w[1:] @ w[1:]
            r = (p - y) / n
            return ll, np.concatenate([[r.sum()], d.T @ r + lam * w[1:]])

        bounds = [(None, None)]
        bounds += [(0.0, None) if self.monotone[c] > 0 else (None, 0.0)
                   if self.monotone[c] < 0 else (None, None) for c in self.columns]
        bounds += [(None, None)] * len(self.indicators_)
        res = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B", bounds=bounds)
        self.intercept_, self.coef_ = float(res.x[0]), res.x[1:]
        return self

    def margin(self, x: pd.DataFrame) -> np.ndarray:
        """Log-odds of the linear model."""
        return self.margin_array(x[self.columns].to_numpy(np.float64))

    def margin_array(self, v: np.ndarray) -> np.ndarray:
        """`margin` for a float64 array whose columns are `self.columns`, in order."""
        return self._design_array(v) @ self.coef_ + self.intercept_

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per input column: coef x standardised value (+ its missing indicator's term).

        Exact SHAP values of a linear model with the training means as the reference.
        """
        out = self.contributions_array(x[self.columns].to_numpy(np.float64))
        return pd.DataFrame(out, columns=self.columns, index=x.index)

    def contributions_array(self, v: np.ndarray) -> np.ndarray:
        """`contributions` for a float64 array whose columns are `self.columns`, in order."""
        d = self._design_array(v)
        k = len(self.columns)
        out = d[:, :k] * self.coef_[:k]
        for j, c in enumerate(self.indicators_):
            out[:, self.columns.index(c)] += d[:, k + j] * self.coef_[k + j]
        return out
