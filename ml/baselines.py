"""The baselines the model must beat, trained on the same rows, scored per role family.

- `RatingBaseline`: the interviewer's overall rating alone (the "traditional interview");
  its order is the rating's, a per-family Platt curve only turns it into a probability.
- `DimensionLogit`: logistic regression on the per-dimension mean scores (interviewer and
  AI), missing values imputed with the family's means plus missing indicators, scaled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ml.calibration import PlattCalibrator
from ml.features import FAMILY_COLUMN, SCORE_PREFIXES, numeric_frame

RATING = "overall_rating_mean"


def _families(frame: pd.DataFrame) -> np.ndarray:
    return frame[FAMILY_COLUMN].astype(str).to_numpy()


class RatingBaseline:
    """P(met_kpi) as a monotone function of overall_rating_mean, per role family."""

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> RatingBaseline:
        fam, y = _families(frame), np.asarray(y, int)
        r = numeric_frame(frame, [RATING])[RATING].to_numpy()
        self.fill_ = float(np.nanmean(r))
        self.curves_ = {}
        for f in np.unique(fam):
            s = fam == f
            self.curves_[f] = PlattCalibrator().fit(self._raw(r[s]), y[s])
        return self

    def _raw(self, r: np.ndarray) -> np.ndarray:
        r = np.where(np.isnan(r), self.fill_, r)
        return np.clip((r - 0.5) / 5.0, 1e-3, 1 - 1e-3)   # 1..5 onto (0, 1), order kept

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The rating itself: what the traditional interview ranks by."""
        return numeric_frame(frame, [RATING])[RATING].fillna(self.fill_).to_numpy()

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        fam = _families(frame)
        raw = self._raw(numeric_frame(frame, [RATING])[RATING].to_numpy())
        out = np.full(len(frame), np.nan)
        for f, curve in self.curves_.items():
            s = fam == f
            out[s] = curve.predict(raw[s])
        return out


class DimensionLogit:
    """Per role family: scaled logistic regression on dimension means + missing indicators."""

    def __init__(self, c: float = 1.0):
        self.c = c

    def fit(self, frame: pd.DataFrame, y: np.ndarray,
            columns: Sequence[str] | None = None) -> DimensionLogit:
        fam, y = _families(frame), np.asarray(y, int)
        cols = list(columns) if columns is not None else [
            c for c in frame.columns if c.startswith(SCORE_PREFIXES)]
        self.parts_ = {}
        for f in np.unique(fam):
            rows = frame[fam == f]
            x = numeric_frame(rows, cols)
            use = [c for c in cols if x[c].notna().any()]
            means = x[use].mean()
            ind = [c for c in use if x[c].isna().any()]
            design = self._design(rows, use, means, ind)
            scaler = StandardScaler().fit(design)
            lr = LogisticRegression(C=self.c, max_iter=2000).fit(scaler.transform(design),
                                                                 y[fam == f])
            self.parts_[f] = (use, means, ind, scaler, lr)
        return self

    @staticmethod
    def _design(rows: pd.DataFrame, use, means, ind) -> np.ndarray:
        x = numeric_frame(rows, use)
        miss = x[ind].isna().to_numpy(float)
        return np.hstack([x.fillna(means).to_numpy(), miss])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        fam = _families(frame)
        out = np.full(len(frame), np.nan)
        for f, (use, means, ind, scaler, lr) in self.parts_.items():
            s = fam == f
            if s.any():
                d = self._design(frame[s], use, means, ind)
                out[s] = lr.predict_proba(scaler.transform(d))[:, 1]
        return out
