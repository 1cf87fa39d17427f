"""The feature-store suite on marts.fct_training_examples: what training needs to be sound.

Required features non-null, features in range, and per role family a label rate within
bounds and enough rows; the bounds are configuration (`FeatureStoreBounds`), passed in by
orchestration.
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations.expectations as gxe

from hris.contract import DIMENSIONS, ROLE_FAMILIES, ROUNDS, SCENARIO_TYPES, SCORED_BY
from ml.features import FAMILY_COLUMN, LABEL
from monitoring.data_quality import sql
from monitoring.data_quality.suites import (
    FEATURE_TABLE,
    MARTS_SCHEMA,
    SuiteSpec,
    query_rule,
    row_rule,
    shared_rows,
)

# What every training row must carry: its identity, family, cohort, label and the
# interviewer's overall rating (the baseline the model must beat).
REQUIRED = ("candidate_id", FAMILY_COLUMN, "hire_date", "cohort_quarter", LABEL,
            "overall_rating_mean", "n_interviews")


@dataclass(frozen=True)
class FeatureStoreBounds:
    """Bounds of the feature-store suite (defaults: what a trainable store looks like)."""

    label_rate_min: float = 0.05
    label_rate_max: float = 0.95
    min_rows_per_family: int = 30
    role_families: tuple[str, ...] = ROLE_FAMILIES


def _ranges() -> list[tuple[str, float | None, float | None]]:
    out: list[tuple[str, float | None, float | None]] = []
    out += [(f"{sb}_{d}", 0.0, 10.0) for sb in SCORED_BY for d in DIMENSIONS]
    out += [(f"overall_rating_{r}", 1.0, 5.0) for r in (*ROUNDS, "mean")]
    out += [(f"key_{s}_answered_fully_share", 0.0, 1.0) for s in SCENARIO_TYPES]
    out += [(c, 0.0, 1.0) for c in ("key_answered_fully_share", "answered_fully_share",
                                    "recommend_share", "kpi_attainment")]
    out += [("n_interviews", 1.0, None)]
    out += [(c, 0.0, None) for c in ("n_interviewers", "n_answers", "n_key_questions",
                                     "mean_duration_minutes", "mean_response_seconds")]
    return out


def feature_store_suite(bounds: FeatureStoreBounds = FeatureStoreBounds()) -> SuiteSpec:
    """The suite; every expectation is table level (a failure means: do not train). Its
    rules are counted together, by one query over the table (suites.shared_rows)."""
    suite = SuiteSpec(f"{MARTS_SCHEMA}.{FEATURE_TABLE}", "feature_store", MARTS_SCHEMA,
                      FEATURE_TABLE)
    q = sql.q
    rules = [row_rule("missing_value", c, f"b.{q(c)} is null", f"{c} is missing")
             for c in REQUIRED]
    rules.append(row_rule("invalid_value", FAMILY_COLUMN,
                           sql.not_in(f"b.{q(FAMILY_COLUMN)}", bounds.role_families),
                           f"{FAMILY_COLUMN} not in {list(bounds.role_families)}"))
    rules += [row_rule("out_of_range", c, sql.outside(f"b.{q(c)}", lo, hi),
                       f"{c} outside [{sql.bound(lo)}, {sql.bound(hi)}]")
              for c, lo, hi in _ranges()]
    fam, label = q(FAMILY_COLUMN), q(LABEL)
    rules.append(query_rule(
        "label_rate", LABEL,
        f"select b.{fam} from {{batch}} as b group by b.{fam} having "
        f"avg(b.{label}::int) < {bounds.label_rate_min!r} "
        f"or avg(b.{label}::int) > {bounds.label_rate_max!r}",
        f"role families whose {LABEL} rate is outside "
        f"[{bounds.label_rate_min}, {bounds.label_rate_max}]"))
    families = ", ".join(f"({sql.lit(f)})" for f in bounds.role_families)
    rules.append(query_rule(
        "min_rows", FAMILY_COLUMN,
        f"select f.family from (values {families}) as f(family) left join "
        f"(select b.{fam} as family, count(*) as n from {{batch}} as b group by b.{fam}) "
        f"as c on c.family = f.family where coalesce(c.n, 0) < {int(bounds.min_rows_per_family)}",
        f"role families with fewer than {bounds.min_rows_per_family} rows"))
    suite.expectations = [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1, description="training examples exist",
            meta={"reason": "row_count", "column": None, "table_level": True}),
        *shared_rows(rules, table_level=True)]
    return suite
