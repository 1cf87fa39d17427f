"""Have the KPI's drivers moved? Concept drift seen in the reviews, a year before the labels.

Concept drift changes which interview dimensions predict performance (the simulator's
R&D: innovation up, technical depth down). The champion's own early figures barely see it
(monitoring.loop_trigger: the pooled early AUC moved at most 0.029 under concept drift at
20,000 applicants), because a cohort's first reviews rank hires noisily whatever the
world. This asks the question directly and without the model: per role family, does KPI
attainment depend on the family's dimension scores the way it did in the champion's own
cohorts?

One weighted least-squares fit per family of attainment on the dimension scores, the
champion's own mature hires (reference, `kpi_attainment` over four reviews) and its unseen
hires (current: mature ones and those with one to three reviews, `attainment_so_far`)
together, with a group term and a slope difference per dimension. Each hire is weighted by
its reviews (an attainment share over n reviews has variance about 1/n); a slope does not
depend on how many reviews are averaged, only its noise does, so early and mature hires
share one scale. The Wald test of "every slope difference is zero" uses heteroskedasticity-
robust (HC1) errors: chi² with one degree of freedom per dimension, and its p-value is
the figure the trigger tests. `moves` keeps each dimension's slope difference (attainment
per score point, current − reference): the reason a reader sees.

A dimension's score is the mean of the interviewers' and the AI's score where both exist;
rater drift (harsher interviewers) and covariate shift (another applicant pool) move the
scores' levels, not their slopes, and leave this test alone. Which dimensions a family
has is monitoring.feedback's definition.

Measured on bench/loop.py's 20,000-applicant worlds (first cohort after the change, 50-90
hires per family with three reviews): concept drift p 4.6e-8 to 8.4e-4 in every family;
the stable world's smallest p over twenty family-cohorts 0.005.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ml.features import FAMILY_COLUMN
from ml.windows import ATTAINMENT_SO_FAR, N_SO_FAR, REVIEWS_TO_MATURE
from monitoring.feedback import family_dimensions

ATTAINMENT, REVIEWS = "attainment", "reviews"


@dataclass(frozen=True)
class DriverChange:
    """The test of one family: were the slopes of attainment on its dimensions the same?"""

    role_family: str
    n_reference: int
    n_current: int
    chi2: float
    df: int
    p_value: float
    moves: dict[str, float] = field(default_factory=dict)  # dimension -> slope difference

    def biggest_moves(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.moves.items(), key=lambda kv: -abs(kv[1]))[:k]


def mature_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Mature hires who stayed (four reviews): attainment over them, weight four."""
    rows = frame[pd.to_numeric(frame["n_label_reviews"], errors="coerce") >= REVIEWS_TO_MATURE]
    return rows.assign(**{ATTAINMENT: pd.to_numeric(rows["kpi_attainment"]),
                          REVIEWS: float(REVIEWS_TO_MATURE)})


def early_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Hires with one to three reviews: attainment so far, weighted by the reviews."""
    n = pd.to_numeric(frame[N_SO_FAR], errors="coerce")
    rows = frame[n >= 1]
    return rows.assign(**{ATTAINMENT: pd.to_numeric(rows[ATTAINMENT_SO_FAR]),
                          REVIEWS: n[n >= 1].astype(float)})


def dimension_scores(rows: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Per dimension, the mean of the interviewers' and the AI's score (whichever exist)."""
    out = {}
    for d in dims:
        cols = [c for c in (f"interviewer_{d}", f"ai_{d}") if c in rows]
        out[d] = rows[cols].apply(pd.to_numeric, errors="coerce").mean(axis=1)
    return pd.DataFrame(out, index=rows.index)


def _wald_slope_difference(scores: np.ndarray, group: np.ndarray, y: np.ndarray,
                           w: np.ndarray) -> tuple[np.ndarray, float]:
    """WLS of y on [1, scores, group, scores × group]; the slope differences and the HC1
    Wald chi² that they are all zero."""
    n, k = scores.shape
    x = np.column_stack([np.ones(n), scores, group, scores * group[:, None]])
    xw = x * w[:, None]
    bread = np.linalg.pinv(x.T @ xw)
    beta = bread @ (xw.T @ y)
    resid = y - x @ beta
    meat = (xw * resid[:, None]).T @ (xw * resid[:, None])
    cov = bread @ meat @ bread * n / max(n - x.shape[1], 1)
    diff = beta[-k:]
    block = cov[-k:, -k:]
    return diff, float(diff @ np.linalg.pinv(block) @ diff)


def driver_change(family: str, reference: pd.DataFrame, current: pd.DataFrame,
                  dims: list[str]) -> DriverChange | None:
    """The test for one family (None: no dimension, or too few rows to fit both sides)."""
    parts = []
    for g, rows in ((0.0, reference), (1.0, current)):
        scores = dimension_scores(rows, dims)
        block = scores.assign(_g=g, _y=rows[ATTAINMENT], _w=rows[REVIEWS]).dropna()
        parts.append(block)
    n_ref, n_cur = len(parts[0]), len(parts[1])
    if not dims or min(n_ref, n_cur) <= len(dims) + 1:
        return None
    both = pd.concat(parts, ignore_index=True)
    diff, chi2 = _wald_slope_difference(both[dims].to_numpy(float), both["_g"].to_numpy(),
                                        both["_y"].to_numpy(float), both["_w"].to_numpy(float))
    p = float(stats.chi2.sf(chi2, len(dims)))
    return DriverChange(family, n_ref, n_cur, chi2, len(dims), p,
                        {d: float(v) for d, v in zip(dims, diff, strict=True)})


def driver_changes(reference: pd.DataFrame, current: pd.DataFrame) -> list[DriverChange]:
    """One test per role family present on both sides. `reference` and `current` carry
    ATTAINMENT and REVIEWS (mature_outcomes / early_outcomes) and the feature columns."""
    out = []
    for family, ref in reference.groupby(FAMILY_COLUMN, sort=True):
        cur = current[current[FAMILY_COLUMN] == family]
        result = driver_change(str(family), ref, cur, family_dimensions(ref))
        if result is not None:
            out.append(result)
    return out


__all__ = ["ATTAINMENT", "REVIEWS", "DriverChange", "dimension_scores", "driver_change",
           "driver_changes", "early_outcomes", "mature_outcomes"]
