"""A small, sign-constrained logistic regression used as the trees' starting point.

Trees extrapolate flat outside the range they saw, and hires are a range-restricted sample
(the weakest applicants were never hired). A linear base margin carries the score's
direction beyond that range; boosted trees then model what the line misses. Coefficients of
interview signals are bounded at >= 0, so the base itself never lowers a score when an
interview gets better. Missing values: the column mean plus a missing indicator.

Paired inputs: a human dimension score and the AI's score of the same dimension measure one
ability with different noise, and the AI scores only some interviews. Two free coefficients
per dimension double what a family's few hundred hires must estimate; instead each pair
enters as ONE standardised evidence term, `human_weight * z_human + ai_weight * z_ai` where
the AI scored and `z_human` where it did not (a second, independent measurement lowers the
human score's weight and adds the AI's). The two weights are shared by every dimension of
the model and chosen on a small grid by penalised likelihood, so a pair costs one
coefficient, as a single measurement would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

# (human weight where the AI also scored, AI weight): the grid the pair weights come from.
PAIR_GRID: tuple[tuple[float, float], ...] = tuple(
    (h, a) for h in (0.6, 0.75, 0.9, 1.0) for a in (0.0, 0.15, 0.3, 0.45, 0.6))


class LinearBase:
    """L2-penalised logistic regression on standardised inputs, coefficients sign-bounded.

    `pairs` maps a human score column to the AI score column of the same dimension (both
    in `columns`): each pair is one evidence term (see the module docstring).
    """

    pairs_: Mapping[str, str] = MappingProxyType({})   # versions pickled before pairs
    pair_weights_: tuple[float, float] = (1.0, 0.0)

    def __init__(self, columns: Sequence[str], monotone: Mapping[str, int], l2: float = 1.0,
                 pairs: Mapping[str, str] | None = None,
                 pair_weights: tuple[float, float] | None = None,
                 extra_l2: Mapping[str, float] | None = None):
        self.columns = list(columns)
        self.monotone = {c: int(monotone.get(c, 0)) for c in self.columns}
        self.l2 = l2
        self.pairs_ = {h: a for h, a in (pairs or {}).items()
                       if h in self.columns and a in self.columns}
        self.pair_weights_ = (1.0, 0.0)
        self.fixed_weights = pair_weights
        self.extra_l2 = dict(extra_l2 or {})
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None       # per term, then per missing indicator
        self.intercept_: float = 0.0
        self.indicators_: list[str] = []

    # -- terms: unpaired columns as they are, each pair as one evidence column ------------
    def _layout(self) -> tuple[list[int], list[tuple[int, int]]]:
        """(positions of unpaired columns, (human, ai) positions of each pair)."""
        pos = {c: i for i, c in enumerate(self.columns)}
        paired = set(self.pairs_) | set(self.pairs_.values())
        single = [i for i, c in enumerate(self.columns) if c not in paired]
        return single, [(pos[h], pos[a]) for h, a in self.pairs_.items()]

    def _standardise(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        miss = np.isnan(v)
        z = (np.where(miss, self.mean_, v) - self.mean_) / self.scale_
        return z, miss

    def _terms(self, z: np.ndarray, miss: np.ndarray, weights: tuple[float, float]
               ) -> np.ndarray:
        single, pairs = self._layout()
        cols = [z[:, single]]
        if pairs:
            h, a = (np.array(p, dtype=np.intp) for p in zip(*pairs, strict=True))
            has_ai = ~miss[:, a]
            cols.append(np.where(has_ai, weights[0] * z[:, h] + weights[1] * z[:, a], z[:, h]))
        return np.hstack(cols)

    def _design_array(self, v: np.ndarray, weights: tuple[float, float] | None = None
                      ) -> np.ndarray:
        z, miss = self._standardise(v)
        ind = miss[:, [self.columns.index(c) for c in self.indicators_]].astype(float)
        return np.hstack([self._terms(z, miss, weights or self.pair_weights_), ind])

    def _term_signs(self) -> list[int]:
        single, pairs = self._layout()
        signs = [self.monotone[self.columns[i]] for i in single]
        return signs + [max(self.monotone[self.columns[h]], self.monotone[self.columns[a]])
                        for h, a in pairs]

    def fit(self, x: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None
            ) -> LinearBase:
        """Fit; the pair weights are the given ones, else the grid point of least loss.

        `weight`: a weight per row (recency, partial labels); None weighs every row 1.
        """
        grid = (PAIR_GRID if self.fixed_weights is None else (self.fixed_weights,))
        losses = self.grid_losses(x, y, grid if self.pairs_ else ((1.0, 0.0),), weight)
        self.pair_weights_, (_, w) = min(losses.items(), key=lambda kv: kv[1][0])
        self.intercept_, self.coef_ = float(w[0]), w[1:]
        return self

    def grid_losses(self, x: pd.DataFrame, y: np.ndarray,
                    grid: Sequence[tuple[float, float]] = PAIR_GRID,
                    weight: np.ndarray | None = None
                    ) -> dict[tuple[float, float], tuple[float, np.ndarray]]:
        """Penalised (weighted) mean log loss and parameters at each pair-weight grid point."""
        v = x[self.columns].to_numpy(np.float64)
        if weight is None:
            self.mean_ = (np.nan_to_num(np.nanmean(v, axis=0)) if len(v)
                          else np.zeros(v.shape[1]))
            sd = np.nanstd(v, axis=0)
        else:  # a row of weight w standardises as w copies of it would
            self.mean_, sd = _weighted_moments(v, np.asarray(weight, float))
        self.scale_ = np.where(np.isfinite(sd) & (sd > 1e-9), sd, 1.0)
        miss_share = np.isnan(v).mean(0)
        ai_cols = set(self.pairs_.values())
        self.indicators_ = [c for c, s in zip(self.columns, miss_share, strict=True)
                            if 0.0 < s < 1.0 and c not in ai_cols]
        y = np.asarray(y, float)
        out = {}
        for weights in grid:
            w, loss = self._fit_design(self._design_array(v, weights), y, weight)
            out[tuple(weights)] = (loss, w)
        return out

    def _fit_design(self, d: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float]:
        n, k = d.shape
        single, _ = self._layout()
        lam = np.full(k, float(self.l2))
        for j, i in enumerate(single):
            lam[j] += self.extra_l2.get(self.columns[i], 0.0)
        # the ridge is in rows' worth of evidence: weighted rows count by their weight
        total = n if weight is None else float(np.sum(weight))
        lam /= max(total, 1)
        share = None if weight is None else np.asarray(weight, float) / max(total, 1e-12)

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            m = d @ w[1:] + w[0]
            p = expit(m)
            ll = np.average(np.logaddexp(0.0, m) - y * m, weights=share)
            ll += 0.5 * (lam * w[1:]) @ w[1:]
            r = (p - y) / n if share is None else (p - y) * share
            return ll, np.concatenate([[r.sum()], d.T @ r + lam * w[1:]])

        bounds = [(None, None)]
        bounds += [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None)
                   for s in self._term_signs()]
        bounds += [(None, None)] * len(self.indicators_)
        res = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B", bounds=bounds)
        return res.x, float(res.fun)

    def margin(self, x: pd.DataFrame) -> np.ndarray:
        """Log-odds of the linear model."""
        return self.margin_array(x[self.columns].to_numpy(np.float64))

    def margin_array(self, v: np.ndarray) -> np.ndarray:
        """`margin` for a float64 array whose columns are `self.columns`, in order."""
        return self._design_array(v) @ self.coef_ + self.intercept_

    def coefficients(self) -> dict[str, float]:
        """Coefficient per term (a pair under its human column's name), standardised units."""
        single, pairs = self._layout()
        names = [self.columns[i] for i in single] + [self.columns[h] for h, _ in pairs]
        return dict(zip(names, map(float, self.coef_[:len(names)]), strict=True))

    def contributions(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per input column: coef x standardised value (+ its missing indicator's term).

        Exact SHAP values of a linear model with the training means as the reference; a
        pair's term is split exactly between its human and AI columns.
        """
        out = self.contributions_array(x[self.columns].to_numpy(np.float64))
        return pd.DataFrame(out, columns=self.columns, index=x.index)

    def contributions_array(self, v: np.ndarray) -> np.ndarray:
        """`contributions` for a float64 array whose columns are `self.columns`, in order."""
        z, miss = self._standardise(v)
        single, pairs = self._layout()
        out = np.zeros_like(z)
        out[:, single] = z[:, single] * self.coef_[:len(single)]
        wh, wa = self.pair_weights_
        for j, (h, a) in enumerate(pairs):
            c = self.coef_[len(single) + j]
            has_ai = ~miss[:, a]
            out[:, h] = c * z[:, h] * np.where(has_ai, wh, 1.0)
            out[:, a] = c * wa * np.where(has_ai, z[:, a], 0.0)
        k = len(single) + len(pairs)
        for j, col in enumerate(self.indicators_):
            out[:, self.columns.index(col)] += miss[:, self.columns.index(col)] * self.coef_[k + j]
        return out


def _weighted_moments(v: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: weighted mean (0 where no weight is present) and weighted standard
    deviation over the rows where the column has a value."""
    w = np.where(np.isnan(v), 0.0, weight[:, None])
    total = w.sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    mean = np.where(total > 0, (w * np.nan_to_num(v)).sum(axis=0) / safe, 0.0)
    var = (w * (np.nan_to_num(v) - mean) ** 2).sum(axis=0) / safe
    return mean, np.where(total > 0, np.sqrt(var), np.nan)


def shared_pair_weights(parts: Sequence[tuple]) -> tuple[float, float]:
    """The grid point of least total log loss over several bases (e.g. one per role family).

    How much an AI score adds to a human one is a property of the two scorers' noise, not of
    the role family: one shared choice uses every family's rows for two numbers.
    `parts`: (base, x, y) or (base, x, y, row weights) per base.
    """
    total: dict[tuple[float, float], float] = {}
    for base, x, y, *rest in parts:
        if not base.pairs_:
            continue
        weight = rest[0] if rest else None
        rows = len(y) if weight is None else float(np.sum(weight))
        for weights, (loss, _) in base.grid_losses(x, y, weight=weight).items():
            total[weights] = total.get(weights, 0.0) + loss * rows
    return min(total, key=total.get) if total else (1.0, 0.0)
