"""The HR lead's dashboard in the Evidently project "hireloop": the loop's figures over time.

Panels (0.7's `project.dashboard.add_panel` with `PanelMetric`s), one series per role
family, each selecting its family's snapshots by tag and the snapshot kind by metadata:
drift share, realised AUC, the AUC estimate before labels mature, calibration error, the
early-attainment gap, KPI attainment by band, and the loop's decisions.

What they plot: the figures the trigger decided on, as recorded in `monitoring.*`, published
as small snapshots (`publish_figures`, kind "loop_figures": one per as-of and family; kind
"loop_decision": one per recorded decision), timestamped with the as-of, so the x axis is
the HR system's time and the dashboard shows the very numbers the decisions name. The
drift snapshots (kind "feature_drift") hold a p-value per column and no share, and Evidently
has no calibration metric, hence these; each holds aggregates only (a `MeanValue` of a
one-row frame of figures), never a row of candidate data.

Two facts of Evidently 0.7.23's local storage shape this (measured in its source):
- a panel's series are told apart by metric and labels only, and a point goes to the first
  series whose metric and labels match (then dropped when that series' tags do not): so the
  family is in the column name too (`drift_share_rnd`), besides the tag;
- `add_panel(panel, tab)` into an existing tab lists the panel in it twice: the tabs are
  de-duplicated after adding.
Idempotent: panels are matched by title (ids derived from it); a changed definition
replaces the old panel, an unchanged one is left alone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import MeanValue
from evidently.sdk.models import DashboardPanelPlot, PanelMetric
from evidently.ui.workspace import Project, Workspace

from ml.model import BANDS
from monitoring.drift_store import open_project
from monitoring.loop_decisions import DECISIONS

FIGURES_KIND, DECISION_KIND = "loop_figures", "loop_decision"
FAMILY_ALL = "all"
_NAMESPACE = uuid.UUID("6f1c3c52-7f0e-4a0b-9d5e-0c1e3a7b9d10")

# figure -> (panel title, what it tells an HR lead, tab)
FIGURE_PANELS: dict[str, tuple[str, str, str]] = {
    "drift_share": ("Feature drift share by role family",
                    "Share of the model's inputs whose distribution moved against the "
                    "champion's training pool (K-S, Bonferroni). Above the trigger's "
                    "threshold the loop retrains.", "Drift"),
    "auc": ("AUC by role family (realised)",
            "How well the champion ranked hires whose one-year KPI is known. 0.5 = chance.",
            "Quality"),
    "auc_estimate": ("AUC by role family (estimate, labels not mature)",
                     "An estimate from the model's own probabilities: it cannot see a change "
                     "in what drives performance. Labelled as an estimate.", "Quality"),
    "calibration_error": ("Calibration error by role family",
                          "How far the model's probabilities are from the share who met their "
                          "KPI (0 = exact).", "Quality"),
    "early_gap": ("Early-attainment gap by role family",
                  "Reviews so far against the model's probability, before the label "
                  "matures: how far the levels are apart.", "Quality"),
    "early_auc": ("Early AUC by role family (reviews so far)",
                  "How well the champion ranks hires by their reviews so far, before the "
                  "label matures: it falls first when what drives performance changes.",
                  "Quality"),
}
ATTAINMENT_PANEL = ("KPI attainment by band",
                    "Share of reviews meeting the KPI, by the band the model gave at "
                    "interview (advance, review, hold).", "Quality")
DECISION_PANEL = ("Loop decisions",
                  "Each look of the loop: no action, retrained and promoted, retrained and "
                  "kept the champion, or a challenger refused.", "Loop")


def column(figure: str, family: str) -> str:
    """The snapshot column of one family's figure (the family in it: see the docstring)."""
    return f"{figure}_{family}"


def _panel(title: str, subtitle: str, values: list[PanelMetric], plot: str) -> DashboardPanelPlot:
    return DashboardPanelPlot(id=uuid.uuid5(_NAMESPACE, title), title=title, subtitle=subtitle,
                              size="full", values=values,
                              plot_params={"plot_type": plot, **({"is_stacked": True}
                                                                 if plot == "bar" else {})})


def _series(figure: str, family: str, legend: str) -> PanelMetric:
    return PanelMetric(legend=legend, tags=[family], metadata={"kind": FIGURES_KIND},
                       metric="MeanValue", metric_labels={"column": column(figure, family)})


def panels(families: Sequence[str]) -> list[tuple[str, DashboardPanelPlot]]:
    """(tab, panel) for every panel of the dashboard, one series per family."""
    out = []
    for figure, (title, subtitle, tab) in FIGURE_PANELS.items():
        out.append((tab, _panel(title, subtitle, [_series(figure, f, f) for f in families],
                                "line")))
    title, subtitle, tab = ATTAINMENT_PANEL
    out.append((tab, _panel(title, subtitle, [_series(f"attainment_{band}", f, f"{f} {band}")
                                              for f in families for band in BANDS], "line")))
    title, subtitle, tab = DECISION_PANEL
    out.append((tab, _panel(title, subtitle, [
        PanelMetric(legend=d.replace("_", " "), metadata={"kind": DECISION_KIND},
                    metric="MeanValue", metric_labels={"column": f"decision_{d}"})
        for d in DECISIONS], "bar")))
    return out


def ensure_dashboard(project: Project, families: Sequence[str]) -> list[str]:
    """Make the project's dashboard hold exactly these panels (by title); titles added."""
    dashboard = project.dashboard
    wanted = panels(families)
    model = dashboard.model()
    current = {p.title: p for p in model.panels}
    stale = [p.id for tab, p in wanted if p.title in current and current[p.title] != p]
    if stale:  # a changed definition: drop the old panel, add the new one below
        model.panels = [p for p in model.panels if p.id not in stale]
        for tab in model.tabs:
            tab.panels = [i for i in tab.panels if i not in stale]
        project._workspace.save_dashboard(project.id, model)
        current = {p.title: p for p in model.panels}
    added = []
    for tab, panel in wanted:
        if panel.title not in current:
            dashboard.add_panel(panel, tab=tab)
            added.append(panel.title)
    model = dashboard.model()
    for tab in model.tabs:
        tab.panels = list(dict.fromkeys(tab.panels))  # add_panel's double listing
    project._workspace.save_dashboard(project.id, model)
    return added


# --- the figures, as snapshots ----------------------------------------------------------

def _timestamp(as_of: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(as_of[:10]), dt.time(), dt.UTC)


def _figures_report(values: Mapping[str, float], tags: list[str], metadata: dict[str, str],
                    as_of: str):
    frame = pd.DataFrame([{k: float(v) for k, v in values.items()}])
    report = Report([MeanValue(column=c) for c in frame.columns], tags=tags, metadata=metadata)
    return report.run(Dataset.from_pandas(frame, data_definition=DataDefinition(
        numerical_columns=list(frame.columns))), None, timestamp=_timestamp(as_of))


def family_figures(figures: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per family, the dashboard's figures from `loop_trigger.read_figures`' shape (newest
    realised, early and estimate rows; drift share); absent figures are left out."""
    out: dict[str, dict[str, float]] = {}

    def put(family: str, figure: str, value: Any) -> None:
        if value is not None and value == value:
            out.setdefault(family, {})[column(figure, family)] = float(value)

    for row in figures.get("drift", []):
        put(row["role_family"], "drift_share", row["drift_share"])
    for row in figures.get("quality", []):
        family = row["role_family"]
        if row["kind"] == "realised":
            put(family, "auc", row.get("auc"))
            put(family, "calibration_error", row.get("calibration_error"))
        elif row["kind"] == "estimate":
            put(family, "auc_estimate", row.get("auc"))
        elif row["kind"] == "early":
            pred, obs = row.get("mean_predicted"), row.get("mean_observed")
            if pred is not None and obs is not None:
                put(family, "early_gap", abs(pred - obs))
            put(family, "early_auc", row.get("auc"))
    for family, bands in (figures.get("attainment_by_band") or {}).items():
        for band, value in bands.items():
            put(family, f"attainment_{band}", value)
    return out


def _runs(workspace: Workspace, project: Project, kind: str) -> dict[str, dict[str, Any]]:
    """Snapshot id -> metadata of the project's snapshots of `kind`."""
    out = {}
    for snapshot_id in workspace.list_runs(project.id):
        model = workspace.get_run(project.id, snapshot_id)
        meta = dict(model.metadata or {}) if model is not None else {}
        if meta.get("kind") == kind:
            out[str(snapshot_id)] = meta
    return out


def publish_figures(workspace_dir: Path, figures: Mapping[str, Any],
                    decisions: Iterable[Mapping[str, Any]] = ()) -> dict[str, int]:
    """Publish one as-of's figures (replacing that as-of's earlier ones) and every decision
    not yet published (`read_decisions` rows), and keep the panels in place; counts written.

    `figures` is `loop_trigger.read_figures`' shape, optionally with `attainment_by_band`
    ({family: {band: share}}).
    """
    workspace, project = open_project(workspace_dir)
    as_of = str(figures["as_of"])
    per_family = family_figures(figures)
    for snapshot_id, meta in _runs(workspace, project, FIGURES_KIND).items():
        if meta.get("as_of") == as_of:
            workspace.delete_run(project.id, snapshot_id)
    for family, values in per_family.items():
        snapshot = _figures_report(values, [family, f"as_of:{as_of}"],
                                   {"kind": FIGURES_KIND, "as_of": as_of,
                                    "role_family": family}, as_of)
        workspace.add_run(project.id, snapshot, include_data=False,
                          name=f"loop figures {family} {as_of}")
    published = {m.get("decision_id") for m in _runs(workspace, project, DECISION_KIND).values()}
    n_decisions = 0
    for row in decisions:
        if str(row["decision_id"]) in published:
            continue
        values = {f"decision_{d}": float(row["decision"] == d) for d in DECISIONS}
        day = str(row["as_of"])
        snapshot = _figures_report(values, [str(row["decision"]), f"quarter:{row['quarter']}"],
                                   {"kind": DECISION_KIND, "as_of": day,
                                    "quarter": str(row["quarter"]),
                                    "decision_id": str(row["decision_id"])}, day)
        workspace.add_run(project.id, snapshot, include_data=False,
                          name=f"loop decision {row['quarter']} {row['decision']}")
        n_decisions += 1
    families = sorted({*per_family, *known_families(workspace, project)})
    ensure_dashboard(project, families)
    return {"figures": len(per_family), "decisions": n_decisions}


def known_families(workspace: Workspace, project: Project) -> list[str]:
    """Every family with published figures (the panels carry a series for each)."""
    return sorted({m["role_family"] for m in _runs(workspace, project, FIGURES_KIND).values()
                   if m.get("role_family")})


def prepare(workspace_dir: Path, families: Sequence[str]) -> Project:
    """The project with its panels (for `hireloop ui`: an HR lead opens a ready dashboard)."""
    workspace, project = open_project(workspace_dir)
    ensure_dashboard(project, sorted({*families, *known_families(workspace, project)}))
    return project


__all__ = ["BANDS", "DECISION_KIND", "FIGURES_KIND", "column", "ensure_dashboard",
           "family_figures", "panels", "prepare", "publish_figures"]
