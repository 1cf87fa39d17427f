"""Where drift results are kept: Evidently snapshots in a local workspace, figures in PostgreSQL.

One Evidently project ("hireloop"), found by name before one is created
(`Workspace.create_project` does not dedupe names). Each family's run is a snapshot with
tags [role_family, as-of] and metadata (as_of, model_version, role_family, kind), saved with
`include_data=False`: no row of the frames leaves the process, only Evidently's figures.
A re-run for the same as-of and model version replaces its snapshots and its rows
(idempotent), in `monitoring.feature_drift` (a row per column) and
`monitoring.feature_drift_summary` (a row per family).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from evidently.core.report import Snapshot
from evidently.ui.workspace import Project, Workspace
from psycopg2.extras import execute_values

from monitoring.drift import TABLE_COLUMNS, DriftPolicy, FamilyDrift, summary_frame

PROJECT_NAME = "hireloop"
SNAPSHOT_KIND = "feature_drift"

DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;

CREATE TABLE IF NOT EXISTS monitoring.feature_drift (
    as_of         date NOT NULL,
    model_version text NOT NULL,
    role_family   text NOT NULL,
    feature       text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('feature', 'prediction')),
    method        text NOT NULL,
    statistic     float8 NOT NULL,
    threshold     float8 NOT NULL,
    drifted       boolean NOT NULL,
    n_reference   integer NOT NULL,
    n_current     integer NOT NULL,
    run_id        text,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (as_of, model_version, role_family, feature)
);

CREATE TABLE IF NOT EXISTS monitoring.feature_drift_summary (
    as_of              date NOT NULL,
    model_version      text NOT NULL,
    role_family        text NOT NULL,
    n_features         integer NOT NULL,
    n_drifted          integer NOT NULL,
    drift_share        float8 NOT NULL,
    prediction_drifted boolean,
    n_untested         integer NOT NULL,
    n_reference        integer NOT NULL,
    n_current          integer NOT NULL,
    alarm              boolean NOT NULL,
    snapshot_id        text NOT NULL,
    run_id             text,
    computed_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (as_of, model_version, role_family)
);
-- the calendar quarter whose decided applicants were compared (tables made before it: NULL)
ALTER TABLE monitoring.feature_drift_summary ADD COLUMN IF NOT EXISTS quarter text;
"""

SUMMARY_COLUMNS = ("role_family", "n_features", "n_drifted", "drift_share",
                   "prediction_drifted", "n_untested", "n_reference", "n_current", "alarm")


def ensure_schema(cursor) -> None:
    """Create the drift tables (idempotent)."""
    cursor.execute(DDL)


def open_project(workspace_dir: Path, name: str = PROJECT_NAME) -> tuple[Workspace, Project]:
    """The local workspace and its one project `name`, created only when none has the name."""
    workspace_dir.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(str(workspace_dir))
    found = [p for p in workspace.search_project(name) if p.name == name]
    if found:
        return workspace, sorted(found, key=lambda p: str(p.id))[0]
    return workspace, workspace.create_project(
        name, description="hireloop monitoring: drift and quality per role family")


def runs_for(workspace: Workspace, project: Project, as_of: str, model_version: str,
             kind: str = SNAPSHOT_KIND) -> dict[str, str]:
    """Snapshot id per role family of the `kind` runs (drift, quality, …) already saved for
    this as-of/version: what a re-run replaces."""
    out = {}
    for snapshot_id in workspace.list_runs(project.id):
        model = workspace.get_run(project.id, snapshot_id)
        meta = dict(model.metadata or {}) if model is not None else {}
        if (meta.get("kind") == kind and meta.get("as_of") == as_of
                and meta.get("model_version") == model_version):
            out[str(meta.get("role_family"))] = str(snapshot_id)
    return out


def replace_snapshots(workspace: Workspace, project: Project, snapshots: Mapping[str, Snapshot],
                      as_of: str, model_version: str, kind: str, title: str
                      ) -> dict[str, str]:
    """Replace this as-of/version's `kind` snapshots by `snapshots` (one per family, saved
    without row data); snapshot id per family."""
    for snapshot_id in runs_for(workspace, project, as_of, model_version, kind).values():
        workspace.delete_run(project.id, snapshot_id)
    return {family: str(workspace.add_run(project.id, snapshot, include_data=False,
                                          name=f"{title} {family} {as_of} v{model_version}").id)
            for family, snapshot in snapshots.items()}


def save_snapshots(workspace: Workspace, project: Project, results: Mapping[str, FamilyDrift],
                   as_of: str, model_version: str) -> dict[str, str]:
    """Replace this as-of/version's drift snapshots by `results`'; snapshot id per family.

    The snapshots carry `snapshot_metadata(as_of, model_version)` (passed to
    `drift_by_family`, which adds the role family): that is how a re-run finds them.
    """
    return replace_snapshots(workspace, project, {f: r.snapshot for f, r in results.items()},
                             as_of, model_version, SNAPSHOT_KIND, "feature drift")


def snapshot_metadata(as_of: str, model_version: str) -> dict[str, str]:
    """What every drift snapshot carries besides its role family (added per family)."""
    return {"kind": SNAPSHOT_KIND, "as_of": as_of, "model_version": model_version}


def write_results(cursor, results: Mapping[str, FamilyDrift], as_of: str, model_version: str,
                  snapshot_ids: Mapping[str, str], run_id: str | None = None,
                  policy: DriftPolicy | None = None, quarter: str | None = None) -> int:
    """Replace this as-of/version's rows in both tables (the summary names the `quarter`
    compared: an as-of judges an earlier quarter); returns the feature rows written."""
    ensure_schema(cursor)
    for table in ("feature_drift", "feature_drift_summary"):
        cursor.execute(f"DELETE FROM monitoring.{table} WHERE as_of = %s AND model_version = %s",
                       [as_of, model_version])
    rows = [(as_of, model_version, *(_plain(r[c]) for c in TABLE_COLUMNS), run_id)
            for result in results.values() for r in result.table.to_dict(orient="records")]
    if rows:
        execute_values(cursor, "INSERT INTO monitoring.feature_drift (as_of, model_version, "
                       f"{', '.join(TABLE_COLUMNS)}, run_id) VALUES %s", rows)
    summary = summary_frame(results, policy)
    sums = [(as_of, model_version, *(_plain(r[c]) for c in SUMMARY_COLUMNS),
             snapshot_ids[r["role_family"]], run_id, quarter)
            for r in summary.to_dict(orient="records")]
    if sums:
        execute_values(cursor, "INSERT INTO monitoring.feature_drift_summary (as_of, "
                       f"model_version, {', '.join(SUMMARY_COLUMNS)}, snapshot_id, run_id, "
                       "quarter) VALUES %s", sums)
    return len(rows)


def _plain(value):
    """NumPy scalars as Python values (psycopg2 adapts only the latter)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
