"""train_and_evaluate: the one call the Dagster asset makes (frame in, everything out)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ml import plots
from ml.baselines import DimensionLogit, RatingBaseline
from ml.features import FAMILY_COLUMN, LABEL, numeric_frame, select_features
from ml.fingerprint import data_fingerprint
from ml.metrics import metrics_by_family
from ml.model import HireloopModel
from ml.model_card import model_card
from ml.rater_bias_correction import NOT_AUDITED, FeatureCorrection, correction_from_audit
from ml.rater_bias_correction import VERSION_KEY as CORRECTION_KEY
from ml.rater_offsets import RaterOffsets, freeze
from ml.split import TimeSplit, time_split
from ml.train import TrainConfig, train_model

MODEL = "model"
RATING_BASELINE = "baseline_rating"
LOGIT_BASELINE = "baseline_logit"


@dataclass
class TrainingResult:
    model: HireloopModel
    split: TimeSplit
    holdout: pd.DataFrame              # holdout rows with proba, band and both baselines
    metrics: dict[str, pd.DataFrame]   # MODEL / RATING_BASELINE / LOGIT_BASELINE -> per family
    comparison: pd.DataFrame           # AUC per family (+ overall): model and baselines
    importance: pd.DataFrame           # mean |SHAP| per feature (rows) and family (columns)
    report: dict                       # strategy selection, monotone on/off, search trials
    card: str
    figures: dict[str, Figure] = field(default_factory=dict)

    def flat_metrics(self) -> dict[str, float]:
        """`<who>.<family>.<metric>` -> value, for MLflow / Dagster metadata."""
        out = {}
        for who, table in self.metrics.items():
            for fam, row in table.iterrows():
                for k, v in row.items():
                    if pd.notna(v):
                        out[f"{who}.{fam}.{k}"] = float(v)
        return out


def top_drivers(importance: pd.DataFrame, k: int = 3) -> dict[str, list[str]]:
    return {fam: list(importance[fam].dropna().sort_values(ascending=False).head(k).index)
            for fam in importance.columns}


def train_and_evaluate(frame: pd.DataFrame, config: TrainConfig | None = None,
                       make_figures: bool = True,
                       rater_offsets: RaterOffsets | None = None,
                       split: TimeSplit | None = None,
                       audit: dict[str, Any] | None = None) -> TrainingResult:
    """Split by time, train (strategy chosen by measurement), fit the baselines on the same
    training rows, and evaluate all three on the holdout, overall and per role family.

    `rater_offsets` (ml.rater_offsets.read_rater_offsets on the same feature store) is
    frozen into the model version: the served model derives rater-adjusted scores from it.
    `split`: row positions into `frame` decided by the caller (ml.windows, which adds rows
    with partial labels to the fit part); by default ml.split.time_split.
    `audit`: the data audit of the training store (ml.rater_bias_correction.audit_store);
    with `config.rater_bias_correction` the inputs it flags as rater-biased are left out
    (recorded in the version and the card). The flag without an audit trains unmitigated
    and records that no audit was given.
    """
    config = config or TrainConfig()
    frame = frame.reset_index(drop=True)
    correction = None
    if config.rater_bias_correction:
        correction = NOT_AUDITED if audit is None else correction_from_audit(
            audit, select_features(frame, config.include, config.exclude),
            config.correct_impressions)
        config = mitigated_config(config, correction)
    if split is None:
        split = time_split(frame, config.holdout_share, config.valid_share)
    model, report = train_model(frame, split, config)
    train, holdout = frame.iloc[split.train], frame.iloc[split.holdout].copy()
    y_train = train[LABEL].astype(bool).to_numpy().astype(int)
    y = holdout[LABEL].astype(bool).to_numpy().astype(int)

    rating = RatingBaseline().fit(train, y_train)
    logit = DimensionLogit().fit(train, y_train)
    holdout["proba"] = model.predict_proba(holdout)
    holdout["band"] = model.band(holdout, holdout["proba"].to_numpy())
    holdout[RATING_BASELINE] = rating.predict_proba(holdout)
    holdout[LOGIT_BASELINE] = logit.predict_proba(holdout)
    thresholds = {f: fm.thresholds for f, fm in model.families.items()}
    metrics = {
        MODEL: metrics_by_family(holdout, y, holdout["proba"].to_numpy(), thresholds),
        RATING_BASELINE: metrics_by_family(holdout, y, holdout[RATING_BASELINE].to_numpy()),
        LOGIT_BASELINE: metrics_by_family(holdout, y, holdout[LOGIT_BASELINE].to_numpy()),
    }
    comparison = pd.DataFrame({who: t["roc_auc"] for who, t in metrics.items()})
    contrib = model.contributions(holdout)
    fam = holdout[FAMILY_COLUMN].astype(str).to_numpy()
    importance = pd.DataFrame({
        f: contrib[fam == f].abs().mean() for f in sorted(set(fam))}).drop(
        index=[FAMILY_COLUMN], errors="ignore")
    importance = importance.loc[(importance > 0).any(axis=1)]

    fingerprint = data_fingerprint(frame)
    sel = report["strategies"]
    note = ", ".join(f"{s}: mean family AUC {v['holdout']['mean_family_auc']:.3f}, "
                     f"overall AUC {v['holdout']['auc']:.3f}" for s, v in sel.items())
    info = {
        "strategy": report["winner"], "selection_note": note, "features": report["features"],
        "train_cohorts": split.fit_cohorts + split.valid_cohorts,
        "holdout_cohorts": split.holdout_cohorts, "n_train": len(split.train),
        "n_holdout": len(split.holdout), "fingerprint": fingerprint,
        "monotone": config.monotone,
    }
    model.version_info.update({
        "data_fingerprint": fingerprint, "train_cohorts": info["train_cohorts"],
        "holdout_cohorts": split.holdout_cohorts, "dropped_cohorts": split.dropped_cohorts,
        "monotone_on": report.get("monotone_on"), "monotone_off": report.get("monotone_off"),
        "config": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in config.__dict__.items()},
        "auc_holdout": comparison.to_dict(),
        "parts": {s: v["parts"] for s, v in sel.items()},
    })
    if correction is not None:
        model.version_info[CORRECTION_KEY] = correction.to_info()
        info["rater_bias_correction"] = report["rater_bias_correction"] = correction.to_info()
    freeze(model, rater_offsets)
    drivers = top_drivers(importance)
    card = model_card(info, comparison, metrics[MODEL], drivers)
    figures = {}
    if make_figures:
        figures = {
            "roc": plots.roc_figure(y, {"model": holdout["proba"],
                                        "interviewer rating": holdout[RATING_BASELINE],
                                        "logit on dimensions": holdout[LOGIT_BASELINE]}),
            "calibration": plots.calibration_figure(y, holdout["proba"].to_numpy()),
            "feature_importance": plots.importance_figure(importance),
            "shap_summary": plots.shap_summary_figure(
                contrib.drop(columns=[FAMILY_COLUMN], errors="ignore"),
                numeric_frame(holdout, [c for c in contrib.columns if c != FAMILY_COLUMN])),
            "kpi_attainment_by_band": plots.attainment_by_band_figure(
                holdout, holdout["band"].to_numpy()),
        }
    return TrainingResult(model, split, holdout, metrics, comparison, importance, report, card,
                          figures)


def mitigated_config(config: TrainConfig, correction: FeatureCorrection) -> TrainConfig:
    """`config` with the correction's inputs left out (excluded, or dropped from `include`)."""
    if not correction.removed:
        return config
    if config.include is not None:
        return replace(config, include=correction.keep(config.include))
    return replace(config, exclude=(*config.exclude,
                                    *[c for c in correction.removed if c not in config.exclude]))


__all__ = ["TrainingResult", "mitigated_config", "train_and_evaluate"]
