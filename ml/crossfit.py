"""Out-of-fold predictions for the retrain gate's early route (cross-fitting).

The early route judges challengers on the immature hires of the cohorts after the gate
cohort (ml.windows.early_gate_rows), the only rows that show the world after a change of the
KPI's drivers. A challenger trained with partial labels learned from those very hires, so
its own predictions there are in-sample. Cross-fitting: the hires are split into
`early_gate_folds` folds by a hash of the pseudonym (a hire stays in the same fold at every
retrain); for each fold the same window is trained again, by the same training code, without
that fold's partial labels, and predicts that fold. The gate compares these out-of-fold
predictions with the champion's; the challenger it promotes is the one trained on every
partial label. Every eligible hire is judged and every one trains the served model: the
fixed early holdout this replaces kept half of them out of both, and which half (the hash
of a pseudonym, keyed per installation) swung the same retrain between promoting and keeping.

What the out-of-fold models learned from is a fold less than the promoted model, so the
route is conservative: it understates what the partial labels bought. A champion promoted by
an earlier retrain may have trained on these hires' earlier reviews: that favours the
champion, never the challenger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ml.windows import WindowFrame, WindowPolicy, window_frame

FoldTrainer = Callable[[WindowFrame], Any]  # a window's frame -> a model with predict_proba


def early_folds(candidate_ids: pd.Series, folds: int) -> np.ndarray:
    """Each hire's fold (0..folds-1): the first 8 bytes of a SHA-256 of the pseudonym, read
    as a fraction of 1, times `folds` (the same fold at every retrain)."""
    def fraction(cid: str) -> float:
        digest = hashlib.sha256(f"early-fold:{cid}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64

    return np.array([int(fraction(c) * folds) for c in candidate_ids.astype(str)], dtype=int)


def out_of_fold(mature: pd.DataFrame, window: str, policy: WindowPolicy, gate: str,
                early: pd.DataFrame, early_rows: pd.DataFrame, train: FoldTrainer,
                holdout_share: float = 0.15, valid_share: float = 0.2
                ) -> tuple[np.ndarray, dict[str, Any]]:
    """Out-of-fold probabilities for `early_rows` (ml.windows.early_gate_rows of `early`):
    per fold, `window`'s frame without the fold's partial labels, trained by `train`,
    predicts the fold's rows. Also returns what each fold model learned from."""
    fold_of_row = early_folds(early_rows["candidate_id"], policy.early_gate_folds)
    fold_of_hire = early_folds(early["candidate_id"], policy.early_gate_folds)
    proba = np.full(len(early_rows), np.nan)
    info: dict[str, Any] = {"folds": policy.early_gate_folds, "n_judged": [], "n_partial": []}
    for k in range(policy.early_gate_folds):
        judged = fold_of_row == k
        wf = window_frame(mature, window, policy, gate, early.loc[fold_of_hire != k],
                          holdout_share, valid_share)
        if judged.any():
            proba[judged] = train(wf).predict_proba(early_rows.loc[judged])
        info["n_judged"].append(int(judged.sum()))
        info["n_partial"].append(wf.info["n_partial"])
    return proba, info


def early_predictions(model: Any, mature: pd.DataFrame, window: str, policy: WindowPolicy,
                      gate: str, early: pd.DataFrame, early_rows: pd.DataFrame,
                      train: FoldTrainer, holdout_share: float = 0.15,
                      valid_share: float = 0.2) -> tuple[np.ndarray, dict[str, Any]]:
    """The early route's predictions of `window`'s challenger `model`: out of fold when it
    learned from partial labels, its own otherwise (then none of these hires trained it)."""
    if not len(early_rows):
        return np.empty(0), {"folds": 0, "n_judged": [], "n_partial": []}
    if not policy.partial_labels:
        return (np.asarray(model.predict_proba(early_rows), float),
                {"folds": 0, "n_judged": [len(early_rows)], "n_partial": [0]})
    return out_of_fold(mature, window, policy, gate, early, early_rows, train,
                       holdout_share, valid_share)


__all__ = ["FoldTrainer", "early_folds", "early_predictions", "out_of_fold"]
