"""The KPI-driver test: its Wald statistic equals statsmodels' weighted least squares with HC1
errors on the same rows; a change of slopes is found and equal slopes are not; a shifted
score level (rater drift, another applicant pool) is not a change of drivers; too few rows
give no test. Synthetic frames with a known truth; the real worlds are in
test_model_quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from monitoring.kpi_drivers import (
    ATTAINMENT,
    REVIEWS,
    dimension_scores,
    driver_change,
    driver_changes,
)

DIMS = ["communication", "persuasion", "resilience"]


def hires(n: int, slopes: dict[str, float], seed: int, level: float = 0.0,
          reviews: int | None = None) -> pd.DataFrame:
    """`n` hires whose attainment share over their reviews depends on the scores by
    `slopes`; `level` shifts every score without changing what it predicts."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(6.5, 1.5, (n, len(DIMS)))
    frame = pd.DataFrame({"role_family": "sales"}, index=range(n))
    for i, d in enumerate(DIMS):
        frame[f"interviewer_{d}"] = ability[:, i] + rng.normal(0, 0.5, n) + level
        frame[f"ai_{d}"] = np.where(rng.random(n) < 0.25, np.nan,
                                    ability[:, i] + rng.normal(0, 0.5, n) + level)
    logit = sum(slopes.get(d, 0.0) * (ability[:, i] - 6.5) for i, d in enumerate(DIMS))
    p = 1 / (1 + np.exp(-(0.6 + logit)))
    k = rng.integers(1, 4, n) if reviews is None else np.full(n, reviews)
    frame[REVIEWS] = k.astype(float)
    frame[ATTAINMENT] = rng.binomial(k, p) / k
    return frame


OLD = {"communication": 0.5, "persuasion": 0.5, "resilience": 0.15}
NEW = {"communication": 0.25, "persuasion": 0.0, "resilience": 0.2}


def test_the_statistic_equals_statsmodels_wls_with_hc1_errors():
    ref, cur = hires(500, OLD, 1, reviews=4), hires(150, NEW, 2)
    result = driver_change("sales", ref, cur, DIMS)

    both = pd.concat([ref.assign(g=0.0), cur.assign(g=1.0)], ignore_index=True)
    x = dimension_scores(both, DIMS)
    for d in DIMS:
        x[f"{d}_x"] = x[d] * both["g"]
    x.insert(len(DIMS), "g", both["g"])
    fit = sm.WLS(both[ATTAINMENT], sm.add_constant(x), weights=both[REVIEWS]).fit(
        cov_type="HC1")
    names = [f"{d}_x" for d in DIMS]
    diff = fit.params[names].to_numpy()
    chi2 = float(diff @ np.linalg.inv(fit.cov_params().loc[names, names].to_numpy()) @ diff)

    assert result.chi2 == pytest.approx(chi2, rel=1e-8)
    assert result.p_value == pytest.approx(stats.chi2.sf(chi2, len(DIMS)), rel=1e-8)
    assert result.moves == pytest.approx(dict(zip(DIMS, diff, strict=True)), rel=1e-8)
    assert (result.n_reference, result.n_current, result.df) == (500, 150, 3)


def test_changed_drivers_are_found_and_named():
    result = driver_change("sales", hires(600, OLD, 3, reviews=4), hires(200, NEW, 4), DIMS)
    assert result.p_value < 1e-4
    assert result.biggest_moves(1)[0][0] == "persuasion" and result.moves["persuasion"] < 0


@pytest.mark.parametrize("level", [0.0, -0.5, 0.4])
def test_the_same_drivers_at_any_score_level_are_not_a_change(level):
    """Equal slopes, the current scores shifted (harsher raters, another pool) or not: the
    test stays quiet across seeds (no p-value under 0.001 in twenty draws)."""
    ps = [driver_change("sales", hires(600, OLD, 10 + s, reviews=4),
                        hires(200, OLD, 50 + s, level=level), DIMS).p_value
          for s in range(20)]
    assert min(ps) > 1e-3
    assert np.mean(np.array(ps) < 0.05) <= 0.2  # about 5 % expected: no systematic excess


def test_too_few_rows_give_no_test_and_families_are_tested_apart():
    assert driver_change("sales", hires(600, OLD, 5, reviews=4), hires(3, NEW, 6), DIMS) is None
    ref = pd.concat([hires(400, OLD, 7, reviews=4),
                     hires(400, OLD, 8, reviews=4).assign(role_family="rnd")])
    cur = hires(150, NEW, 9)  # sales only: rnd has nothing to test
    (only,) = driver_changes(ref, cur)
    assert only.role_family == "sales" and only.p_value < 1e-3
