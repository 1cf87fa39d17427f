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
from monitoring.data_quality.expectations import ExpectNoUnexpectedRows
from monitoring.data_quality.suites import FEATURE_TABLE, MARTS_SCHEMA, SuiteSpec

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


def _meta(reason: str, column: str | None = None) -> dict:
    return {"reason": reason, "column": column, "table_level": True}


def feature_store_suite(bounds: FeatureStoreBounds = FeatureStoreBounds()) -> SuiteSpec:
    """The suite; every expectation is table level (a failure means: do not train)."""
    suite = SuiteSpec(f"{MARTS_SCHEMA}.{FEATURE_TABLE}", "feature_store", MARTS_SCHEMA,
                      FEATURE_TABLE)
    add = suite.expectations.append
    add(gxe.ExpectTableRowCountToBeBetween(min_value=1, meta=_meta("row_count"),
                                           description="training examples exist"))
    for c in REQUIRED:
        add(gxe.ExpectColumnValuesToNotBeNull(column=c, meta=_meta("missing_value", c)))
    add(gxe.ExpectColumnValuesToBeInSet(column=FAMILY_COLUMN, value_set=list(bounds.role_families),
                                        meta=_meta("invalid_value", FAMILY_COLUMN)))
    for c, lo, hi in _ranges():
        add(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi,
                                              meta=_meta("out_of_range", c)))
    fam, label = sql.q(FAMILY_COLUMN), sql.q(LABEL)
    add(ExpectNoUnexpectedRows(
        unexpected_rows_query=sql.gx_query(
            f"select b.{fam} from {{batch}} as b group by b.{fam} having "
            f"avg(b.{label}::int) < {bounds.label_rate_min!r} "
            f"or avg(b.{label}::int) > {bounds.label_rate_max!r}"),
        description=f"{LABEL} rate per role family within "
                    f"[{bounds.label_rate_min}, {bounds.label_rate_max}]",
        meta=_meta("label_rate", LABEL)))
    families = ", ".join(f"({sql.lit(f)})" for f in bounds.role_families)
    add(ExpectNoUnexpectedRows(
        unexpected_rows_query=sql.gx_query(
            f"select f.family from (values {families}) as f(family) left join "
            f"(select b.{fam} as family, count(*) as n from {{batch}} as b group by b.{fam}) "
            f"as c on c.family = f.family "
            f"where coalesce(c.n, 0) < {int(bounds.min_rows_per_family)}"),
        description=f"at least {bounds.min_rows_per_family} rows per role family",
        meta=_meta("min_rows", FAMILY_COLUMN)))
    return suite
