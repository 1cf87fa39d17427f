"""The HR lead's Evidently dashboard: its panels are set up once (a re-run adds none, lists
none twice), select each family's snapshots by tag and the kind by metadata, and the
published figures are the recorded ones, one snapshot per as-of and family, aggregates only.
A real Evidently workspace on disk (the UI over HTTP: tests/orchestration/test_ui_apis.py)."""

from __future__ import annotations

from monitoring.dashboard import (
    DECISION_KIND,
    FIGURES_KIND,
    column,
    ensure_dashboard,
    family_figures,
    publish_figures,
)
from monitoring.drift_store import open_project

FIGURES = {
    "as_of": "2025-04-01",
    "drift": [{"role_family": "rnd", "drift_share": 0.125, "n_current": 150},
              {"role_family": "sales", "drift_share": 0.0, "n_current": 140}],
    "quality": [{"role_family": "rnd", "kind": "realised", "n": 250, "auc": 0.66,
                 "reference_auc": 0.72, "calibration_error": 0.08},
                {"role_family": "rnd", "kind": "early", "n": 90, "mean_predicted": 0.6,
                 "mean_observed": 0.45, "auc": 0.61},
                {"role_family": "all", "kind": "estimate", "n": 600, "auc": 0.70}],
    "attainment_by_band": {"rnd": {"advance": 0.7, "hold": 0.35}},
}


def _snapshots(workspace, project) -> list:
    return [workspace.get_run(project.id, s) for s in workspace.list_runs(project.id)]


def test_panels_are_added_once_and_listed_once(tmp_path):
    _, project = open_project(tmp_path / "ev")
    first = ensure_dashboard(project, ["rnd", "sales"])
    again = ensure_dashboard(project, ["rnd", "sales"])
    model = project.dashboard.model()
    assert again == [] and len(first) == len(model.panels) == 8
    assert len({p.title for p in model.panels}) == 8
    listed = [i for tab in model.tabs for i in tab.panels]
    assert sorted(listed) == sorted(p.id for p in model.panels)  # each once, in one tab

    # Each series selects one family's snapshots of one kind, and its own column.
    drift = next(p for p in model.panels if p.title.startswith("Feature drift share"))
    assert [(v.tags, v.metadata, v.metric_labels) for v in drift.values] == [
        (["rnd"], {"kind": FIGURES_KIND}, {"column": "drift_share_rnd"}),
        (["sales"], {"kind": FIGURES_KIND}, {"column": "drift_share_sales"})]

    # A new family replaces the panels that change, and still lists each once.
    ensure_dashboard(project, ["manufacturing", "rnd", "sales"])
    model = project.dashboard.model()
    assert len(model.panels) == 8
    drift = next(p for p in model.panels if p.title.startswith("Feature drift share"))
    assert [v.tags for v in drift.values] == [["manufacturing"], ["rnd"], ["sales"]]
    assert sorted(i for tab in model.tabs for i in tab.panels) == \
        sorted(p.id for p in model.panels)


def test_the_figures_published_are_the_recorded_ones(tmp_path):
    per_family = family_figures(FIGURES)
    assert per_family["rnd"] == {
        column("drift_share", "rnd"): 0.125, column("auc", "rnd"): 0.66,
        column("calibration_error", "rnd"): 0.08,
        column("early_gap", "rnd"): abs(0.6 - 0.45), column("early_auc", "rnd"): 0.61,
        column("attainment_advance", "rnd"): 0.7, column("attainment_hold", "rnd"): 0.35}
    assert per_family["all"] == {column("auc_estimate", "all"): 0.70}

    decisions = [{"decision_id": 1, "as_of": "2025-04-01", "quarter": "2025-Q1",
                  "decision": "no_action"}]
    assert publish_figures(tmp_path / "ev", FIGURES, decisions) == {"figures": 3,
                                                                     "decisions": 1}
    # Again, the same as-of: its snapshots replaced, the decision not published twice.
    assert publish_figures(tmp_path / "ev", FIGURES, decisions) == {"figures": 3,
                                                                     "decisions": 0}
    workspace, project = open_project(tmp_path / "ev")
    snapshots = _snapshots(workspace, project)
    kinds = sorted(s.metadata["kind"] for s in snapshots)
    assert kinds == [DECISION_KIND] + [FIGURES_KIND] * 3

    rnd = next(s for s in snapshots if s.metadata.get("role_family") == "rnd")
    assert "rnd" in rnd.tags and rnd.timestamp.date().isoformat() == "2025-04-01"
    values = {r.metric_value_location.metric.params["column"]: r.value
              for r in rnd.metric_results.values()}
    assert values == per_family["rnd"]
    # Aggregates only: no dataset is stored beside the snapshots.
    assert workspace.list_datasets(project.id).datasets == []

    decision = next(s for s in snapshots if s.metadata["kind"] == DECISION_KIND)
    values = {r.metric_value_location.metric.params["column"]: r.value
              for r in decision.metric_results.values()}
    assert values == {"decision_no_action": 1.0, "decision_retrained_promoted": 0.0,
                      "decision_retrained_kept": 0.0, "decision_refused": 0.0}
