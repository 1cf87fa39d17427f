"""Hires' employment: calendar-quarter reviews, terminations, and what is visible at as_of.

The first four reviews and first-year departures come from the label window already drawn
for every applicant (`outcomes.draw_label_window`), so a hire's recorded label equals the
truth's counterfactual label. Later quarters continue with the same persistent effect u.
Reviews are submitted 1-3 weeks after the period ends and exist only if submitted by as_of;
a departure after review k happens inside quarter k+1, so it is not reviewed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hris.simulator.outcomes import N_WINDOW, LabelDraws
from hris.simulator.world import NO_DAY, World

EARLY_REASONS = ("resigned", "relocation", "mutual_agreement")
MISSED_REASONS = ("performance", "performance", "resigned")
MET_REASONS = ("resigned", "better_offer", "relocation")


@dataclass
class Employment:
    hire: np.ndarray            # (h,) candidate index of each hire
    termination_day: np.ndarray  # (h,) days since epoch, NO_DAY if none by as_of
    termination_reason: np.ndarray  # (h,) object: str or None
    # reviews (one row per review visible at as_of)
    r_hire: np.ndarray          # position in `hire`
    r_start: np.ndarray
    r_end: np.ndarray
    r_submitted: np.ndarray
    r_y: np.ndarray             # latent performance of the quarter
    r_okr: np.ndarray
    r_rating: np.ndarray


def _days(months: np.ndarray) -> np.ndarray:
    """First day (days since epoch) of months counted since 1970-01."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def build_employment(world: World, hire_day: np.ndarray, eta: np.ndarray, window: LabelDraws,
                     rng: np.random.Generator, until: dt.date | None = None) -> Employment:
    """Every hire's employment, drawn for the quarters up to `world.as_of` (and the next);
    what happened by `until` (default `world.as_of`) is visible. A later `until` reveals
    more of the same draws (terminations and reviews due later) and changes nothing seen by
    `world.as_of`; a review first seen after it draws its noise from a per-cell grid, so
    the same review reads the same whatever the `until`."""
    drawn_to = (np.datetime64(world.as_of, "D") - np.datetime64(0, "D")).astype(np.int64)
    as_of = (np.datetime64(until or world.as_of, "D") - np.datetime64(0, "D")).astype(np.int64)
    hire = np.flatnonzero(hire_day != NO_DAY)
    h = len(hire)
    hd = hire_day[hire]
    month = hd.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    q0 = month - month % 3
    first = np.where(_days(q0) == hd, q0, q0 + 3)
    as_of_month = np.datetime64(world.as_of, "M").astype(np.int64)
    n_q = max(N_WINDOW + 1, int((as_of_month - first.min()) // 3) + 2 if h else 0)
    starts = _days(first[:, None] + 3 * np.arange(n_q + 1)[None, :])       # (h, n_q+1)
    ends = starts[:, 1:] - 1
    starts = starts[:, :-1]

    # latent performance of every quarter: the window's four, then fresh quarters
    later = eta[hire, None] + window.u[hire, None] + rng.normal(
        0, world.quarter_sd, (h, n_q - N_WINDOW))
    y = np.concatenate([window.y[hire], later], axis=1)
    left = window.left_first_year[hire]
    n_win = window.n_reviews[hire]
    later_leave = rng.random((h, n_q - N_WINDOW)) < world.later_leave
    n_later = np.where(later_leave.any(1), later_leave.argmax(1), n_q - N_WINDOW)
    stays_all = ~left & ~later_leave.any(1)
    n_total = np.where(left, n_win, N_WINDOW + n_later)

    # termination day
    year_end = (pd.to_datetime(hd, unit="D") + pd.DateOffset(years=1)).to_numpy()
    year_end = year_end.astype("datetime64[D]").astype(np.int64)
    u = rng.random(h)
    last = np.maximum(n_total - 1, 0)
    end_last = ends[np.arange(h), last]
    early = window.early[hire]
    term = np.where(early, hd + 14 + np.floor(u * (ends[:, 0] - hd - 14)).astype(np.int64),
                    NO_DAY)
    lo = end_last + 1
    hi = np.minimum(end_last + 60, year_end - 1)
    first_year = left & ~early
    term = np.where(first_year, lo + np.floor(u * (hi - lo + 1)).astype(np.int64), term)
    after = ~left & ~stays_all
    term = np.where(after, end_last + 1 + np.floor(u * 80).astype(np.int64), term)
    pick = rng.integers(0, 3, h)
    last_met = y[np.arange(h), last] > 0
    reason = np.where(early, np.array(EARLY_REASONS, dtype=object)[pick],
                      np.where(last_met, np.array(MET_REASONS, dtype=object)[pick],
                               np.array(MISSED_REASONS, dtype=object)[pick]))
    visible = (term != NO_DAY) & (term <= as_of)
    term = np.where(visible, term, NO_DAY)
    reason = np.where(visible, reason, None)

    # reviews that exist and were submitted by as_of
    submitted = ends + rng.integers(7, 22, ends.shape)
    exists = np.arange(n_q)[None, :] < n_total[:, None]
    rows, cols = np.nonzero(exists & (submitted <= min(as_of, drawn_to)))
    okr_noise = rng.normal(0, 0.6, len(rows))
    rating_noise = rng.normal(0, 0.6, len(rows))
    if as_of > drawn_to:  # revealed later: noise from a grid drawn after everything above
        grid = np.random.default_rng(rng.integers(2**63)).normal(0, 0.6, (2, h, n_q))
        more_rows, more_cols = np.nonzero(exists & (submitted > drawn_to) & (submitted <= as_of))
        rows, cols = np.concatenate([rows, more_rows]), np.concatenate([cols, more_cols])
        okr_noise = np.concatenate([okr_noise, grid[0, more_rows, more_cols]])
        rating_noise = np.concatenate([rating_noise, grid[1, more_rows, more_cols]])
    yk = y[rows, cols]
    okr = np.clip(np.round(0.6 + 0.18 * (yk + okr_noise), 2), 0, 1)
    rating = 1 + np.digitize(yk + rating_noise, [-1.2, -0.4, 0.4, 1.2])
    return Employment(hire=hire, termination_day=term, termination_reason=reason,
                      r_hire=rows, r_start=starts[rows, cols], r_end=ends[rows, cols],
                      r_submitted=submitted[rows, cols], r_y=yk, r_okr=okr, r_rating=rating)
