"""Where the champion's quality figures are kept: `monitoring.model_quality`.

One row per (as_of, model version, role family, hire cohort, kind), `role_family` 'all' for
the whole population. Three kinds, never mixed up:
- `realised`: cohorts whose labels matured (AUC, Brier, calibration error on met_kpi);
- `early`: hires whose reviews have started but not matured (realised KPI attainment so far
  against the model's probability; `n_reviews_mean` says how far along they are);
- `estimate`: confidence-based estimate for a cohort without labels (an estimate, always
  labelled as one).
`reference_auc` is the champion's own holdout AUC when it was trained, so an AUC drop is
`reference_auc - auc` on the same row.
"""

from __future__ import annotations

import pandas as pd

KINDS = ("realised", "early", "estimate")

DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.model_quality (
    as_of             date NOT NULL,
    model_version     text NOT NULL,
    role_family       text NOT NULL,
    cohort_quarter    text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('realised', 'early', 'estimate')),
    n                 integer NOT NULL,
    n_positive        integer,
    auc               float8,
    brier             float8,
    calibration_error float8,
    mean_predicted    float8,
    mean_observed     float8,
    n_reviews_mean    float8,
    reference_auc     float8,
    snapshot_id       text,
    run_id            text,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (as_of, model_version, role_family, cohort_quarter, kind)
);
"""


def ensure_schema(cursor) -> None:
    """Create the table (idempotent)."""
    cursor.execute(DDL)


def read_quality(cursor, as_of: str | None = None) -> pd.DataFrame:
    """The quality rows, for one as-of date or all of them, in a stable order."""
    ensure_schema(cursor)
    where, params = ("WHERE as_of = %s", (as_of,)) if as_of else ("", ())
    cursor.execute(f"SELECT * FROM monitoring.model_quality {where} "
                   "ORDER BY as_of, model_version, role_family, cohort_quarter, kind", params)
    columns = [d[0] for d in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


__all__ = ["KINDS", "ensure_schema", "read_quality"]
