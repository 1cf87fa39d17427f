"""Quality figures, overall and per role family, and the operating thresholds.

Operating rule (per role family, on held-out data): `advance` = the top 30% by calibrated
probability, `review` = the next 40%, `hold` = the rest. The model never rejects; a person
decides. Accuracy and recall are measured at the advance threshold (predicted positive =
advance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

ADVANCE_SHARE = 0.30
REVIEW_SHARE = 0.40


def band_thresholds(proba: np.ndarray, advance_share: float = ADVANCE_SHARE,
                    review_share: float = REVIEW_SHARE) -> dict[str, float]:
    """{'advance': p_hi, 'review': p_lo} from quantiles of held-out probabilities."""
    p = np.asarray(proba, float)
    hi = float(np.quantile(p, 1.0 - advance_share))
    lo = float(np.quantile(p, 1.0 - advance_share - review_share))
    return {"advance": hi, "review": min(lo, hi)}


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-width bins, weighted by count."""
    y, p = np.asarray(y, float), np.asarray(proba, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() * abs(y[sel].mean() - p[sel].mean())
    return float(total / max(len(y), 1))


def classification_metrics(y: np.ndarray, proba: np.ndarray, threshold: float | None = None
                           ) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier, log loss, ECE, and accuracy / recall at `threshold`."""
    y = np.asarray(y, int)
    p = np.clip(np.asarray(proba, float), 1e-6, 1 - 1e-6)
    out = {"n": float(len(y)), "positive_rate": float(y.mean()) if len(y) else np.nan}
    both = len(np.unique(y)) == 2
    out["roc_auc"] = float(roc_auc_score(y, p)) if both else np.nan
    out["pr_auc"] = float(average_precision_score(y, p)) if both else np.nan
    out["brier"] = float(brier_score_loss(y, p)) if len(y) else np.nan
    out["log_loss"] = float(log_loss(y, p, labels=[0, 1])) if len(y) else np.nan
    out["ece"] = expected_calibration_error(y, p)
    if threshold is not None:
        pred = p >= threshold
        out["accuracy"] = float((pred == y).mean())
        out["recall"] = float(pred[y == 1].mean()) if (y == 1).any() else np.nan
    return out


def metrics_by_family(frame: pd.DataFrame, y: np.ndarray, proba: np.ndarray,
                      thresholds: dict[str, dict[str, float]] | None = None,
                      family_column: str = "role_family") -> pd.DataFrame:
    """One row per role family plus 'overall' (thresholds per family apply row by row)."""
    fam = frame[family_column].astype(str).to_numpy()
    y, p = np.asarray(y, int), np.asarray(proba, float)
    rows = {}
    for f in sorted(set(fam)):
        s = fam == f
        t = thresholds[f]["advance"] if thresholds and f in thresholds else None
        rows[f] = classification_metrics(y[s], p[s], t)
    overall = classification_metrics(y, p)
    if thresholds:
        adv = np.array([thresholds.get(f, {}).get("advance", np.inf) for f in fam])
        pred = p >= adv
        overall["accuracy"] = float((pred == y).mean())
        overall["recall"] = float(pred[y == 1].mean()) if (y == 1).any() else np.nan
    rows["overall"] = overall
    return pd.DataFrame(rows).T


def bootstrap_ci(metric: Callable[..., float], *arrays: np.ndarray, n_boot: int = 500,
                 seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(estimate, low, high): percentile bootstrap over rows of the aligned `arrays`."""
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    rng = np.random.default_rng(seed)
    est = float(metric(*arrays))
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        try:
            stats.append(metric(*(a[idx] for a in arrays)))
        except ValueError:  # a resample with one class only
            continue
    lo, hi = np.nanquantile(stats, [(1 - level) / 2, 1 - (1 - level) / 2])
    return est, float(lo), float(hi)
