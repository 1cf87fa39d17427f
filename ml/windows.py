"""Data windows for retraining: which hires a challenger learns from, and how much each counts.

After the KPI's drivers change (concept drift), old cohorts teach the old world. Three
windows, each one challenger, all trained by the same code (ml.training_run) on a frame
that carries a weight per row (ml.features.WEIGHT):
- `all`: every mature cohort, each hire weight 1;
- `recent`: only the newest `recent_quarters` mature cohorts;
- `recency`: every mature cohort, weighted 0.5 ** (age in quarters / half-life).
The newest mature cohort (the gate cohort) is held out of every window: the gate
(ml.retrain) scores every challenger and the champion on it.

Partial labels (`partial_labels`): hires whose label has not matured yet (fewer than four
reviews) join the fit part with the label their reviews so far give (attainment so far
>= 0.5, the label's own rule) and weight n_reviews / 4 on top of the window's weight: a
hire with one review is a quarter of the evidence of a mature label. Only hires of cohorts
after the gate cohort do: the gate cohort is held out whole. They never enter the
validation part (early stopping, calibration) or the holdout, which stay mature labels.

The early route's rows (`early_gate_rows`): every immature hire of the cohorts after the gate
cohort with at least `early_gate_min_reviews` reviews, labelled provisionally by the reviews
so far (ml.retrain: the early route). Six quarters after a change the only post-change
mature cohort is the gate cohort itself; the cohorts hired since are where a challenger that
learned the new world shows it. Those hires also train every challenger (partial labels),
so the gate judges each challenger there by cross-fitting (ml.crossfit, `early_gate_folds`):
out-of-fold predictions of the same window trained without the fold's partial labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.features import LABEL, WEIGHT
from ml.split import COHORT, TimeSplit, complete_cohorts, time_split

WINDOWS = ("all", "recent", "recency")
# The columns of the early outcomes (marts.fct_early_outcomes) a partial label comes from.
N_SO_FAR = "n_reviews_so_far"
ATTAINMENT_SO_FAR = "attainment_so_far"
REVIEWS_TO_MATURE = 4
PARTIAL = "partial_label"   # bookkeeping column of a window frame: True for a partial label
MAX_FOLDS = 5


@dataclass(frozen=True)
class WindowPolicy:
    """Which challengers a retrain trains (one per window) and on what."""

    windows: tuple[str, ...] = field(default=WINDOWS, metadata={
        "description": "challengers to train: all, recent and/or recency"})
    recent_quarters: int = field(default=4, metadata={
        "description": "mature cohorts the `recent` window keeps (at least 3: the time split "
                       "needs fit, validation and holdout cohorts)"})
    half_life_quarters: float = field(default=2.0, metadata={
        "description": "recency weights: a cohort this many quarters older counts half"})
    partial_labels: bool = field(default=True, metadata={
        "description": "immature hires' reviews so far join the fit part, weighted n/4"})
    early_gate_folds: int = field(default=2, metadata={
        "description": "the early route's cross-fitting: folds (by a hash of the pseudonym) "
                       "of the immature hires it judges on, each predicted by the window "
                       "retrained without that fold's partial labels (0: no early route)"})
    early_gate_min_reviews: int = field(default=2, metadata={
        "description": "reviews a held-out immature hire needs to count in the early holdout"})

    def __post_init__(self) -> None:
        if not self.windows or set(self.windows) - set(WINDOWS):
            raise ValueError(f"windows must be some of {', '.join(WINDOWS)}")
        if self.recent_quarters < 3:
            raise ValueError("recent_quarters must be at least 3 (fit, validation, holdout)")
        if not self.half_life_quarters > 0:
            raise ValueError("half_life_quarters must be positive")
        if self.early_gate_folds not in (0, *range(2, MAX_FOLDS + 1)):
            raise ValueError(f"early_gate_folds must be 0 (off) or 2..{MAX_FOLDS}")
        if not 1 <= self.early_gate_min_reviews < REVIEWS_TO_MATURE:
            raise ValueError(f"early_gate_min_reviews must be 1..{REVIEWS_TO_MATURE - 1}")


def quarter_index(cohorts: pd.Series) -> np.ndarray:
    """'2024-Q3' -> 2024 * 4 + 2: quarters count up by one."""
    parts = cohorts.astype(str).str.extract(r"^(\d{4})-Q([1-4])$")
    if parts.isna().any().any():
        raise ValueError("cohort_quarter must look like 2024-Q3")
    return parts[0].astype(int).to_numpy() * 4 + parts[1].astype(int).to_numpy() - 1


def gate_cohort(mature: pd.DataFrame) -> str:
    """The newest complete cohort (ml.split's rule): the one every challenger is judged on."""
    complete = complete_cohorts(mature)
    if not complete:
        raise ValueError("no mature cohort to judge challengers on: a retrain needs hires "
                         "with four reviews (or who left); load a longer history")
    return complete[-1]


def partial_rows(early: pd.DataFrame) -> pd.DataFrame:
    """Immature hires with at least one review as training rows: met_kpi from the reviews so
    far (attainment >= 0.5), weight n_reviews / 4, n_label_reviews = reviews so far."""
    rows = early[pd.to_numeric(early[N_SO_FAR]) > 0].copy()
    attainment = pd.to_numeric(rows[ATTAINMENT_SO_FAR]).astype(float)
    rows[LABEL] = attainment >= 0.5
    rows["kpi_attainment"] = attainment
    rows["n_label_reviews"] = pd.to_numeric(rows[N_SO_FAR]).astype(int)
    rows[WEIGHT] = rows["n_label_reviews"] / REVIEWS_TO_MATURE
    return rows.drop(columns=[N_SO_FAR, ATTAINMENT_SO_FAR])


def _after(rows: pd.DataFrame, gate: str) -> pd.DataFrame:
    return rows.loc[quarter_index(rows[COHORT]) > quarter_index(pd.Series([gate]))[0]]


def early_gate_rows(early: pd.DataFrame | None, gate: str,
                    policy: WindowPolicy) -> pd.DataFrame:
    """The early route's rows: immature hires of cohorts after `gate` with at least
    `early_gate_min_reviews` reviews, labelled by their reviews so far (no weight column:
    every row counts once); empty when the policy has no early route."""
    if early is None or not len(early) or policy.early_gate_folds == 0:
        return pd.DataFrame()
    rows = _after(partial_rows(early), gate)
    rows = rows.loc[rows["n_label_reviews"] >= policy.early_gate_min_reviews]
    return rows.drop(columns=[WEIGHT]).reset_index(drop=True)


@dataclass
class WindowFrame:
    """One challenger's training frame, its split (positions into `frame`) and a summary."""

    name: str
    frame: pd.DataFrame
    split: TimeSplit
    info: dict


def window_frame(mature: pd.DataFrame, window: str, policy: WindowPolicy, gate: str,
                 early: pd.DataFrame | None = None, holdout_share: float = 0.15,
                 valid_share: float = 0.2) -> WindowFrame:
    """The training frame of `window`: mature hires of cohorts older than `gate` (the gate
    cohort never trains a challenger; later cohorts only through partial labels), with
    weights, and partial-label rows of cohorts after `gate` (when the policy says so)
    appended to the fit part."""
    if window not in WINDOWS:
        raise ValueError(f"a window must be one of {', '.join(WINDOWS)}")
    gate_q = quarter_index(pd.Series([gate]))[0]
    q = quarter_index(mature[COHORT])
    rows = mature.loc[q < gate_q].copy()
    rows_q = q[q < gate_q]
    if window == "recent":
        keep = set(complete_cohorts(rows)[-policy.recent_quarters:])
        sel = rows[COHORT].astype(str).isin(keep).to_numpy()
        rows, rows_q = rows.loc[sel], rows_q[sel]
    weight = np.ones(len(rows))
    if window == "recency":
        weight = 0.5 ** ((gate_q - rows_q) / policy.half_life_quarters)
    rows[WEIGHT] = weight
    rows[PARTIAL] = False
    rows = rows.reset_index(drop=True)
    split = time_split(rows, holdout_share, valid_share)
    n_partial = 0
    if policy.partial_labels and early is not None and len(early):
        # the gate cohort is held out whole: only hires of later cohorts bring partial labels
        extra = _after(partial_rows(early), gate)
        if window == "recent":  # the window's span: its oldest cohort onwards
            oldest = min(quarter_index(pd.Series(split.fit_cohorts or [gate])))
            extra = extra.loc[quarter_index(extra[COHORT]) >= oldest]
        if window == "recency":
            age = np.maximum(gate_q - quarter_index(extra[COHORT]), 0)
            extra[WEIGHT] = extra[WEIGHT] * 0.5 ** (age / policy.half_life_quarters)
        extra[PARTIAL] = True
        n_partial = len(extra)
        start = len(rows)
        rows = pd.concat([rows, extra[[c for c in extra.columns if c in rows.columns]]],
                         ignore_index=True)
        split.fit = np.concatenate([split.fit, np.arange(start, len(rows))])
    info = {
        "window": window, "gate_cohort": gate,
        "cohorts": sorted(set(split.fit_cohorts + split.valid_cohorts)),
        "holdout_cohorts": list(split.holdout_cohorts),
        "n_mature": int(len(split.train) - n_partial), "n_partial": int(n_partial),
        "weight_sum": round(float(rows[WEIGHT].iloc[split.train].sum()), 3),
        "recent_quarters": policy.recent_quarters if window == "recent" else None,
        "half_life_quarters": policy.half_life_quarters if window == "recency" else None,
        "partial_labels": bool(policy.partial_labels),
    }
    return WindowFrame(window, rows, split, info)


__all__ = ["MAX_FOLDS", "WINDOWS", "WindowFrame", "WindowPolicy", "early_gate_rows",
           "gate_cohort", "partial_rows", "quarter_index", "window_frame"]
