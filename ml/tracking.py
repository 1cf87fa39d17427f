"""Logging a training run to MLflow: tags, params, metrics, plots, model card and the pyfunc.

`train_and_evaluate` produces everything in memory; this writes it to the active MLflow
(configured by the caller with ml.registry.configure), so that a run in the MLflow UI shows
how the model was trained, on which data, from which code, and how good it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

from ml import fairness_io
from ml.pyfunc_model import log_pyfunc
from ml.rater_bias_correction import VERSION_KEY as CORRECTION_KEY
from ml.registry import MODEL_NAME
from ml.serving_context import RecordRules
from ml.training_pipeline import TrainingResult, top_drivers

MODEL_ARTIFACT_PATH = "model"
PLOTS_DIR = "plots"
CARD_PATH = fairness_io.CARD_PATH  # rewritten with the audit by ml.fairness_io.log_model_card


@dataclass(frozen=True)
class LoggedTraining:
    """Where a training run landed in MLflow."""

    run_id: str
    experiment_id: str
    model_uri: str  # the logged model (models:/m-…), before registration
    artifact_path: str
    artifact_uri: str  # the run's artifact root
    plots: dict[str, str] = field(default_factory=dict)  # figure name -> artifact path


def run_url(ui_base: str, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI."""
    return f"{ui_base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def _param(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def training_params(result: TrainingResult) -> dict[str, str]:
    """The settings and data windows of a run, as MLflow params (short strings)."""
    info = result.model.version_info
    params = {f"config.{k}": _param(v) for k, v in (info.get("config") or {}).items()}
    params.update({
        "strategy": str(result.report.get("winner", info.get("strategy", ""))),
        "n_features": str(len(result.report.get("features", []))),
        "n_train": str(len(result.split.train)),
        "n_holdout": str(len(result.split.holdout)),
        "train_cohorts": _param(result.split.fit_cohorts + result.split.valid_cohorts),
        "holdout_cohorts": _param(result.split.holdout_cohorts),
    })
    correction = info.get(CORRECTION_KEY)
    if correction is not None:  # the fairness mitigation: which inputs it left out
        params["rater_bias_correction.removed"] = (
            _param(sorted(correction["removed"])) or "none" if correction["audited"]
            else "not audited")
    return {k: v[:500] for k, v in params.items()}


def log_training(
    result: TrainingResult,
    tags: dict[str, str],
    *,
    model_name: str = MODEL_NAME,
    artifact_path: str = MODEL_ARTIFACT_PATH,
    record_rules: RecordRules | None = None,
) -> LoggedTraining:
    """One MLflow run: tags, params, metrics, plots, model card, report and the pyfunc.

    Figures are closed once logged (a long-lived process must not collect them).
    """
    plots = {}
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_params(training_params(result))
        mlflow.log_metrics(result.flat_metrics())
        for name, figure in result.figures.items():
            path = f"{PLOTS_DIR}/{name}.png"
            mlflow.log_figure(figure, path)
            plt.close(figure)
            plots[name] = path
        mlflow.log_text(result.card, CARD_PATH)
        mlflow.log_text(result.comparison.to_csv(), "holdout_auc.csv")
        mlflow.log_text(json.dumps(result.report, indent=2, default=str), "training_report.json")
        mlflow.log_text("\n".join(result.report.get("features", [])), "features.txt")
        if CORRECTION_KEY in result.model.version_info:
            mlflow.log_text(json.dumps(result.model.version_info[CORRECTION_KEY], indent=2,
                                       default=str), f"{CORRECTION_KEY}.json")
        info = log_pyfunc(result.model, artifact_path, model_name=model_name,
                          record_rules=record_rules)
    return LoggedTraining(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_uri=info.model_uri,
        artifact_path=artifact_path,
        artifact_uri=run.info.artifact_uri,
        plots=plots,
    )


@dataclass
class TrainedModel:
    """A trained, logged, not yet registered model and what the next steps need of it:
    the holdout (the gate scores the champion on the same rows), figures and drivers."""

    logged: LoggedTraining
    model: Any  # ml.model.HireloopModel
    holdout: pd.DataFrame
    comparison: pd.DataFrame  # AUC per family (+ overall): model and both baselines
    metrics: dict[str, pd.DataFrame]  # model / baseline_rating / baseline_logit -> table
    drivers: dict[str, list[str]]
    fingerprint: dict[str, Any]
    signature: Any = None  # mlflow ModelSignature as logged
    identity: dict[str, str] = field(default_factory=dict)  # ml.registry.identity_tags
    strategy: str | None = None  # the training strategy chosen by measurement
    holdout_cohorts: list[str] = field(default_factory=list)
    n_train: int = 0

    @classmethod
    def from_result(cls, result: TrainingResult, logged: LoggedTraining,
                    fingerprint: dict[str, Any], signature: Any = None,
                    identity: dict[str, str] | None = None) -> TrainedModel:
        winner = result.report.get("winner")
        return cls(logged, result.model, result.holdout, result.comparison, result.metrics,
                   top_drivers(result.importance), fingerprint, signature, identity or {},
                   None if winner is None else str(winner), list(result.split.holdout_cohorts),
                   len(result.split.train))
