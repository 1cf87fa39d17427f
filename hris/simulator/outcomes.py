"""Job performance: quarterly KPI results, first-year attrition and the label they imply.

Generative model (per person, ability units):
    eta  = role intercept + drivers(family, regime) · abilities
    y_q  = eta + u + e_q,  u ~ N(0, person_sd²) persistent, e_q ~ N(0, quarter_sd²) per quarter
    the KPI of quarter q meets its target  <=>  y_q > 0 (the KPI value is a monotone map of y_q)
    before the first review ends a hire leaves with prob early_leave; after each of reviews
    1..3 with prob leave_if_met / leave_if_missed (first-year attrition driven by performance).
Label (DESIGN.md): first four quarterly reviews; met_kpi = at least two of four met and no
departure within the first year. `met_probability` is that probability given eta, exact up to
Gauss-Hermite quadrature over u and linear interpolation on a fine eta grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import expit, logit, ndtr

from hris.simulator.world import ROLE_FAMILIES, World

N_WINDOW = 4
_GRID = np.linspace(-8.0, 8.0, 4001)


def performance_index(world: World, abilities: np.ndarray, role_idx: np.ndarray,
                      drifted: np.ndarray) -> np.ndarray:
    """eta for each row: role intercept plus the (regime's) driver weights times abilities.

    `abilities` may carry extra leading axes (draws); role_idx/drifted index its first axis.
    """
    intercepts = np.array([r.intercept for r in world.roles])
    fam_of_role = np.array([ROLE_FAMILIES.index(r.family) for r in world.roles])
    betas = np.stack([[world.driver_vector(f, d) for f in ROLE_FAMILIES] for d in (False, True)])
    beta = betas[drifted.astype(int), fam_of_role[role_idx]]          # (n, 11)
    if abilities.ndim == 3:
        return intercepts[role_idx][:, None] + np.einsum("nsd,nd->ns", abilities, beta)
    return intercepts[role_idx] + np.einsum("nd,nd->n", abilities, beta)


@lru_cache(maxsize=16)
def _met_curve(person_sd: float, quarter_sd: float, early: float, leave_met: float,
               leave_missed: float) -> np.ndarray:
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    weights = weights / weights.sum()
    pi = ndtr((_GRID[:, None] + person_sd * nodes[None, :]) / quarter_sd)   # (G, K)
    alive = np.zeros((*pi.shape, N_WINDOW + 1))
    alive[..., 0] = 1.0
    for k in range(N_WINDOW):
        met = alive * pi[..., None]
        miss = alive * (1.0 - pi[..., None])
        met = np.concatenate([np.zeros_like(met[..., :1]), met[..., :-1]], axis=-1)
        if k < N_WINDOW - 1:
            met, miss = met * (1.0 - leave_met), miss * (1.0 - leave_missed)
        alive = met + miss
    return (1.0 - early) * (alive[..., 2:].sum(-1) @ weights)


def met_probability(world: World, eta: np.ndarray) -> np.ndarray:
    """P(met_kpi | eta): the p_true of an applicant with performance index eta."""
    curve = _met_curve(world.person_sd, world.quarter_sd, world.early_leave,
                       world.leave_if_met, world.leave_if_missed)
    return np.interp(eta, _GRID, curve)


@dataclass
class LabelDraws:
    """The label window drawn for every applicant as if hired (counterfactual for non-hires)."""

    u: np.ndarray               # persistent performance effect
    y: np.ndarray               # (n, 4) latent quarterly performance of the window
    early: np.ndarray           # left before the first review
    n_reviews: np.ndarray       # reviews inside the window before leaving (0..4)
    left_first_year: np.ndarray
    kpi_attainment: np.ndarray  # share of window reviews that met the KPI (nan if none)
    met_kpi: np.ndarray


def draw_label_window(world: World, eta: np.ndarray, rng: np.random.Generator) -> LabelDraws:
    n = len(eta)
    u = rng.normal(0.0, world.person_sd, n)
    y = eta[:, None] + u[:, None] + rng.normal(0.0, world.quarter_sd, (n, N_WINDOW))
    met = y > 0
    early = rng.random(n) < world.early_leave
    leave = rng.random((n, N_WINDOW - 1)) < np.where(
        met[:, :-1], world.leave_if_met, world.leave_if_missed)
    first_leave = np.where(leave.any(1), leave.argmax(1) + 1, N_WINDOW)
    n_reviews = np.where(early, 0, first_leave)
    left = early | leave.any(1)
    counted = np.arange(N_WINDOW)[None, :] < n_reviews[:, None]
    n_met = (met & counted).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        attainment = np.where(n_reviews > 0, n_met / np.maximum(n_reviews, 1), np.nan)
    return LabelDraws(u=u, y=y, early=early, n_reviews=n_reviews, left_first_year=left,
                      kpi_attainment=attainment, met_kpi=~left & (n_met >= 2))


def kpi_values(world: World, role_idx: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KPI value of each review from latent performance, rounded as reported.

    Rounding is nudged so that "met its target" (direction-aware, with equality counting as
    met) is exactly y > 0, the event the label model uses.
    """
    target = np.array([r.kpi_target for r in world.roles])[role_idx]
    scale = np.array([r.kpi_scale for r in world.roles])[role_idx]
    higher = np.array([r.higher_is_better for r in world.roles])[role_idx]
    decimals = np.array([r.kpi_decimals for r in world.roles])[role_idx]
    is_amount = np.array([r.kpi_name == "monthly_sales" for r in world.roles])[role_idx]
    share = expit(logit(np.clip(target, 1e-6, 1 - 1e-6)) + scale * y)
    ratio = target * np.exp(np.where(higher, 1.0, -1.0) * scale * y)
    value = np.where(is_amount | ~higher, ratio, share)
    step = 10.0 ** -decimals
    k = np.rint(value / step)             # compare on the reported lattice, in integers
    k_target = np.rint(target / step)
    met = y > 0
    k = np.where(higher & met, np.maximum(k, k_target), k)
    k = np.where(higher & ~met, np.minimum(k, k_target - 1), k)
    k = np.where(~higher & met, np.minimum(k, k_target), k)
    k = np.where(~higher & ~met, np.maximum(k, k_target + 1), k)
    value = k * step
    return value
