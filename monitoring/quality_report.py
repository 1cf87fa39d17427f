"""Realised quality as Evidently 0.7 snapshots: one report per role family.

0.7.23's `GroupBy(RocAuc(), "role_family")` returns the overall AUC for every group
(DESIGN.md), so each family gets its own Report, over its hires of every realised cohort of
the run together: Evidently's RocAuc and LogLoss, the mean probability and the met rate.
Brier score and calibration error, which 0.7 lacks, are computed with scikit-learn
(monitoring.quality) and kept beside the figures, in the snapshot's metadata, as text (the
only values 0.7's metadata holds). Tags [role_family, as_of:…] and metadata (kind
"model_quality", as_of, model_version, role_family) as the drift snapshots carry, so the
dashboard's panels and a re-run find them. Saved with `include_data=False`, and the
widgets (ROC and lift curves, drawn through every row's probability) are replaced by
counters of the figures: no row of the frames, nor a value per row, leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from evidently import BinaryClassification, DataDefinition, Dataset, Report
from evidently.core.report import Snapshot
from evidently.legacy.renderers.html_widgets import CounterData, counter
from evidently.metrics import LogLoss, MeanValue, RocAuc
from evidently.ui.workspace import Project, Workspace
from sklearn.metrics import brier_score_loss

from ml.features import FAMILY_COLUMN
from ml.metrics import expected_calibration_error
from monitoring import drift_store
from monitoring.quality import PROBABILITY

SNAPSHOT_KIND = "model_quality"
TARGET = "met"


def family_report(rows: pd.DataFrame, role_family: str, tags: Sequence[str] = (),
                  metadata: Mapping[str, str] | None = None) -> Snapshot:
    """One family's realised hires (scored, with met_kpi) as an Evidently snapshot."""
    frame = pd.DataFrame({TARGET: rows["met_kpi"].astype(bool).astype(int).to_numpy(),
                          PROBABILITY: rows[PROBABILITY].to_numpy(float)})
    definition = DataDefinition(numerical_columns=[PROBABILITY, TARGET], classification=[
        BinaryClassification(target=TARGET, prediction_probas=PROBABILITY, pos_label=1)])
    y, p = frame[TARGET].to_numpy(), frame[PROBABILITY].to_numpy()
    figures = {"brier": float(brier_score_loss(y, p)),
               "calibration_error": expected_calibration_error(y, p),
               "n": len(frame), "n_positive": int(y.sum())}
    meta = {**dict(metadata or {}), "role_family": role_family,
            **{k: f"{v:.6f}" if isinstance(v, float) else str(v) for k, v in figures.items()}}
    metrics = [MeanValue(column=PROBABILITY), MeanValue(column=TARGET)]
    if len(np.unique(y)) == 2:
        metrics = [RocAuc(), LogLoss(), *metrics]
    report = Report(metrics, metadata=meta, tags=[*tags, role_family])
    snapshot = report.run(Dataset.from_pandas(frame, data_definition=definition), None)
    return figures_only(snapshot, figures)


def figures_only(snapshot: Snapshot, extra: Mapping[str, float]) -> Snapshot:
    """The snapshot with its widgets replaced by one counter of its figures (and `extra`):
    RocAuc's widget plots the ROC curve through every row's probability."""
    counters = []
    for result in snapshot._metrics.values():
        config = getattr(result.metric_value_location, "metric", None)
        name = type(config).__name__ if config is not None else "metric"
        column = (getattr(config, "params", {}) or {}).get("column")
        label = f"{name} {column}" if column else name
        counters.append(CounterData.float(label, float(result.value), 4))
        result.widget = []
    counters += [CounterData.float(k, float(v), 4) for k, v in extra.items()]
    snapshot._widgets = [counter(title="model quality (realised)", counters=counters)]
    return snapshot


def reports_by_family(realised: pd.DataFrame, tags: Sequence[str],
                      metadata: Mapping[str, str]) -> dict[str, Snapshot]:
    """`family_report` for every family with realised hires."""
    return {str(family): family_report(rows, str(family), tags, metadata)
            for family, rows in realised.groupby(FAMILY_COLUMN, sort=True)}


def runs_for(workspace: Workspace, project: Project, as_of: str, model_version: str
             ) -> dict[str, str]:
    """Snapshot id per family of the quality runs saved for this as-of and version."""
    return drift_store.runs_for(workspace, project, as_of, model_version, SNAPSHOT_KIND)


def save_snapshots(workspace: Workspace, project: Project, snapshots: Mapping[str, Snapshot],
                   as_of: str, model_version: str) -> dict[str, str]:
    """Replace this as-of/version's quality snapshots by `snapshots`; id per family."""
    return drift_store.replace_snapshots(workspace, project, snapshots, as_of, model_version,
                                         SNAPSHOT_KIND, "model quality")
