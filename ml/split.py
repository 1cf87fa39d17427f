"""Time-based split: learn from earlier hiring cohorts, judge on the newest mature ones.

A random split would let the model see the future (later cohorts, later interviewers).
Only complete cohorts are used: in the newest quarters the only mature labels are early
leavers (all "not met"), so those cohorts would bias both training and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COHORT = "cohort_quarter"


@dataclass
class TimeSplit:
    """Row positions (into the frame given) of each part, and the cohorts behind them."""

    fit: np.ndarray
    valid: np.ndarray
    holdout: np.ndarray
    dropped: np.ndarray
    fit_cohorts: list[str]
    valid_cohorts: list[str]
    holdout_cohorts: list[str]
    dropped_cohorts: list[str]

    @property
    def train(self) -> np.ndarray:
        """fit + valid: everything before the holdout."""
        return np.sort(np.concatenate([self.fit, self.valid]))


def complete_cohorts(frame: pd.DataFrame, min_full_share: float = 0.5) -> list[str]:
    """Cohorts whose labels are (nearly) all mature.

    A cohort is complete when its share of labels from the full four-review window is at
    least `min_full_share` of the median such share across cohorts (incomplete quarters
    hold only early leavers, whose window is shorter).
    """
    if "n_label_reviews" not in frame.columns:
        return sorted(frame[COHORT].unique())
    full = (frame["n_label_reviews"] >= 4).groupby(frame[COHORT]).mean()
    cutoff = min_full_share * full.median()
    return sorted(c for c, share in full.items() if share >= cutoff)


def _newest_until(cohorts: list[str], counts: pd.Series, target_rows: float) -> list[str]:
    chosen: list[str] = []
    rows = 0
    for c in reversed(cohorts):
        if rows >= target_rows:
            break
        chosen.insert(0, c)
        rows += int(counts[c])
    return chosen


def time_split(frame: pd.DataFrame, holdout_share: float = 0.15, valid_share: float = 0.2,
               min_full_share: float = 0.5) -> TimeSplit:
    """Holdout: newest complete cohorts until >= holdout_share of the usable rows;
    valid (early stopping, calibration): the newest remaining cohorts until >= valid_share of
    the train part; fit: the rest. Every fit cohort is older than every valid cohort, which is
    older than every holdout cohort.
    """
    cohorts = frame[COHORT].astype(str)
    usable = complete_cohorts(frame, min_full_share)
    if len(usable) < 3:
        raise ValueError(f"need at least 3 complete cohorts for a time split, got {usable}")
    counts = cohorts.value_counts()
    n_usable = int(counts[usable].sum())
    holdout = _newest_until(usable, counts, holdout_share * n_usable)
    rest = [c for c in usable if c not in holdout]
    n_rest = int(counts[rest].sum())
    valid = _newest_until(rest[1:], counts, valid_share * n_rest) if len(rest) > 1 else []
    fit = [c for c in rest if c not in valid]
    dropped = sorted(set(cohorts) - set(usable))

    def pos(cs: list[str]) -> np.ndarray:
        return np.flatnonzero(cohorts.isin(cs).to_numpy())

    return TimeSplit(pos(fit), pos(valid), pos(holdout), pos(dropped), fit, valid, holdout,
                     dropped)
