"""LL144's tables on a small fixed table, against rates and ratios computed by hand.

100 people; each row of GROUPS is (sex, race/ethnicity, aged 40+, people, of whom banded
advance). One non-binary person (1 % of the sample: under the 2 % rule, and selected, so a
wrong inclusion would make them the reference); nine with sex undisclosed and fifteen with
race not given (unknown: counted, never in a ratio).
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from ml.fairness_tables import AuditPolicy, category_labels, impact_table, ll144_tables

GROUPS = [
    ("female", "white", False, 20, 8),
    ("female", "black", True, 15, 3),
    ("female", "asian", False, 5, 2),
    ("male", "white", False, 25, 15),
    ("male", "black", False, 10, 5),
    ("male", "asian", True, 5, 1),
    ("male", None, False, 10, 4),
    ("non_binary", "white", False, 1, 1),
    ("undisclosed", "white", True, 4, 2),
    ("undisclosed", "prefer_not_to_say", False, 5, 1),
]


def fixed_sample() -> pd.DataFrame:
    rows = []
    for sex, race, old, n, advance in GROUPS:
        for i in range(n):
            chosen = i < advance
            rows.append({"gender": sex, "race_ethnicity": race, "age_40_plus": old,
                         "band": "advance" if chosen else "review",
                         "probability": 0.9 if chosen else 0.1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tables():
    return ll144_tables(fixed_sample())


def rows_of(table):
    return {r.category: r for r in table.rows}


def test_sex_rates_ratios_unknowns_and_the_two_percent_rule(tables):
    t = tables["sex"]["selection"]
    rows = rows_of(t)
    assert (t.n_total, t.n_unknown, t.reference) == (100, 9, "male")
    assert (rows["female"].n, rows["female"].selected) == (40, 13)
    assert rows["female"].rate == pytest.approx(13 / 40)
    assert rows["male"].rate == pytest.approx(25 / 50)
    assert rows["male"].impact_ratio == pytest.approx(1.0)
    assert rows["female"].impact_ratio == pytest.approx((13 / 40) / (25 / 50))  # 0.65
    nb = rows["non_binary"]
    assert nb.excluded and nb.impact_ratio is None and (nb.n, nb.rate) == (1, 1.0)
    assert "2%" in nb.reason and nb.share == pytest.approx(0.01)
    assert "undisclosed" not in rows


def test_race_and_the_intersection(tables):
    race = tables["race_ethnicity"]["selection"]
    rows = rows_of(race)
    assert (race.n_unknown, race.reference) == (15, "white")
    assert rows["white"].rate == pytest.approx(26 / 50)
    assert rows["black"].impact_ratio == pytest.approx((8 / 25) / (26 / 50))
    assert rows["asian"].impact_ratio == pytest.approx((3 / 10) / (26 / 50))
    both = tables["sex_race"]["selection"]
    rows = rows_of(both)
    # unknown when either part is: male/None (10), undisclosed/white (4), undisclosed/pnts (5)
    assert (both.n_unknown, both.reference) == (19, "male / white")
    expected = {"female / white": 8 / 20, "female / black": 3 / 15, "female / asian": 2 / 5,
                "male / black": 5 / 10, "male / asian": 1 / 5}
    for category, rate in expected.items():
        assert rows[category].impact_ratio == pytest.approx(rate / (15 / 25)), category
    assert rows["non_binary / white"].excluded


def test_age_40_plus(tables):
    rows = rows_of(tables["age_40_plus"]["selection"])
    assert (rows["40+"].n, rows["40+"].selected) == (24, 6)
    assert rows["40+"].impact_ratio == pytest.approx((6 / 24) / (36 / 76))


def test_a_ratio_under_four_fifths_is_flagged_only_when_significant(tables):
    """And only when the category is selected less often than everyone else."""
    female = rows_of(tables["sex"]["selection"])["female"]
    # tested against all other known people: male 25 of 50 and non-binary 1 of 1
    p = stats.fisher_exact([[13, 27], [26, 25]]).pvalue
    assert female.p_value == pytest.approx(p)
    assert female.impact_ratio < 0.8 and p > 0.05 and not female.flagged
    big = impact_table(["a"] * 1000 + ["b"] * 1000, [True] * 100 + [False] * 900
                       + [True] * 300 + [False] * 700, "x", "selection")
    a = rows_of(big)["a"]
    assert a.impact_ratio == pytest.approx(1 / 3) and a.p_value < 1e-20 and a.flagged


def test_scoring_rate_counts_only_scores_strictly_above_the_sample_median():
    sample = pd.DataFrame({"gender": ["female", "female", "female", "male", "male", "male"],
                           "race_ethnicity": ["white"] * 6, "age_40_plus": [False] * 6,
                           "probability": [0.1, 0.2, 0.6, 0.35, 0.4, 0.5],
                           "band": ["hold"] * 6})
    # median (0.35 + 0.4) / 2 = 0.375: above it female 1 of 3, male 2 of 3
    t = ll144_tables(sample, AuditPolicy(min_share=0.0))["sex"]["scoring"]
    rows = rows_of(t)
    assert rows["female"].rate == pytest.approx(1 / 3) and rows["male"].rate == pytest.approx(
        2 / 3)
    assert rows["female"].impact_ratio == pytest.approx(0.5)
    # on the fixed table everyone banded advance scores 0.9, the rest 0.1 (the median)
    fixed = ll144_tables(fixed_sample())
    assert rows_of(fixed["sex"]["scoring"])["female"].rate == pytest.approx(13 / 40)


def test_unknown_spellings_and_a_missing_column():
    labels = category_labels(pd.DataFrame({"gender": ["undisclosed", None, "", "female"],
                                           "race_ethnicity": ["prefer_not_to_say", None,
                                                              "asian", float("nan")],
                                           "age_40_plus": [None, True, False, pd.NA]}))
    assert labels["sex"].tolist() == [None, None, None, "female"]
    assert labels["race_ethnicity"].tolist() == [None, None, "asian", None]
    assert labels["age_40_plus"].tolist() == [None, "40+", "under 40", None]
    assert labels["sex_race"].isna().all()
    with pytest.raises(ValueError, match="dim_candidates"):
        category_labels(pd.DataFrame({"gender": ["female"]}))


def test_over_a_whole_sample_the_flag_uses_holm_adjusted_p_values():
    """One table alone flags a p of about 0.01; among a sample's many comparisons the same
    gap is adjusted (p_adjusted >= p) and the flag follows the adjusted value."""
    people = pd.DataFrame({
        "gender": ["female"] * 60 + ["male"] * 60,
        "race_ethnicity": (["asian", "black", "white"] * 40),
        "age_40_plus": [False, True] * 60,
        "band": ["advance"] * 10 + ["hold"] * 50 + ["advance"] * 24 + ["hold"] * 36,
        "probability": [0.5] * 120})
    alone = impact_table(category_labels(people)["sex"], people["band"] == "advance", "sex",
                         "selection")
    female = rows_of(alone)["female"]
    assert female.p_value < 0.05 and female.flagged
    tables = ll144_tables(people)
    tested = [r for by_rate in tables.values() for t in by_rate.values() for r in t.rows
              if r.p_value is not None]
    assert len(tested) > 5
    for r in tested:
        assert r.p_adjusted >= r.p_value
        assert r.flagged == (r.impact_ratio is not None and r.impact_ratio < 0.8
                             and r.p_adjusted < 0.05)
    adjusted = rows_of(tables["sex"]["selection"])["female"]
    assert adjusted.p_adjusted > female.p_value


def test_a_tiny_all_selected_reference_does_not_make_a_large_category_significant():
    """The highest category is picked for being highest: 15 of 15 selected. The ratio is
    against it (as LL144 defines), the test against everyone else, so a category at its
    share of the rest is not flagged though its ratio is low."""
    labels = ["tiny"] * 15 + ["big"] * 300 + ["mid"] * 300
    hits = [True] * 15 + [True] * 120 + [False] * 180 + [True] * 120 + [False] * 180
    rows = rows_of(impact_table(labels, hits, "x", "selection"))
    assert rows["big"].impact_ratio == pytest.approx(0.4)
    against_top = stats.fisher_exact([[120, 180], [15, 0]]).pvalue
    assert against_top < 0.01 and rows["big"].p_value > 0.5 and not rows["big"].flagged
    # a category under four-fifths and above everyone else's rate is never flagged
    labels = ["top"] * 100 + ["a"] * 500 + ["low"] * 500
    hits = ([True] * 100 + [True] * 375 + [False] * 125 + [True] * 50 + [False] * 450)
    rows = rows_of(impact_table(labels, hits, "x", "selection"))
    assert rows["a"].impact_ratio == pytest.approx(0.75) and rows["a"].p_value < 1e-6
    assert rows["a"].rate > rows["a"].rest_rate and not rows["a"].flagged
    assert rows["low"].flagged
