"""train_challengers: what the `retrain_challengers` asset does, without Dagster.

One challenger per data window (ml.windows), each trained and logged to MLflow by the same
code a build uses (ml.training_run.train_and_log), none registered yet; the gate cohort's
rows and the early route's, with each challenger's out-of-fold predictions there
(ml.crossfit: the same training, unlogged, without the fold's partial labels), are kept for
the gate (ml.retrain), and each challenger's soundness is judged here (ml.model_checks) so
that the blocking check only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ml.crossfit import FoldTrainer, early_predictions
from ml.model_checks import ModelCheck
from ml.rater_offsets import RaterOffsets
from ml.registry import MODEL_NAME
from ml.retrain import soundness
from ml.serving_context import RecordRules
from ml.split import COHORT
from ml.tracking import TrainedModel
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from ml.training_run import WINDOW_KEY, train_and_log
from ml.windows import WindowPolicy, early_gate_rows, gate_cohort, window_frame


@dataclass
class Challengers:
    """The challengers of one retrain, the rows they are judged on (the gate cohort, the early
    route with each challenger's out-of-fold predictions) and their soundness."""

    gate_cohort: str
    gate_rows: pd.DataFrame
    trained: dict[str, TrainedModel]
    windows: dict[str, dict]
    soundness: dict[str, list[ModelCheck]] = field(default_factory=dict)
    early_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    early_predictions: dict[str, np.ndarray] = field(default_factory=dict)


def fold_trainer(model: TrainedModel, config: TrainConfig,
                 rater_offsets: RaterOffsets | None, audit: dict | None) -> FoldTrainer:
    """How the early route's fold models are trained: as `model` was (its config, rater
    offsets, audit), with its winning strategy only, not logged."""
    config = replace(config, strategies=(model.model.version_info["strategy"],))
    return lambda wf: train_and_evaluate(wf.frame, config, make_figures=False,
                                         rater_offsets=rater_offsets, split=wf.split,
                                         audit=audit).model


def train_challengers(mature: pd.DataFrame, policy: WindowPolicy, config: TrainConfig, *,
                      early: pd.DataFrame | None = None,
                      rater_offsets: RaterOffsets | None = None, make_figures: bool = False,
                      dagster_run_id: str | None = None, model_name: str = MODEL_NAME,
                      record_rules: RecordRules | None = None,
                      baseline_margin: float = 0.0,
                      audit: dict | None = None) -> Challengers:
    """Train and log one challenger per window of `policy` on `mature` (the training set)
    and, with `policy.partial_labels`, `early` (ml.datasets.read_early_outcomes); `audit`
    for `config.rater_bias_correction` (ml.rater_bias_correction.audit_store)."""
    gate = gate_cohort(mature)
    gate_rows = mature.loc[mature[COHORT].astype(str) == gate].reset_index(drop=True)
    early_rows = early_gate_rows(early, gate, policy)
    trained, windows, sound, predicted = {}, {}, {}, {}
    for window in policy.windows:
        wf = window_frame(mature, window, policy, gate, early, config.holdout_share,
                          config.valid_share)
        model = train_and_log(wf.frame, config, rater_offsets=rater_offsets,
                              make_figures=make_figures, dagster_run_id=dagster_run_id,
                              model_name=model_name, record_rules=record_rules,
                              split=wf.split, version_info={WINDOW_KEY: wf.info},
                              audit=audit)
        predicted[window], route = early_predictions(
            model.model, mature, window, policy, gate, early, early_rows,
            fold_trainer(model, config, rater_offsets, audit), config.holdout_share,
            config.valid_share)
        trained[window], windows[window] = model, {**wf.info, "early_route": route}
        sound[window] = soundness(model, baseline_margin)
    return Challengers(gate, gate_rows, trained, windows, sound, early_rows, predicted)


__all__ = ["Challengers", "train_challengers"]
