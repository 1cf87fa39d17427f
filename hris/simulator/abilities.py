"""Latent abilities: correlated Gaussian, identical across genders and other protected groups."""

from __future__ import annotations

import numpy as np

from hris.simulator.world import World


def draw_abilities(world: World, n: int, shifted: np.ndarray, rng: np.random.Generator
                   ) -> np.ndarray:
    """(n, 11) abilities ~ N(mean, world.ability_cov); `shifted` rows use the shifted pool mean.

    Drawn without reference to gender: the planted bias lives only in the human ratings.
    """
    chol = np.linalg.cholesky(world.ability_cov)
    z = rng.standard_normal((n, chol.shape[0]), dtype=np.float64)
    abilities = z @ chol.T
    abilities[shifted] += world.shift_mean
    return abilities


def prior_mean(world: World, shifted: np.ndarray) -> np.ndarray:
    """(n, 11) prior mean of each applicant's abilities (depends on the applicant pool)."""
    return np.where(shifted[:, None], world.shift_mean[None, :], 0.0)
