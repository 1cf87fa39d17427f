"""train_and_log: one training run, from the training frame to a logged MLflow run.

What the `trained_model` asset does, without Dagster: train and evaluate, freeze the rater
offsets in force, fingerprint what the version is made of (data, training config, code),
log the run with its tags, and hand back what the blocking check, the registration and the
gate need (`TrainedModel`). MLflow must already point where the run goes
(ml.registry.configure).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.models import get_model_info

from ml.fingerprint import code_fingerprint, config_fingerprint
from ml.rater_offsets import VERSION_KEY as RATER_OFFSETS_KEY
from ml.rater_offsets import RaterOffsets
from ml.registry import MODEL_NAME, git_commit, identity_tags, run_tags
from ml.serving_context import RecordRules
from ml.split import TimeSplit
from ml.tracking import TrainedModel, log_training
from ml.train import TrainConfig
from ml.training_pipeline import TrainingResult, train_and_evaluate

WINDOW_KEY = "data_window"
ML_CODE = Path(__file__).resolve().parent  # the package that trains, and travels to serve
REPO_ROOT = ML_CODE.parent


def version_identity(result: TrainingResult, code_dir: Path = ML_CODE) -> dict[str, str]:
    """The identity tags of the version `result` would become: its data, its training
    config with the frozen rater offsets, and the code that trained it."""
    info = result.model.version_info
    made_of = {"train": info.get("config"), "rater_offsets": info.get(RATER_OFFSETS_KEY)}
    if info.get(WINDOW_KEY):  # a retrain's data window (ml.windows); absent for a build
        made_of[WINDOW_KEY] = info[WINDOW_KEY]
    return identity_tags(info["data_fingerprint"]["sha256"], config_fingerprint(made_of),
                         code_fingerprint(code_dir))


def train_and_log(frame: pd.DataFrame, config: TrainConfig | None = None, *,
                  rater_offsets: RaterOffsets | None = None, make_figures: bool = True,
                  dagster_run_id: str | None = None, model_name: str = MODEL_NAME,
                  record_rules: RecordRules | None = None, split: TimeSplit | None = None,
                  version_info: dict | None = None,
                  audit: dict | None = None) -> TrainedModel:
    """Train on `frame` with `config`, log the run to the configured MLflow (not registered).

    `rater_offsets` (ml.rater_offsets.read_rater_offsets on the same feature store) are
    frozen into the version; `dagster_run_id` tags the run with the run that made it;
    `record_rules` (the raw contract's, from orchestration) put the interview-records routes
    into the endpoint schema logged with the version. `split` (ml.windows) replaces the
    default time split; `version_info` is added to the model's (e.g. its data window).
    `audit`: the training store's data audit, for `config.rater_bias_correction`
    (ml.rater_bias_correction.audit_store).
    """
    result = train_and_evaluate(frame, config or TrainConfig(), make_figures=make_figures,
                                rater_offsets=rater_offsets, split=split, audit=audit)
    result.model.version_info.update(version_info or {})
    fingerprint = result.model.version_info["data_fingerprint"]
    identity = version_identity(result)
    tags = run_tags(dagster_run_id, git_commit(REPO_ROOT), fingerprint, identity)
    logged = log_training(result, tags, model_name=model_name, record_rules=record_rules)
    signature = get_model_info(logged.model_uri).signature
    return TrainedModel.from_result(result, logged, fingerprint, signature, identity)


__all__ = ["ML_CODE", "train_and_log", "version_identity"]
