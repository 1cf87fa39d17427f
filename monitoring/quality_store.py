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

What each column holds per kind is written in monitoring.quality (the early rows'
mean_predicted is the attainment the probability implies, so `mean_observed -
mean_predicted` is the early-attainment gap). `monitoring.model_quality_bands` holds KPI
attainment by the model's band (advance / review / hold) for the same keys.
`write_quality` replaces an as-of/version's rows in both tables (a re-run is idempotent).
`monitoring.kpi_driver_change` keeps monitoring.kpi_drivers' test per family (whether KPI
attainment still depends on the dimensions as it did in the champion's own cohorts);
`write_driver_changes` replaces an as-of/version's rows the same way.
"""

from __future__ import annotations

import json

import pandas as pd
from psycopg2.extras import execute_values

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
CREATE TABLE IF NOT EXISTS monitoring.model_quality_bands (
    as_of          date NOT NULL,
    model_version  text NOT NULL,
    role_family    text NOT NULL,
    cohort_quarter text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('realised', 'early', 'estimate')),
    band           text NOT NULL CHECK (band IN ('advance', 'review', 'hold')),
    n              integer NOT NULL,
    mean_predicted float8,
    mean_observed  float8,
    met_rate       float8,
    run_id         text,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (as_of, model_version, role_family, cohort_quarter, kind, band)
);
CREATE TABLE IF NOT EXISTS monitoring.kpi_driver_change (
    as_of         date NOT NULL,
    model_version text NOT NULL,
    role_family   text NOT NULL,
    n_reference   integer NOT NULL,
    n_current     integer NOT NULL,
    chi2          float8 NOT NULL,
    df            integer NOT NULL,
    p_value       float8 NOT NULL,
    moves         jsonb NOT NULL,   -- dimension -> slope difference (current - reference)
    run_id        text,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (as_of, model_version, role_family)
);
"""


def ensure_schema(cursor) -> None:
    """Create the table (idempotent)."""
    cursor.execute(DDL)


def _read(cursor, table: str, order: str, as_of: str | None) -> pd.DataFrame:
    ensure_schema(cursor)
    where, params = ("WHERE as_of = %s", (as_of,)) if as_of else ("", ())
    cursor.execute(f"SELECT * FROM monitoring.{table} {where} ORDER BY {order}", params)
    columns = [d[0] for d in cursor.description]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


def read_quality(cursor, as_of: str | None = None) -> pd.DataFrame:
    """The quality rows, for one as-of date or all of them, in a stable order."""
    return _read(cursor, "model_quality",
                 "as_of, model_version, role_family, cohort_quarter, kind", as_of)


QUALITY_COLUMNS = ("role_family", "cohort_quarter", "kind", "n", "n_positive", "auc", "brier",
                   "calibration_error", "mean_predicted", "mean_observed", "n_reviews_mean",
                   "reference_auc", "snapshot_id")
BAND_COLUMNS = ("role_family", "cohort_quarter", "kind", "band", "n", "mean_predicted",
                "mean_observed", "met_rate")


def read_quality_bands(cursor, as_of: str | None = None) -> pd.DataFrame:
    """The attainment-by-band rows, for one as-of date or all of them, in a stable order."""
    return _read(cursor, "model_quality_bands",
                 "as_of, model_version, role_family, cohort_quarter, kind, band", as_of)


def write_quality(cursor, rows: pd.DataFrame, bands: pd.DataFrame, as_of: str,
                  model_version: str, run_id: str | None = None) -> int:
    """Replace this as-of/version's rows of both tables by `rows` (QUALITY_COLUMNS) and
    `bands` (BAND_COLUMNS); returns the quality rows written. The caller commits."""
    ensure_schema(cursor)
    unknown = set(rows["kind"]) - set(KINDS) if len(rows) else set()
    if unknown:
        raise ValueError(f"unknown quality kinds {sorted(unknown)}; expected {KINDS}")
    for table in ("model_quality", "model_quality_bands"):
        cursor.execute(f"DELETE FROM monitoring.{table} WHERE as_of = %s AND model_version = %s",
                       [as_of, model_version])
    for table, frame, columns in (("model_quality", rows, QUALITY_COLUMNS),
                                  ("model_quality_bands", bands, BAND_COLUMNS)):
        values = [(as_of, model_version, *(_plain(r.get(c)) for c in columns), run_id)
                  for r in frame.to_dict(orient="records")]
        if values:
            execute_values(cursor, f"INSERT INTO monitoring.{table} (as_of, model_version, "
                           f"{', '.join(columns)}, run_id) VALUES %s", values)
    return len(rows)


def write_driver_changes(cursor, changes, as_of: str, model_version: str,
                         run_id: str | None = None) -> int:
    """Replace this as-of/version's driver tests by `changes` (monitoring.kpi_drivers.
    DriverChange); returns the rows written. The caller commits."""
    ensure_schema(cursor)
    cursor.execute("DELETE FROM monitoring.kpi_driver_change WHERE as_of = %s "
                   "AND model_version = %s", [as_of, model_version])
    values = [(as_of, model_version, c.role_family, c.n_reference, c.n_current, c.chi2, c.df,
               c.p_value, json.dumps(c.moves), run_id) for c in changes]
    if values:
        execute_values(cursor, "INSERT INTO monitoring.kpi_driver_change (as_of, model_version, "
                       "role_family, n_reference, n_current, chi2, df, p_value, moves, run_id) "
                       "VALUES %s", values)
    return len(values)


def read_driver_changes(cursor, as_of: str | None = None) -> pd.DataFrame:
    """The driver tests, for one as-of date or all of them, in a stable order."""
    return _read(cursor, "kpi_driver_change", "as_of, model_version, role_family", as_of)


def _plain(value):
    """NumPy scalars as Python values, NaN as NULL (psycopg2 adapts only the former)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and pd.isna(value) else value


__all__ = ["BAND_COLUMNS", "KINDS", "QUALITY_COLUMNS", "ensure_schema", "read_driver_changes",
           "read_quality", "read_quality_bands", "write_driver_changes", "write_quality"]
