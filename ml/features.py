"""Choose model inputs from a feature-store frame, and keep protected attributes out.

Protected attributes (gender, age, race, ...) and personal data never enter a model: any
column whose name matches a banned pattern is dropped when features are chosen, and asking
for one explicitly raises `BannedFeatureError`. The fairness audit reads them elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

# Name patterns (on underscore-separated tokens) of protected attributes, personal data and
# anything derived from them (age_band, age_40_plus, birth_year, gender_female,
# race_ethnicity, ...).
BANNED_PATTERNS: tuple[str, ...] = (
    r"gender", r"sex", r"(^|_)age(_|$)", r"age_?band", r"birth", r"race", r"ethnic",
    r"national", r"(^|_)name(_|$)", r"full_?name", r"email", r"phone", r"religio",
    r"disab", r"pregnan", r"marital", r"nationality",
)
_BANNED = re.compile("|".join(f"(?:{p})" for p in BANNED_PATTERNS), re.IGNORECASE)

# Identifiers, labels, dates and bookkeeping: never inputs.
NON_FEATURES: frozenset[str] = frozenset({
    "candidate_id", "employee_id", "role_id", "applied_role_id", "role_family", "status",
    "hire_date", "application_date", "cohort_quarter", "feature_cutoff_date",
    "first_interview_date", "last_interview_date", "first_review_period_start",
    "features_as_of_date", "kpi_attainment", "met_kpi", "retained_12m", "n_label_reviews",
    "education", "request_id", "sample_weight", "partial_label", "n_reviews_so_far",
    "attainment_so_far",
})
# A training frame may carry a weight per row (ml.windows: recency, partial labels); the
# trainer honours it (ml.train), it is never an input.
WEIGHT = "sample_weight"
# Excluded by default, not banned: years_experience is close to a function of age (a proxy
# for a protected attribute), and in the simulated world it carries no signal.
DEFAULT_EXCLUDED: tuple[str, ...] = ("years_experience",)

SCORE_PREFIXES: tuple[str, ...] = ("interviewer_", "ai_")
RATING_COLUMNS_PREFIX = "overall_rating_"
FAMILY_COLUMN = "role_family"
LABEL = "met_kpi"


class BannedFeatureError(ValueError):
    """A protected attribute (or something derived from one) was asked for as a model input."""


def is_banned(column: str) -> bool:
    return bool(_BANNED.search(column))


def assert_allowed(columns: Iterable[str]) -> None:
    """Raise BannedFeatureError naming every banned column among `columns`."""
    banned = sorted(c for c in columns if is_banned(c))
    if banned:
        raise BannedFeatureError(f"protected attributes may never be model inputs: {banned}")


def numeric_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """`columns` as one float64 array (rows x columns), values as `pd.to_numeric(coerce)` gives.

    The scoring path's conversion: a column that is already a NumPy number is copied as is,
    only the rest (the feature store's nullable numerics arrive as objects) goes through
    `pd.to_numeric`, so a request of plain floats pays no per-column pandas machinery.
    Does not check the banned list: callers pass columns they have checked.
    """
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = frame[name]
        dtype = col.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            out[:, j] = col.to_numpy()
        else:
            out[:, j] = pd.to_numeric(col, errors="coerce").astype(np.float64).to_numpy()
    return out


def numeric_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`columns` as float64 (the feature store returns nullable numerics as objects)."""
    assert_allowed(columns)
    return pd.DataFrame(numeric_matrix(frame, columns), columns=list(columns), index=frame.index)


def select_features(frame: pd.DataFrame, include: Sequence[str] | None = None,
                    exclude: Sequence[str] = DEFAULT_EXCLUDED) -> list[str]:
    """The numeric input columns of `frame`, in frame order.

    `include` asks for columns explicitly (a banned one raises); otherwise every numeric,
    non-banned, non-bookkeeping column with at least one value is taken.
    """
    if include is not None:
        assert_allowed(include)
        missing = [c for c in include if c not in frame.columns]
        if missing:
            raise KeyError(f"requested feature columns not in the frame: {missing}")
        return list(include)
    chosen = []
    for col in frame.columns:
        if col in NON_FEATURES or col in exclude or is_banned(col):
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().any() and frame[col].dtype != bool:
            chosen.append(col)
    return chosen


def is_interview_signal(column: str) -> bool:
    """Interview scores, ratings and key-question / answer flags: 'better' is never worse."""
    return (column.startswith(SCORE_PREFIXES) or column.startswith(RATING_COLUMNS_PREFIX)
            or (column.startswith("key_") and column.endswith("_answered_fully_share"))
            or column in ("answered_fully_share", "recommend_share"))


def monotone_constraints(features: Sequence[str], enabled: bool = True,
                         overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """+1 for interview signals when enabled, 0 otherwise; `overrides` win per column."""
    out = {f: int(enabled and is_interview_signal(f)) for f in features}
    for col, sign in (overrides or {}).items():
        if col in out:
            out[col] = int(sign)
    return out


def required_inputs(frame: pd.DataFrame, features: Sequence[str], min_share: float = 0.95
                    ) -> dict[str, list[str]]:
    """Per role family: the interviewer dimension scores its interviews assess + overall rating.

    Derived from the data: an `interviewer_<dimension>` column is required for a family when
    it is non-null in at least `min_share` of that family's rows.
    """
    out: dict[str, list[str]] = {}
    dims = [f for f in features if f.startswith("interviewer_")]
    for family, rows in frame.groupby(FAMILY_COLUMN):
        present = numeric_frame(rows, dims).notna().mean()
        req = [d for d in dims if present[d] >= min_share]
        if "overall_rating_mean" in features:
            req.append("overall_rating_mean")
        out[str(family)] = req
    return out


def family_features(frame: pd.DataFrame, features: Sequence[str], family: str,
                    min_share: float = 0.05) -> list[str]:
    """The features that carry values for one family (others are all-null for it)."""
    rows = frame[frame[FAMILY_COLUMN] == family]
    present = numeric_frame(rows, features).notna().mean()
    return [f for f in features if present[f] >= min_share]


def drop_duplicates(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Drop features identical (values and nulls) to an earlier one in `frame`.

    E.g. key_answered_fully_share equals key_kpi_scenario_answered_fully_share when every key
    question is a kpi_scenario: two copies would split one signal's importance in two.
    """
    x = numeric_frame(frame, features)
    kept: list[str] = []
    for f in features:
        col = x[f]
        if not any(col.equals(x[k]) for k in kept):
            kept.append(f)
    return kept
