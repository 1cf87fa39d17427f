"""Champion and challenger judged alike: the same holdout rows, the same metric code.

The promotion gate compares figures; they are only comparable when both models are scored
on the same newest mature hires with the same functions. A registered version's model is
read back from its own MLflow artifacts (the `HireloopModel` inside the pyfunc), so the
champion is judged as it was registered, whatever code trained it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts

from ml.endpoint_schema import SCHEMA_ARTIFACT
from ml.features import FAMILY_COLUMN, LABEL
from ml.metrics import metrics_by_family
from ml.model import HireloopModel
from ml.pyfunc_model import MODEL_ARTIFACT
from ml.registry import MODEL_NAME

GATE_FIGURES = ("roc_auc", "pr_auc", "brier", "ece", "n")


def holdout_metrics(model: Any, holdout: pd.DataFrame,
                    proba: np.ndarray | None = None) -> pd.DataFrame:
    """Per role family (+ overall) metrics of `model` on `holdout`, at its own thresholds;
    of `proba` (one per row of `holdout`) instead of the model's own predictions when given
    (the retrain gate's out-of-fold predictions, ml.crossfit).

    Rows of a role family the model does not know are left out (that family then has no
    figure, which the gate's per-family check reports).
    """
    known = holdout[FAMILY_COLUMN].astype(str).isin(list(model.families)).to_numpy()
    rows = holdout.loc[known]
    y = rows[LABEL].astype(bool).to_numpy().astype(int)
    proba = (np.asarray(model.predict_proba(rows), dtype=float) if proba is None
             else np.asarray(proba, dtype=float)[known])
    thresholds = {f: fm.thresholds for f, fm in model.families.items()}
    return metrics_by_family(rows, y, proba, thresholds)


def gate_metrics(table: pd.DataFrame) -> dict[str, Any]:
    """A metrics table (families + 'overall' as rows) in the shape ml.promotion.decide reads."""
    def pick(row: pd.Series) -> dict[str, float | None]:
        return {k: (None if pd.isna(row.get(k)) else float(row[k]))
                for k in GATE_FIGURES if k in row}

    return {
        "overall": pick(table.loc["overall"]) if "overall" in table.index else {},
        "by_family": {str(f): pick(r) for f, r in table.iterrows() if f != "overall"},
    }


def load_version_model(
    client: MlflowClient, version: str | int, model_name: str = MODEL_NAME,
    tracking_uri: str | None = None,
) -> HireloopModel:
    """The HireloopModel inside registered `version`, read from its artifacts.

    Reading the saved model directly (not through `mlflow.pyfunc.load_model`) keeps the
    artifact's bundled copy of `ml` off this process's import path.
    """
    source = client.get_model_version(model_name, str(version)).source
    with tempfile.TemporaryDirectory(prefix="hireloop_version_") as tmp:
        local = Path(download_artifacts(artifact_uri=source, dst_path=tmp,
                                        tracking_uri=tracking_uri))
        return HireloopModel.load(local / "artifacts" / MODEL_ARTIFACT)


class NoSchemaError(LookupError):
    """A registered version logged without its endpoint schema (before the schema existed)."""


def load_version_schema(
    client: MlflowClient, version: str | int, model_name: str = MODEL_NAME,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """The endpoint schema logged with registered `version`, `info.version` set to it (the
    artifact is written before the version has a number)."""
    from mlflow.exceptions import MlflowException

    run_id = client.get_model_version(model_name, str(version)).run_id
    with tempfile.TemporaryDirectory(prefix="hireloop_schema_") as tmp:
        try:
            local = download_artifacts(run_id=run_id, artifact_path=SCHEMA_ARTIFACT,
                                       dst_path=tmp, tracking_uri=tracking_uri)
        except (MlflowException, OSError):
            raise NoSchemaError(f"version {version} was logged without {SCHEMA_ARTIFACT}; "
                                "train a new version (`hireloop build`)") from None
        document = json.loads(Path(local).read_text())
    document["info"]["version"] = str(version)
    return document
