"""The significance tests of the four-fifths rule, ported (audit-ai no longer installs).

An impact ratio under 0.8 on a few dozen people is often chance; the EEOC's guidance
(29 CFR 1607.4(D)) and practice pair the ratio with a test of the difference in rates.
Two tests, both two-sided, on the 2x2 table (selected / not selected, group / reference):
Fisher's exact test (exact at any size; the one the audit's flag uses) and the pooled
two-proportion z-test (the large-sample test auditors also quote). Plain math and the
normal tail only, so they are checked against scipy in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Relative tolerance when summing the tables as extreme as the observed one (R and scipy
# use the same idea: probabilities equal up to rounding count as "as extreme").
_EXTREME_RTOL = 1e-7


def _check_counts(selected: int, total: int, name: str) -> None:
    if total < 0 or selected < 0 or selected > total:
        raise ValueError(f"{name}: need 0 <= selected <= total (counts of people)")


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_p(selected_a: int, total_a: int, selected_b: int, total_b: int) -> float:
    """Two-sided p-value of Fisher's exact test that groups a and b are selected at one rate.

    Conditioned on the margins, the selected count of a is hypergeometric; the p-value sums
    the probabilities of every table no more likely than the observed one.
    """
    _check_counts(selected_a, total_a, "group a")
    _check_counts(selected_b, total_b, "group b")
    selected = selected_a + selected_b
    n = total_a + total_b
    if n == 0 or selected in (0, n):
        return 1.0
    lo, hi = max(0, selected - total_b), min(selected, total_a)
    denom = _log_choose(n, selected)

    def log_p(k: int) -> float:
        return _log_choose(total_a, k) + _log_choose(total_b, selected - k) - denom

    observed = log_p(selected_a)
    cutoff = observed + math.log1p(_EXTREME_RTOL)
    p = sum(math.exp(lp) for k in range(lo, hi + 1) if (lp := log_p(k)) <= cutoff)
    return min(1.0, p)


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float


def two_proportion_z(selected_a: int, total_a: int, selected_b: int, total_b: int) -> ZTest:
    """Pooled two-proportion z-test (two-sided) of rate(a) - rate(b); z = 0, p = 1 when the
    pooled rate is 0 or 1 (no variance: nothing to test)."""
    _check_counts(selected_a, total_a, "group a")
    _check_counts(selected_b, total_b, "group b")
    if total_a == 0 or total_b == 0:
        return ZTest(0.0, 1.0)
    pooled = (selected_a + selected_b) / (total_a + total_b)
    var = pooled * (1 - pooled) * (1 / total_a + 1 / total_b)
    if var <= 0:
        return ZTest(0.0, 1.0)
    z = (selected_a / total_a - selected_b / total_b) / math.sqrt(var)
    return ZTest(z, math.erfc(abs(z) / math.sqrt(2)))


def welch_difference(mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float,
                     n_b: int) -> tuple[float, float, float]:
    """Difference of two means with its standard error and a normal two-sided p-value
    (Welch's unpooled variance; the data audit's groups hold hundreds, so normal is fine).
    Returns (difference, standard error, p); NaN standard error and p when a group has
    fewer than two values."""
    diff = mean_a - mean_b
    if n_a < 2 or n_b < 2:
        return diff, math.nan, math.nan
    se = math.sqrt(var_a / n_a + var_b / n_b)
    if se == 0:
        return diff, 0.0, 1.0 if diff == 0 else 0.0
    return diff, se, math.erfc(abs(diff / se) / math.sqrt(2))


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control, no independence
    assumed): many categories compared at once must not flag one by chance alone."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
