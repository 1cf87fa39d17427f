"""NYC Local Law 144's bias-audit tables (DCWP rules, 6 RCNY §5-301) for one scored sample.

For sex, race/ethnicity, their intersection and age 40+ (the ADEA's threshold, reported
beside them): per category the count, the selection rate (share banded `advance`) and the
scoring rate (share scoring above the whole sample's median), and the impact ratio of each
rate against the highest category's. As the rule asks:
- people in an unknown category (undisclosed, not given) are counted and left out of the
  ratios;
- a category under `min_share` (2 %) of the sample may be left out of the ratios, and is
  then listed with its count, its rate and the reason;
- beside each ratio, a significance test: the four-fifths flag is raised only for a ratio
  under 0.8 of a category selected less often than everyone else, significantly so.

The test compares the category with all other known people (Fisher's exact), not with the
highest category: that one is picked for being highest, and in a small sample it is often
a handful of people who all happened to be selected (9 of 9), against whom every category
looks significantly worse. Over a whole sample (every attribute, both rates) the p-values
are Holm-adjusted before the flag, so thirty small intersections do not flag one by chance
(`p_value` stays the test's own).

The audit measures; it never adjusts. No group-specific threshold or score correction is
computed or applied here or anywhere (Title VII §703(l) forbids them for hiring decisions).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ml.fairness_stats import fisher_exact_p, holm_adjust, two_proportion_z

ADVANCE = "advance"
UNKNOWN = "unknown"
# dim_candidates' columns and the values that mean "not known".
SEX_COLUMN, RACE_COLUMN, AGE_COLUMN = "gender", "race_ethnicity", "age_40_plus"
UNKNOWN_VALUES = frozenset({"undisclosed", "prefer_not_to_say", ""})
AGE_LABELS = {True: "40+", False: "under 40"}
# Reported attributes, in report order; "sex_race" is the intersection.
ATTRIBUTES = ("sex", "race_ethnicity", "sex_race", "age_40_plus")
RATES = ("selection", "scoring")


@dataclass(frozen=True)
class AuditPolicy:
    """min_share: a category under this share of the sample is left out of the ratios
    (LL144 allows 2 %). four_fifths: the impact ratio under which a category is flagged
    when the difference is also significant at `alpha` (Fisher's exact, two-sided)."""

    min_share: float = 0.02
    four_fifths: float = 0.8
    alpha: float = 0.05


@dataclass(frozen=True)
class CategoryRow:
    category: str
    n: int
    share: float            # of the whole sample, unknowns included
    selected: int           # selected (selection rate) or above the median (scoring rate)
    rate: float
    impact_ratio: float | None  # None when excluded (or the highest rate is 0)
    p_value: float | None   # Fisher's exact vs all other known people; None if excluded
    z: float | None         # the two-proportion z statistic of the same comparison
    flagged: bool           # ratio < four_fifths, rate < rest_rate and p_adjusted < alpha
    excluded: bool = False
    reason: str = ""
    p_adjusted: float | None = None  # Holm over the sample's comparisons (ll144_tables)
    rest_rate: float | None = None   # the rate of all other known people


@dataclass(frozen=True)
class ImpactTable:
    """One attribute, one rate: the categories, the unknowns, the reference category."""

    attribute: str
    rate: str
    n_total: int
    n_unknown: int
    reference: str | None
    rows: list[CategoryRow] = field(default_factory=list)

    @property
    def flagged(self) -> list[CategoryRow]:
        return [r for r in self.rows if r.flagged]

    def ratios(self) -> dict[str, float]:
        return {r.category: r.impact_ratio for r in self.rows if r.impact_ratio is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "rate": self.rate, "n_total": self.n_total,
                "n_unknown": self.n_unknown, "reference": self.reference,
                "rows": [asdict(r) for r in self.rows]}


def _known(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return False
    return str(value).strip() not in UNKNOWN_VALUES


def category_labels(people: pd.DataFrame) -> pd.DataFrame:
    """The reported categories of each person (None for unknown), from dim_candidates'
    gender, race_ethnicity and age_40_plus columns."""
    for column in (SEX_COLUMN, RACE_COLUMN, AGE_COLUMN):
        if column not in people.columns:
            raise ValueError(f"the audit sample lacks column {column!r}: join it from "
                             "marts.dim_candidates")
    sex = [str(v) if _known(v) else None for v in people[SEX_COLUMN]]
    race = [str(v) if _known(v) else None for v in people[RACE_COLUMN]]
    age = [AGE_LABELS[bool(v)] if _known(v) else None for v in people[AGE_COLUMN]]
    both = [f"{s} / {r}" if s is not None and r is not None else None
            for s, r in zip(sex, race, strict=True)]
    return pd.DataFrame({"sex": sex, "race_ethnicity": race, "sex_race": both,
                         "age_40_plus": age}, index=people.index, dtype=object)


def impact_table(labels: Iterable[str | None], hits: Iterable[bool], attribute: str,
                 rate: str, policy: AuditPolicy | None = None) -> ImpactTable:
    """The LL144 table of one attribute: `labels` per person (None = unknown), `hits` per
    person (selected, or scored above the median)."""
    policy = policy or AuditPolicy()
    frame = pd.DataFrame({"label": list(labels), "hit": np.asarray(list(hits), dtype=bool)})
    n_total = len(frame)
    known = frame[frame["label"].notna()]
    counts = known.groupby("label")["hit"].agg(["size", "sum"])
    if n_total == 0:
        return ImpactTable(attribute, rate, 0, 0, None, [])
    share = counts["size"] / n_total
    included = counts[share >= policy.min_share]
    rates = included["sum"] / included["size"]
    # the reference is the highest rate; a tie goes to the larger category, then the name
    reference = None
    if not rates.empty:
        tied = included[rates == rates.max()].sort_values("size", ascending=False,
                                                          kind="stable")
        reference = str(tied.index[0])
    rows = []
    for category, (size, hit) in counts.sort_index().iterrows():
        size, hit = int(size), int(hit)
        cat_rate = hit / size
        if category not in included.index:
            rows.append(CategoryRow(
                str(category), size, size / n_total, hit, cat_rate, None, None, None, False,
                excluded=True,
                reason=f"under {policy.min_share:.0%} of the sample: left out of the impact "
                       "ratios (LL144 allows it), shown with its count and rate"))
            continue
        ref_size, ref_hit = (int(v) for v in counts.loc[reference])
        ref_rate = ref_hit / ref_size
        ratio = cat_rate / ref_rate if ref_rate > 0 else None
        rest_size, rest_hit = len(known) - size, int(known["hit"].sum()) - hit
        rest_rate = rest_hit / rest_size if rest_size else None
        p = fisher_exact_p(hit, size, rest_hit, rest_size)
        z = two_proportion_z(hit, size, rest_hit, rest_size).z
        row = CategoryRow(str(category), size, size / n_total, hit, cat_rate, ratio, p, z,
                          False, p_adjusted=p, rest_rate=rest_rate)
        rows.append(replace(row, flagged=_flag(row, p, policy)))
    return ImpactTable(attribute, rate, n_total, n_total - len(known), reference, rows)


def _flag(row: CategoryRow, p: float, policy: AuditPolicy) -> bool:
    """Under four-fifths of the highest rate, below everyone else's, significantly."""
    return (row.impact_ratio is not None and row.impact_ratio < policy.four_fifths
            and row.rest_rate is not None and row.rate < row.rest_rate and p < policy.alpha)


def rate_hits(sample: pd.DataFrame) -> dict[str, np.ndarray]:
    """Who counts as a hit for each rate: banded `advance` (selection), scored strictly
    above the median score of the whole sample (scoring)."""
    for column in ("probability", "band"):
        if column not in sample.columns:
            raise ValueError(f"the audit sample lacks column {column!r} (the model's score "
                             "and band per person)")
    score = pd.to_numeric(sample["probability"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(score).any():
        raise ValueError("the audit sample has people without a score: drop them first")
    median = float(np.median(score)) if len(score) else math.nan
    return {"selection": sample["band"].to_numpy() == ADVANCE, "scoring": score > median}


def ll144_tables(sample: pd.DataFrame, policy: AuditPolicy | None = None
                 ) -> dict[str, dict[str, ImpactTable]]:
    """Every LL144 table of a scored sample: {attribute: {rate: ImpactTable}}.

    `sample`: one row per person with probability, band and dim_candidates' gender,
    race_ethnicity, age_40_plus.
    """
    policy = policy or AuditPolicy()
    labels = category_labels(sample)
    hits = rate_hits(sample)
    tables = {attr: {rate: impact_table(labels[attr], hits[rate], attr, rate, policy)
                     for rate in RATES} for attr in ATTRIBUTES}
    return holm_flags(tables, policy)


def holm_flags(tables: dict[str, dict[str, ImpactTable]], policy: AuditPolicy
               ) -> dict[str, dict[str, ImpactTable]]:
    """The tables with p_adjusted (Holm over every tested category of every table) and the
    flag set on it."""
    tested = [(a, r, i) for a, by_rate in tables.items() for r, t in by_rate.items()
              for i, row in enumerate(t.rows) if row.p_value is not None]
    adjusted = holm_adjust([tables[a][r].rows[i].p_value for a, r, i in tested])
    rows = {(a, r): list(t.rows) for a, by_rate in tables.items() for r, t in by_rate.items()}
    for (a, r, i), p in zip(tested, adjusted, strict=True):
        row = rows[(a, r)][i]
        rows[(a, r)][i] = replace(row, p_adjusted=p, flagged=_flag(row, p, policy))
    return {a: {r: replace(t, rows=rows[(a, r)]) for r, t in by_rate.items()}
            for a, by_rate in tables.items()}


def tables_to_dict(tables: dict[str, dict[str, ImpactTable]]) -> dict[str, Any]:
    return {attr: {rate: t.to_dict() for rate, t in by_rate.items()}
            for attr, by_rate in tables.items()}
