"""Monitoring figures written straight through SQL, in the documented table shapes, for the
trigger's tests (the drift and quality writers have tests of their own)."""

from __future__ import annotations

from monitoring import drift_store, quality_store


def insert_drift(cur, as_of: str, family: str, drift_share: float, n_current: int = 150,
                 model_version: str = "1", n_features: int = 32) -> None:
    drift_store.ensure_schema(cur)
    cur.execute(
        "INSERT INTO monitoring.feature_drift_summary (as_of, model_version, role_family, "
        "n_features, n_drifted, drift_share, prediction_drifted, n_untested, n_reference, "
        "n_current, alarm, snapshot_id) VALUES (%s, %s, %s, %s, %s, %s, false, 0, 1200, %s, "
        "%s, %s)",
        (as_of, model_version, family, n_features, round(drift_share * n_features),
         drift_share, n_current, drift_share >= 0.05, f"snap-{family}-{as_of}"))


def insert_quality(cur, as_of: str, family: str, kind: str, cohort: str, n: int, *,
                   auc: float | None = None, reference_auc: float | None = None,
                   calibration_error: float | None = None, mean_predicted: float | None = None,
                   mean_observed: float | None = None, model_version: str = "1") -> None:
    quality_store.ensure_schema(cur)
    cur.execute(
        "INSERT INTO monitoring.model_quality (as_of, model_version, role_family, "
        "cohort_quarter, kind, n, n_positive, auc, brier, calibration_error, mean_predicted, "
        "mean_observed, n_reviews_mean, reference_auc) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "0.2, %s, %s, %s, 2.0, %s)",
        (as_of, model_version, family, cohort, kind, n, n // 2, auc, calibration_error,
         mean_predicted, mean_observed, reference_auc))


def insert_drivers(cur, as_of: str, family: str, p_value: float, n_current: int = 180,
                   model_version: str = "1") -> None:
    quality_store.ensure_schema(cur)
    cur.execute(
        "INSERT INTO monitoring.kpi_driver_change (as_of, model_version, role_family, "
        "n_reference, n_current, chi2, df, p_value, moves) VALUES (%s, %s, %s, 500, %s, 9.0, "
        "6, %s, '{\"communication\": 0.01}')",
        (as_of, model_version, family, n_current, p_value))


def stable_quarter(cur, as_of: str, families=("sales", "rnd")) -> None:
    """Figures well inside every default threshold, with enough rows to be tested."""
    for family in families:
        insert_drift(cur, as_of, family, 1 / 32)
        insert_quality(cur, as_of, family, "realised", "2023-Q4", 350, auc=0.70,
                       reference_auc=0.72, calibration_error=0.05)
        insert_quality(cur, as_of, family, "early", "2024-Q3", 120, mean_predicted=0.55,
                       mean_observed=0.52)
        insert_quality(cur, as_of, family, "estimate", "2025-Q1", 150, auc=0.71)
        insert_drivers(cur, as_of, family, 0.4)
