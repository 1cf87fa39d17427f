"""Error rates and calibration by group, on hires whose later performance is known.

LL144's tables compare rates only; among labelled hires we can also ask whether the model
is as right for each group: the equalised-odds difference (the largest gap between groups
in true-positive or false-positive rate of the `advance` band) and calibration by group
(mean score against the observed rate, Brier, ECE), with Fairlearn's MetricFrame. Unknown
categories and those under the policy's minimum share are left out of the differences (they
are still listed with their count), as in the LL144 tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_positive_rate, true_positive_rate

from ml.fairness_tables import ADVANCE, ATTRIBUTES, AuditPolicy, category_labels

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean |observed rate - mean score| over equal-width score bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return math.nan
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(idx):
        take = idx == b
        total += take.sum() * abs(y[take].mean() - p[take].mean())
    return total / len(y)


def _safe(metric):
    """A rate metric that is NaN (not a warning and a 0) for a group with no such class."""
    def wrapped(y_true, y_pred):
        y_true = np.asarray(y_true)
        if metric is true_positive_rate and not (y_true == 1).any():
            return math.nan
        if metric is false_positive_rate and not (y_true == 0).any():
            return math.nan
        return float(metric(y_true, y_pred))
    wrapped.__name__ = metric.__name__
    return wrapped


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def outcome_metrics(sample: pd.DataFrame, label: str = "met_kpi",
                    policy: AuditPolicy | None = None) -> dict[str, Any]:
    """Per attribute: the equalised-odds difference and, per category, count, selection rate,
    TPR, FPR, mean score, observed rate, Brier and ECE. `sample`: labelled hires with
    probability, band, `label` and dim_candidates' protected columns."""
    policy = policy or AuditPolicy()
    if label not in sample.columns:
        raise ValueError(f"the outcome audit needs the label column {label!r}")
    labelled = sample[sample[label].notna()]
    y = labelled[label].astype(int).to_numpy()
    p = pd.to_numeric(labelled["probability"]).to_numpy(dtype=float)
    advance = (labelled["band"].to_numpy() == ADVANCE).astype(int)
    labels = category_labels(labelled)
    out: dict[str, Any] = {"n_labelled": len(labelled)}
    for attr in ATTRIBUTES:
        groups = labels[attr]
        known = groups.notna().to_numpy()
        if not known.any():
            out[attr] = {"equalized_odds_difference": None, "groups": {}, "n_unknown":
                         int((~known).sum())}
            continue
        frame = MetricFrame(
            metrics={"selection_rate": lambda t, s: float(np.mean(s)),
                     "true_positive_rate": _safe(true_positive_rate),
                     "false_positive_rate": _safe(false_positive_rate)},
            y_true=y[known], y_pred=advance[known],
            sensitive_features=groups[known].to_numpy())
        calib = MetricFrame(
            metrics={"mean_score": lambda t, s: float(np.mean(s)),
                     "observed_rate": lambda t, s: float(np.mean(t)),
                     "brier": lambda t, s: float(np.mean((np.asarray(s) - t) ** 2)),
                     "ece": expected_calibration_error},
            y_true=y[known], y_pred=p[known], sensitive_features=groups[known].to_numpy())
        counts = groups[known].value_counts()
        big = [g for g, c in counts.items() if c / len(labelled) >= policy.min_share]
        rates = frame.by_group.loc[big] if big else frame.by_group.iloc[:0]
        gaps = [rates[c].max() - rates[c].min() for c in ("true_positive_rate",
                                                         "false_positive_rate")
                if rates[c].notna().sum() >= 2]
        per_group = {}
        for g in sorted(counts.index):
            row = {"n": int(counts[g]), "included": g in big}
            row.update({k: _finite(v) for k, v in frame.by_group.loc[g].items()})
            row.update({k: _finite(v) for k, v in calib.by_group.loc[g].items()})
            per_group[str(g)] = row
        out[attr] = {"equalized_odds_difference": _finite(max(gaps)) if gaps else None,
                     "groups": per_group, "n_unknown": int((~known).sum())}
    return out
