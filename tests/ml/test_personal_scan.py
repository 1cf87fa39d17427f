"""The personal-data scan on a real 8,000-applicant store with a trained, logged model: it
finds nothing in a normal run, and finds a name a test writes into an MLflow tag."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pytest

from hris.personal_values import mask
from ml.datasets import read_training_set
from ml.rater_offsets import read_rater_offsets
from ml.train import TrainConfig
from ml.training_run import train_and_log
from monitoring.personal_scan import format_scan, scan_personal_data

QUICK = TrainConfig(n_search=1, max_trees=40, early_stopping_rounds=10, refit=False,
                    strategies=("per_family",))


@pytest.fixture(scope="module")
def logged(feature_store, mlflow_target):
    conn = feature_store.connect()
    try:
        frame, offsets = read_training_set(conn), read_rater_offsets(conn)
    finally:
        conn.close()
    return train_and_log(frame, QUICK, rater_offsets=offsets, make_figures=False,
                         dagster_run_id="run-under-test")


def _scan(feature_store, mlflow_target):
    database = urlsplit(mlflow_target.tracking_uri).path.lstrip("/")
    return scan_personal_data(feature_store.endpoint.connect, store=feature_store.database,
                              other_databases=(database,),
                              folders=[Path(urlsplit(mlflow_target.artifact_location).path)])


def test_a_normal_store_and_logged_model_hold_no_personal_value(feature_store, mlflow_target,
                                                                logged):
    result = _scan(feature_store, mlflow_target)
    assert result.needles > 8_000 and result.columns > 50 and result.files > 3
    assert result.clean, format_scan(result)
    print(f"\nscan of the 8,000 store + MLflow: {result.seconds:.1f} s")


def test_a_name_written_into_an_mlflow_tag_is_found_masked(feature_store, mlflow_target,
                                                           logged):
    name = feature_store.sim.raw["candidates"]["full_name"].iloc[17]
    client = mlflow_target.client
    client.set_tag(logged.logged.run_id, "note", f"reviewed with {name} today")
    try:
        result = _scan(feature_store, mlflow_target)
    finally:
        client.delete_tag(logged.logged.run_id, "note")
    hits = [h for h in result.hits if h.kind == "full_name"]
    assert hits and all(":" in h.location for h in hits)
    assert any(".tags.value" in h.location for h in hits), format_scan(result)
    assert {h.masked for h in hits} == {mask(name)}
    assert name not in format_scan(result)


def test_a_national_id_in_a_logged_artifact_is_found(feature_store, mlflow_target, logged,
                                                     tmp_path):
    national_id = feature_store.sim.raw["employees"]["national_id"].iloc[3]
    note = tmp_path / "notes.txt"
    note.write_text(f"case of {national_id}\n")
    with mlflow.start_run(run_id=logged.logged.run_id):
        mlflow.log_artifact(str(note))
    result = _scan(feature_store, mlflow_target)
    assert [h.kind for h in result.hits if h.location.endswith("notes.txt")] == ["national_id"]
