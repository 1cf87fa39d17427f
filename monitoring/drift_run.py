"""One drift run: read both populations, score them, compare per family, keep the results.

What the Dagster asset `feature_drift` calls; plain, so tests and the loop can call it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.model import HireloopModel
from monitoring import drift_frames as frames
from monitoring.drift import DriftPolicy, FamilyDrift, drift_by_family, summary_frame
from monitoring.drift_store import open_project, save_snapshots, snapshot_metadata, write_results


@dataclass
class DriftRun:
    as_of: str
    quarter: str | None          # the current population's application quarter
    model_version: str
    reference_end: dt.date | None
    results: dict[str, FamilyDrift]
    snapshot_ids: dict[str, str]
    policy: DriftPolicy

    def summary(self) -> pd.DataFrame:
        return summary_frame(self.results, self.policy)


def run_feature_drift(conn, model: HireloopModel, model_version: str, workspace_dir: Path,
                      as_of: dt.date, quarter: str | None = None,
                      reference_end: dt.date | None = None,
                      policy: DriftPolicy | None = None, run_id: str | None = None
                      ) -> DriftRun:
    """Drift of `quarter`'s decided applicants (default: the newest decided quarter before
    `as_of`) against the champion's reference, saved to the workspace and the tables.

    Nothing to compare (no decided quarter yet) is not an error: the run holds no family.
    The caller commits `conn`.
    """
    policy = policy or DriftPolicy()
    quarter = quarter or frames.latest_decided_quarter(conn, as_of)
    if quarter is None:
        return DriftRun(as_of.isoformat(), None, model_version, None, {}, {}, policy)
    start, end = frames.quarter_bounds(quarter)
    ref_end = min(reference_end or frames.reference_end(model), start)
    reference = frames.with_probability(model, frames.read_applicants(conn, None, ref_end))
    current = frames.with_probability(model, frames.read_applicants(conn, start, end))
    as_of_text = as_of.isoformat()
    results = drift_by_family(reference, current, frames.model_features(model), policy,
                              tags=[f"as_of:{as_of_text}", f"quarter:{quarter}"],
                              metadata={**snapshot_metadata(as_of_text, model_version),
                                        "quarter": quarter})
    workspace, project = open_project(workspace_dir)
    ids = save_snapshots(workspace, project, results, as_of_text, model_version)
    with conn.cursor() as cur:
        write_results(cur, results, as_of_text, model_version, ids, run_id, policy,
                      quarter)
    return DriftRun(as_of_text, quarter, model_version, ref_end, results, ids, policy)
