"""The four-fifths rule's significance tests, ported from audit-ai's idea, against scipy."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from ml.fairness_stats import fisher_exact_p, holm_adjust, two_proportion_z, welch_difference

TABLES = [(13, 40, 25, 50), (3, 15, 36, 76), (0, 5, 5, 5), (1, 1, 0, 30), (100, 1000, 300, 1000),
          (7, 9, 2, 11), (250, 3000, 260, 3100), (0, 0, 3, 10)]


@pytest.mark.parametrize(("sa", "na", "sb", "nb"), TABLES)
def test_fisher_exact_matches_scipy(sa, na, sb, nb):
    expected = stats.fisher_exact([[sa, na - sa], [sb, nb - sb]],
                                  alternative="two-sided").pvalue
    assert fisher_exact_p(sa, na, sb, nb) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_two_proportion_z_matches_the_textbook_formula_and_the_normal_tail():
    # 10 % vs 30 % of 1,000 each: pooled 0.2, se = sqrt(0.2 * 0.8 * 2 / 1000)
    result = two_proportion_z(100, 1000, 300, 1000)
    assert result.z == pytest.approx(-0.2 / math.sqrt(0.2 * 0.8 * 0.002), rel=1e-12)
    assert result.z == pytest.approx(-11.1803, abs=1e-4)
    for sa, na, sb, nb in TABLES[:2] + TABLES[4:7]:
        r = two_proportion_z(sa, na, sb, nb)
        assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(r.z)), rel=1e-9)


def test_nothing_to_test_gives_p_one_not_a_division_by_zero():
    assert two_proportion_z(0, 10, 0, 20).p_value == 1.0
    assert two_proportion_z(5, 5, 9, 9).p_value == 1.0
    assert fisher_exact_p(0, 10, 0, 20) == 1.0


def test_impossible_counts_are_refused_with_what_to_pass():
    with pytest.raises(ValueError, match="selected <= total"):
        fisher_exact_p(5, 3, 1, 10)
    with pytest.raises(ValueError, match="selected <= total"):
        two_proportion_z(-1, 3, 1, 10)


def test_welch_difference_matches_scipy_with_a_large_sample_normal_p():
    a, b = [1.0, 2.0, 3.0, 4.0, 6.0] * 20, [2.0, 3.0, 5.0, 5.0, 7.0] * 20
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    var = lambda xs: sum((x - mean(xs)) ** 2 for x in xs) / (len(xs) - 1)  # noqa: E731
    diff, se, p = welch_difference(mean(a), var(a), len(a), mean(b), var(b), len(b))
    t = stats.ttest_ind(a, b, equal_var=False)
    assert diff / se == pytest.approx(t.statistic, rel=1e-12)
    assert p == pytest.approx(2 * stats.norm.sf(abs(t.statistic)), rel=1e-9)
    assert math.isnan(welch_difference(1.0, 0.0, 1, 2.0, 1.0, 10)[1])


def test_holm_adjustment_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, kept monotone: 0.02 0.03 0.06 0.06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []
