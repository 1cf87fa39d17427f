"""The two populations drift compares, read from the feature store, and the champion's inputs.

Like must be compared with like. The champion's training rows (marts.fct_training_examples)
are hires, chosen on the very interview scores the model reads: against them, the applicants
scored now differ in a stable world, and so do the mid-funnel rows of
marts.fct_candidates_to_score (measured on the 8,000-applicant stable store, K-S with
Bonferroni at 0.05: 3-6 of 30 features per family flagged for hires vs pending, 3-8 for all
applicants vs pending). So both sides are the same population at the same point: interviewed
applicants whose application is decided (hired, rejected, withdrawn), features as of the
export.
- reference: those who applied up to the end of the champion's newest cohort (its train and
  holdout cohorts, `version_info`): the applicant pool the champion learnt from;
- current: those who applied in one calendar quarter, once that quarter is decided (no
  interviewed applicant of it still pending; a half-decided quarter holds the quick rejects
  and not the slow hires: 8 of 30 features flagged in the stable store's last quarter).
Each side is scored in process by the champion (`HireloopModel.predict_proba`, the
endpoint's own scoring) for prediction drift.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hris.calendar import quarter_of
from ml.datasets import read_frame
from ml.features import FAMILY_COLUMN, assert_allowed
from ml.model import ONEHOT_PREFIX, HireloopModel
from monitoring.drift import PREDICTION

# Every candidate's point-in-time features (the relation behind both marts); only
# interviewed applicants. No protected attribute is in it.
CANDIDATE_FEATURES = "intermediate.int_candidate_features_joined"
DECIDED = ("hired", "rejected", "withdrawn")


def quarter_bounds(label: str) -> tuple[dt.date, dt.date]:
    """'2024-Q3' -> (2024-07-01, 2024-10-01): first day, first day after."""
    try:
        year, q = label.split("-Q")
        start = dt.date(int(year), 3 * (int(q) - 1) + 1, 1)
    except ValueError:
        raise ValueError("a quarter is written YYYY-Qn, e.g. 2024-Q3") from None
    end = dt.date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    return start, end


def model_features(model: HireloopModel) -> dict[str, list[str]]:
    """Per role family, the model's own inputs as feature-store columns (one-hots out)."""
    out = {}
    for family, fm in model.families.items():
        plain = [f for f in fm.features if not f.startswith(ONEHOT_PREFIX)]
        assert_allowed(plain)
        out[family] = plain
    return out


def reference_end(model: HireloopModel) -> dt.date:
    """The first day after the champion's newest train or holdout cohort (hire quarter)."""
    info = getattr(model, "version_info", {}) or {}
    cohorts = [*info.get("train_cohorts", []), *info.get("holdout_cohorts", [])]
    if not cohorts:
        raise ValueError("the model records no training cohorts (version_info): retrain it "
                         "with the current ml.training_pipeline")
    return quarter_bounds(max(cohorts))[1]


def read_applicants(conn, start: dt.date | None, end: dt.date,
                    decided_only: bool = True) -> pd.DataFrame:
    """Interviewed applicants who applied in [start, end) (no start: from the beginning)."""
    statuses = DECIDED if decided_only else (*DECIDED, "pending")
    sql = (f"SELECT * FROM {CANDIDATE_FEATURES} WHERE n_interviews > 0 "
           "AND status IN %s AND application_date < %s"
           + (" AND application_date >= %s" if start else "") + " ORDER BY candidate_id")
    params = [statuses, end] + ([start] if start else [])
    return read_frame(conn, sql, params)


def pending_share(conn, start: dt.date, end: dt.date) -> float:
    """Share of the interviewed applicants of [start, end) still pending (0 when none)."""
    frame = read_frame(conn, f"SELECT status FROM {CANDIDATE_FEATURES} WHERE n_interviews > 0"
                       " AND application_date >= %s AND application_date < %s", [start, end])
    return float((frame["status"] == "pending").mean()) if len(frame) else 0.0


def latest_decided_quarter(conn, as_of: dt.date, max_pending: float = 0.0,
                           lookback: int = 8) -> str | None:
    """The newest quarter before `as_of`'s own whose interviewed applicants are decided
    (pending share at most `max_pending`) and which has any; None if none in `lookback`."""
    start, _ = quarter_bounds(quarter_of(as_of))
    for _ in range(lookback):
        start, end = quarter_bounds(quarter_of(start - dt.timedelta(days=1)))
        frame = read_frame(conn, f"SELECT count(*) AS n FROM {CANDIDATE_FEATURES} WHERE "
                           "n_interviews > 0 AND application_date >= %s AND "
                           "application_date < %s", [start, end])
        if int(frame["n"].iloc[0]) and pending_share(conn, start, end) <= max_pending:
            return quarter_of(start)
    return None


def with_probability(model: HireloopModel, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s rows of the model's families, with the model's probability as a column."""
    rows = frame[frame[FAMILY_COLUMN].astype(str).isin(list(model.families))].copy()
    rows[PREDICTION] = model.predict_proba(rows) if len(rows) else []
    return rows
