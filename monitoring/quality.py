"""The champion's quality per role family and hire cohort: realised, early, estimated.

Pure functions over scored hires (a frame with `role_family`, `cohort_quarter`, the model's
`probability` and `band`, and what each kind needs); rows come out in
monitoring.quality_store's columns, one per (family, cohort), plus `role_family` 'all'
(every family together) per cohort.

- realised (labels matured, marts.fct_training_examples): AUC, Brier and calibration error
  (scikit-learn and ml.metrics' 10-bin ECE; Evidently 0.7 has neither Brier nor
  calibration) on met_kpi; mean_predicted = mean probability, mean_observed = met rate.
- early (marts.fct_early_outcomes, hires with one to three reviews): every figure is
  weighted by the reviews so far. The probability is P(met_kpi), and met_kpi is not the
  attainment share: on the champion's own mature hires who stayed, attainment runs about
  0.1 above the probability. So the probability is first mapped to the attainment it
  implies (`AttainmentMap`, a line per family fitted on those hires), and
  mean_predicted = that expected attainment, mean_observed = the attainment so far:
  `mean_observed - mean_predicted` is the early-attainment gap (about 0 while the world
  holds). calibration_error = the same gap taken per band (advance / review / hold) in
  absolute value and averaged by reviews: a model whose favourites stop out-performing
  shows here even when the mean holds. auc = AUC of the probability against "met so far"
  (attainment so far >= 0.5), a noisier label than met_kpi. monitoring.model_quality_bands
  keeps the same comparison per band: the advance band's shortfall (expected minus
  observed) is how far the model's favourites fall behind what it expects of them.
  Measured (tests/monitoring/test_model_quality.py; seed 21, 8,000 applicants, ~100-140
  early hires per cohort, all families; concept_drift changes the KPI drivers from
  2024-01-01): the mean gap does not move under concept drift (the hires' average
  attainment holds; the model's order of them does not): stable vs concept_drift, level
  gap +0.020 / +0.013 (2024-Q1), +0.057 / +0.048 (2024-Q2) as of 2025-01-01. What moves
  is the order: early AUC 0.700 / 0.664 and 0.747 / 0.551 (2024-Q4 and 2025-Q1 as of
  2026-01-01: 0.760 / 0.683, 0.582 / 0.564), and the advance band's shortfall, averaged
  over those cohorts, -0.012 / +0.079 (2025) and +0.033 / +0.082 (2026).
- estimate (cohorts without mature labels): monitoring.cbpe's expected AUC, Brier and
  calibration-error floor from the probabilities alone; mean_observed stays empty.
`reference_auc` on every row is the champion's holdout AUC of that family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from ml.features import FAMILY_COLUMN
from ml.metrics import expected_calibration_error
from ml.model import BANDS
from ml.split import COHORT
from monitoring import cbpe

ALL = "all"
PROBABILITY, BAND = "probability", "band"
REALISED, EARLY, ESTIMATE = "realised", "early", "estimate"
ROW_COLUMNS = ("role_family", "cohort_quarter", "kind", "n", "n_positive", "auc", "brier",
               "calibration_error", "mean_predicted", "mean_observed", "n_reviews_mean",
               "reference_auc")
BAND_COLUMNS = ("role_family", "cohort_quarter", "kind", "band", "n", "mean_predicted",
                "mean_observed", "met_rate")
EXPECTED_ATTAINMENT = "expected_attainment"
MIN_MAP_ROWS = 30  # fewer reference hires in a family: its attainment map is the pooled one


class QualityInputError(ValueError):
    """The frames cannot be judged (the message says what is missing)."""


def _need(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise QualityInputError(f"the {what} frame lacks {missing}: score it with "
                                "monitoring.quality_frames.scored first")


def _groups(frame: pd.DataFrame):
    """(family, cohort, rows) for each family and cohort, then 'all' per cohort."""
    for (family, cohort), rows in frame.groupby([FAMILY_COLUMN, COHORT], sort=True):
        yield str(family), str(cohort), rows
    for cohort, rows in frame.groupby(COHORT, sort=True):
        yield ALL, str(cohort), rows


def _auc(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    return float(roc_auc_score(y, p, sample_weight=weight)) if len(np.unique(y)) == 2 else np.nan


def _row(family, cohort, kind, reference_auc, **figures) -> dict:
    row = dict.fromkeys(ROW_COLUMNS, np.nan)
    row.update(role_family=family, cohort_quarter=cohort, kind=kind,
               reference_auc=reference_auc.get(family, np.nan), **figures)
    return row


def _frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def realised_rows(frame: pd.DataFrame, reference_auc: Mapping[str, float]) -> pd.DataFrame:
    """AUC, Brier, calibration error on met_kpi per family and cohort (and 'all')."""
    _need(frame, (FAMILY_COLUMN, COHORT, PROBABILITY, "met_kpi"), "realised")
    rows = []
    for family, cohort, g in _groups(frame):
        y = g["met_kpi"].astype(bool).to_numpy().astype(int)
        p = g[PROBABILITY].to_numpy(float)
        rows.append(_row(family, cohort, REALISED, reference_auc, n=len(g),
                         n_positive=int(y.sum()), auc=_auc(y, p),
                         brier=float(brier_score_loss(y, p)),
                         calibration_error=expected_calibration_error(y, p),
                         mean_predicted=float(p.mean()), mean_observed=float(y.mean()),
                         n_reviews_mean=float(g["n_label_reviews"].mean())
                         if "n_label_reviews" in g else np.nan))
    return _frame(rows, ROW_COLUMNS)


@dataclass(frozen=True)
class AttainmentMap:
    """Expected KPI attainment share given the model's P(met_kpi): a line per family,
    fitted on hires whose labels matured and who stayed (like every early hire so far).

    The caller fits it on the champion's own cohorts, where its probabilities are a little
    sharper than on new hires (slope about 1.1 measured): the expected spread between bands
    reads slightly wide, so on stable worlds the advance band falls short by -0.01 to
    +0.03 on average; the mean gap is unaffected (least squares: zero mean residual)."""

    lines: dict[str, tuple[float, float]] = field(default_factory=dict)  # (slope, intercept)

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> AttainmentMap:
        _need(frame, (FAMILY_COLUMN, PROBABILITY, "kpi_attainment"), "reference")
        if len(frame) < MIN_MAP_ROWS:
            raise QualityInputError(f"only {len(frame)} mature reference hires: at least "
                                    f"{MIN_MAP_ROWS} are needed to map probability to "
                                    "attainment")

        def line(rows: pd.DataFrame) -> tuple[float, float]:
            slope, intercept = np.polyfit(rows[PROBABILITY].to_numpy(float),
                                          rows["kpi_attainment"].to_numpy(float), 1)
            return float(slope), float(intercept)

        lines = {ALL: line(frame)}
        for family, rows in frame.groupby(FAMILY_COLUMN):
            if len(rows) >= MIN_MAP_ROWS:
                lines[str(family)] = line(rows)
        return cls(lines)

    def expected(self, families: pd.Series, proba: np.ndarray) -> np.ndarray:
        coef = np.array([self.lines.get(str(f), self.lines[ALL]) for f in families])
        if not len(coef):
            return np.array([], dtype=float)
        return np.clip(coef[:, 0] * np.asarray(proba, float) + coef[:, 1], 0.0, 1.0)


def _weighted_band_gap(g: pd.DataFrame, weight: np.ndarray) -> float:
    total = 0.0
    for _, rows in g.groupby(BAND):
        w = weight[g.index.get_indexer(rows.index)]
        total += w.sum() * abs(np.average(rows["attainment_so_far"], weights=w)
                               - np.average(rows[EXPECTED_ATTAINMENT], weights=w))
    return float(total / weight.sum())


def with_expected_attainment(frame: pd.DataFrame, attainment: AttainmentMap) -> pd.DataFrame:
    out = frame.copy()
    out[EXPECTED_ATTAINMENT] = attainment.expected(out[FAMILY_COLUMN], out[PROBABILITY])
    return out


def early_rows(frame: pd.DataFrame, attainment: AttainmentMap,
               reference_auc: Mapping[str, float]) -> pd.DataFrame:
    """Attainment so far against the attainment the probability implies, weighted by
    reviews so far, per family and cohort (and 'all'); hires without a review are left out."""
    _need(frame, (FAMILY_COLUMN, COHORT, PROBABILITY, BAND, "n_reviews_so_far",
                  "attainment_so_far"), "early")
    frame = with_expected_attainment(frame[frame["n_reviews_so_far"] > 0], attainment)
    rows = []
    for family, cohort, g in _groups(frame):
        g = g.reset_index(drop=True)
        w = g["n_reviews_so_far"].to_numpy(float)
        met_so_far = (g["attainment_so_far"] >= 0.5).to_numpy().astype(int)
        rows.append(_row(family, cohort, EARLY, reference_auc, n=len(g),
                         n_positive=int(met_so_far.sum()),
                         auc=_auc(met_so_far, g[PROBABILITY].to_numpy(float), w),
                         calibration_error=_weighted_band_gap(g, w),
                         mean_predicted=float(np.average(g[EXPECTED_ATTAINMENT], weights=w)),
                         mean_observed=float(np.average(g["attainment_so_far"], weights=w)),
                         n_reviews_mean=float(w.mean())))
    return _frame(rows, ROW_COLUMNS)


def estimate_rows(frame: pd.DataFrame, reference_auc: Mapping[str, float]) -> pd.DataFrame:
    """Confidence-based estimates (monitoring.cbpe) per family and cohort (and 'all')."""
    _need(frame, (FAMILY_COLUMN, COHORT, PROBABILITY), "estimate")
    rows = []
    for family, cohort, g in _groups(frame):
        est = cbpe.estimate(g[PROBABILITY].to_numpy(float))
        rows.append(_row(family, cohort, ESTIMATE, reference_auc, n=est.n, auc=est.auc,
                         brier=est.brier, calibration_error=est.calibration_error,
                         mean_predicted=est.mean_predicted,
                         n_reviews_mean=float(g["n_reviews"].mean())
                         if "n_reviews" in g else np.nan))
    return _frame(rows, ROW_COLUMNS)


def band_rows(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """KPI attainment by the model's band, per family and cohort (and 'all').

    realised: mean attainment, met rate and mean probability; early: attainment so far and
    the expected attainment, weighted by reviews (needs `expected_attainment`); estimate:
    the mean probability (the expected met rate) only."""
    rows = []
    if kind == EARLY:
        frame = frame[frame["n_reviews_so_far"] > 0]
    for family, cohort, g in _groups(frame):
        for band in BANDS:
            b = g[g[BAND] == band]
            if not len(b):
                continue
            row = dict.fromkeys(BAND_COLUMNS, np.nan)
            row.update(role_family=family, cohort_quarter=cohort, kind=kind, band=band,
                       n=len(b))
            if kind == REALISED:
                row.update(mean_predicted=float(b[PROBABILITY].mean()),
                           mean_observed=float(b["kpi_attainment"].mean()),
                           met_rate=float(b["met_kpi"].astype(bool).mean()))
            elif kind == EARLY:
                w = b["n_reviews_so_far"].to_numpy(float)
                row.update(mean_predicted=float(np.average(b[EXPECTED_ATTAINMENT], weights=w)),
                           mean_observed=float(np.average(b["attainment_so_far"], weights=w)))
            else:
                row.update(mean_predicted=float(b[PROBABILITY].mean()))
            rows.append(row)
    return _frame(rows, BAND_COLUMNS)
