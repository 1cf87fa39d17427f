"""One quality run: read and score the hires, compute every kind, keep the results.

What the Dagster asset `model_quality` calls; plain, so tests and the loop can call it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.model import HireloopModel
from monitoring import quality as q
from monitoring.drift_store import open_project
from monitoring.kpi_drivers import DriverChange, driver_changes, early_outcomes, mature_outcomes
from monitoring.quality_frames import (
    ChampionReference,
    QualityFrames,
    champion_reference,
    read_frames,
)
from monitoring.quality_report import SNAPSHOT_KIND, reports_by_family, save_snapshots
from monitoring.quality_store import write_driver_changes, write_quality


@dataclass
class QualityRun:
    as_of: str
    model_version: str
    reference: ChampionReference
    rows: pd.DataFrame           # monitoring.quality_store.QUALITY_COLUMNS
    bands: pd.DataFrame          # monitoring.quality_store.BAND_COLUMNS
    snapshot_ids: dict[str, str]
    frames: QualityFrames
    drivers: list[DriverChange]  # per family: have the KPI's drivers moved?

    def kind(self, kind: str) -> pd.DataFrame:
        return self.rows[self.rows["kind"] == kind].reset_index(drop=True)


def compute(frames: QualityFrames, reference: ChampionReference
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quality rows and the attainment-by-band rows of every kind."""
    auc = reference.reference_auc
    early = q.with_expected_attainment(frames.early, frames.attainment)
    rows = _stack([q.realised_rows(frames.realised, auc),
                   q.early_rows(frames.early, frames.attainment, auc),
                   q.estimate_rows(frames.estimate, auc)], q.ROW_COLUMNS)
    bands = _stack([q.band_rows(frames.realised, q.REALISED), q.band_rows(early, q.EARLY),
                    q.band_rows(frames.estimate, q.ESTIMATE)], q.BAND_COLUMNS)
    return rows, bands


def _stack(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    filled = [f for f in frames if len(f)]
    return (pd.concat(filled, ignore_index=True) if filled
            else pd.DataFrame(columns=list(columns)))


def run_model_quality(conn, model: HireloopModel, model_version: str, workspace_dir: Path,
                      as_of: dt.date, run_id: str | None = None) -> QualityRun:
    """The champion's realised, early and estimated quality as of `as_of`, saved to the
    Evidently workspace (realised, one snapshot per family) and monitoring.model_quality(
    _bands), and the test of its KPI drivers (monitoring.kpi_driver_change) on its early
    hires. A champion with no cohort after its own yet gives empty kinds, not an error.
    The caller commits `conn`."""
    reference = champion_reference(model, model_version)
    frames = read_frames(conn, model, reference)
    rows, bands = compute(frames, reference)
    drivers = driver_changes(mature_outcomes(frames.own), early_outcomes(frames.early))
    as_of_text = as_of.isoformat()
    cohorts = sorted(frames.realised["cohort_quarter"].astype(str).unique())
    snapshots = reports_by_family(
        frames.realised, tags=[f"as_of:{as_of_text}"],
        metadata={"kind": SNAPSHOT_KIND, "as_of": as_of_text, "model_version": model_version,
                  "cohorts": ",".join(cohorts)})
    workspace, project = open_project(workspace_dir)
    ids = save_snapshots(workspace, project, snapshots, as_of_text, model_version)
    rows["snapshot_id"] = [ids.get(f) if k == q.REALISED else None
                           for f, k in zip(rows["role_family"], rows["kind"], strict=True)]
    with conn.cursor() as cur:
        write_quality(cur, rows, bands, as_of_text, model_version, run_id)
        write_driver_changes(cur, drivers, as_of_text, model_version, run_id)
    return QualityRun(as_of_text, model_version, reference, rows, bands, ids, frames, drivers)
