"""Feature and prediction drift per role family: quiet on a stable world, loud on a shifted
applicant pool; Evidently snapshots without row data; table rows equal to the results;
re-runs idempotent. Real PostgreSQL, real dbt, real Evidently workspace."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from evidently.core.report import Snapshot

from ml.datasets import read_frame
from ml.features import BannedFeatureError
from monitoring import drift_frames as frames
from monitoring.drift import DriftInputError, DriftPolicy, family_drift, result_table
from monitoring.drift_run import run_feature_drift
from monitoring.drift_store import PROJECT_NAME, open_project, runs_for
from tests.ml.model_fixture import trained_model
from tests.simulated_store import build_store

AS_OF = dt.date(2025, 1, 1)        # the fixtures' export date
REFERENCE_END = dt.date(2024, 1, 1)  # the simulator's change_date: before it, one world
SHIFTED = ("communication", "persuasion", "technical_depth", "data_awareness",
           "problem_solving")      # the abilities covariate_shift moves


@pytest.fixture(scope="module")
def model(feature_store):
    return trained_model(feature_store)


@pytest.fixture(scope="module")
def stable_db(pg_server, feature_store):
    return pg_server.copy_database(feature_store.database, "drift_stable")


@pytest.fixture(scope="module")
def workspace_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("evidently")


def _run(pg_server, database, model, workspace_dir, version="1"):
    conn = pg_server.endpoint.connect(database)
    try:
        run = run_feature_drift(conn, model, version, workspace_dir, AS_OF,
                                reference_end=REFERENCE_END, run_id="test")
        conn.commit()
    finally:
        conn.close()
    return run


@pytest.fixture(scope="module")
def stable_run(pg_server, stable_db, model, workspace_dir):
    return _run(pg_server, stable_db, model, workspace_dir)


@pytest.fixture(scope="module")
def shift_run(pg_server, model, tmp_path_factory):
    store = build_store(pg_server.endpoint, pg_server.create_database("drift_shift"), 8_000,
                        21, scenario="covariate_shift")
    assert store.sim.world.change_date == REFERENCE_END
    return _run(pg_server, store.database, model, tmp_path_factory.mktemp("evidently_shift"))


def _read(pg_server, database, sql, params=None) -> pd.DataFrame:
    conn = pg_server.endpoint.connect(database)
    try:
        return read_frame(conn, sql, params)
    finally:
        conn.close()


def test_the_current_quarter_is_the_newest_fully_decided_one(pg_server, stable_db,
                                                             stable_run):
    conn = pg_server.endpoint.connect(stable_db)
    try:
        start, end = frames.quarter_bounds(stable_run.quarter)
        assert frames.pending_share(conn, start, end) == 0.0
        later = frames.quarter_bounds(frames.quarter_of(end))
        assert later[0] < AS_OF and frames.pending_share(conn, *later) > 0.0
    finally:
        conn.close()


def test_a_stable_world_raises_no_alarm(stable_run, model):
    summary = stable_run.summary().set_index("role_family")
    assert set(summary.index) == set(model.families)
    assert (summary["n_current"] >= 100).all() and (summary["n_reference"] >= 1000).all()
    assert not summary["alarm"].any(), summary
    assert not summary["prediction_drifted"].any()
    assert (summary["drift_share"] < DriftPolicy().alarm_share).all()
    # every model input was tested, and no protected attribute was among them
    for family, result in stable_run.results.items():
        assert set(result.features["feature"]) | set(result.untested) == set(
            frames.model_features(model)[family])


def test_a_covariate_shift_is_flagged(shift_run):
    summary = shift_run.summary().set_index("role_family")
    assert summary["alarm"].sum() >= 2, summary
    drifted = result_table(shift_run.results).query("drifted and kind == 'feature'")
    assert any(dim in f for f in drifted["feature"] for dim in SHIFTED)


def _longest_number_list(node) -> int:
    if isinstance(node, dict):
        return max([_longest_number_list(v) for v in node.values()] + [0])
    if isinstance(node, list):
        own = len(node) if node and all(isinstance(x, int | float) for x in node) else 0
        return max([own] + [_longest_number_list(v) for v in node])
    return 0


def test_snapshots_are_in_the_one_project_tagged_and_readable(stable_run, workspace_dir):
    workspace, project = open_project(workspace_dir)
    assert [p.id for p in workspace.search_project(PROJECT_NAME)] == [project.id]
    saved = runs_for(workspace, project, stable_run.as_of, "1")
    assert saved == stable_run.snapshot_ids
    for family, snapshot_id in saved.items():
        snap = workspace.get_run(project.id, snapshot_id)
        assert family in snap.tags and f"as_of:{stable_run.as_of}" in snap.tags
        assert snap.metadata["model_version"] == "1"
        assert "statistic" in Snapshot.load_model(snap).get_html_str(as_iframe=False)


def test_snapshots_hold_no_row_data(stable_run, stable_db, pg_server, workspace_dir):
    workspace, project = open_project(workspace_dir)
    assert not list(workspace.list_datasets(project.id).datasets)  # include_data=False
    files = list(workspace_dir.rglob("snapshots/*.json"))
    assert len(files) == len(stable_run.snapshot_ids)
    ids = _read(pg_server, stable_db, "SELECT candidate_id FROM "
                f"{frames.CANDIDATE_FEATURES}")["candidate_id"]
    text = "".join(p.read_text() for p in workspace_dir.rglob("*.json"))
    assert text and not any(i in text for i in ids)
    # no per-row values either (Evidently's drift plots carry the current rows' values by
    # row index; monitoring.drift.aggregates_only replaces them by the figures)
    n_current = int(stable_run.summary()["n_current"].min())
    assert all(_longest_number_list(json.loads(p.read_text())) < n_current for p in files)


def test_table_rows_equal_the_results(stable_run, stable_db, pg_server):
    stored = _read(pg_server, stable_db, "SELECT role_family, feature, kind, method, "
                   "statistic, threshold, drifted, n_reference, n_current FROM "
                   "monitoring.feature_drift WHERE as_of = %s AND model_version = '1'",
                   [AS_OF]).sort_values(["role_family", "feature"]).reset_index(drop=True)
    expected = result_table(stable_run.results).sort_values(
        ["role_family", "feature"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    summary = _read(pg_server, stable_db, "SELECT role_family, n_drifted, drift_share, "
                    "alarm, snapshot_id, quarter FROM monitoring.feature_drift_summary "
                    "WHERE as_of = %s", [AS_OF]).set_index("role_family")
    assert summary["snapshot_id"].to_dict() == stable_run.snapshot_ids
    assert set(summary["quarter"]) == {stable_run.quarter}  # the quarter compared, named
    mine = stable_run.summary().set_index("role_family")
    assert summary["n_drifted"].to_dict() == mine["n_drifted"].to_dict()


def test_a_rerun_replaces_its_rows_and_snapshots(stable_run, stable_db, pg_server, model,
                                                 workspace_dir):
    def counts():
        rows = _read(pg_server, stable_db, "SELECT count(*) AS n FROM monitoring.feature_drift")
        return int(rows["n"].iloc[0]), len(list(workspace_dir.rglob("snapshots/*.json")))

    before = counts()
    again = _run(pg_server, stable_db, model, workspace_dir)
    assert counts() == before
    workspace, project = open_project(workspace_dir)
    assert runs_for(workspace, project, again.as_of, "1") == again.snapshot_ids
    pd.testing.assert_frame_equal(result_table(again.results), result_table(stable_run.results))


def test_bad_inputs_are_refused_clearly(feature_store):
    frame = feature_store.read("SELECT * FROM marts.fct_training_examples LIMIT 60")
    with pytest.raises(BannedFeatureError):
        family_drift(frame, frame, ["gender"], "sales")
    with pytest.raises(DriftInputError, match="model inputs are missing"):
        family_drift(frame, frame.drop(columns=["interviewer_logic"]), ["interviewer_logic"],
                     "sales")
    with pytest.raises(ValueError, match="YYYY-Qn"):
        frames.quarter_bounds("Q3 2024")
    assert json.dumps(frames.quarter_bounds("2024-Q4"), default=str) == (
        '["2024-10-01", "2025-01-01"]')
