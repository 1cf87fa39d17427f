"""train_and_log and judge without Dagster: a real feature store, a real MLflow store.

The rules the model assets rely on live here: what a logged run carries, and that the
champion and the challenger are judged on the same cohort with the same metric code.
"""

from __future__ import annotations

import uuid

import pytest

from ml.datasets import read_training_set
from ml.fingerprint import data_fingerprint
from ml.promotion import GatePolicy, apply_decision, judge
from ml.rater_offsets import read_rater_offsets
from ml.registry import (
    IDENTITY_TAGS,
    TAG_CONFIG_SHA256,
    TAG_DAGSTER_RUN,
    TAG_DATA_SHA256,
    register_version,
)
from ml.split import COHORT
from ml.train import TrainConfig
from ml.training_run import train_and_log

QUICK = TrainConfig(n_search=1, max_trees=60, early_stopping_rounds=10, refit=False,
                    strategies=("per_family",))


@pytest.fixture(scope="module")
def store_inputs(feature_store):
    conn = feature_store.connect()
    try:
        return read_training_set(conn), read_rater_offsets(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def trained(mlflow_target, store_inputs):
    frame, offsets = store_inputs
    return train_and_log(frame, QUICK, rater_offsets=offsets, make_figures=False,
                         dagster_run_id="run-under-test")


@pytest.fixture
def model_name() -> str:
    return f"hireloop-kpi-judge-{uuid.uuid4().hex[:8]}"


def _register(client, trained, model_name: str) -> str:
    return str(register_version(client, trained.logged.run_id, trained.logged.artifact_path,
                                model_name=model_name).version)


def test_train_and_log_logs_one_run_tagged_with_what_the_version_is_made_of(
        mlflow_target, store_inputs, trained):
    frame, _ = store_inputs
    run = mlflow_target.client.get_run(trained.logged.run_id)
    assert run.data.tags[TAG_DAGSTER_RUN] == "run-under-test"
    assert {k: run.data.tags[k] for k in IDENTITY_TAGS} == trained.identity
    assert trained.identity[TAG_DATA_SHA256] == data_fingerprint(frame)["sha256"]
    assert run.data.params["config.n_search"] == "1"
    assert trained.signature is not None and trained.strategy == "per_family"
    assert set(trained.holdout[COHORT].astype(str)) == set(trained.holdout_cohorts)
    assert trained.n_train + len(trained.holdout) <= len(frame)


def test_another_training_config_is_another_identity_on_the_same_data(
        mlflow_target, store_inputs, trained):
    frame, offsets = store_inputs
    other = train_and_log(frame, TrainConfig(**{**QUICK.__dict__, "early_stopping_rounds": 11}),
                          rater_offsets=offsets, make_figures=False)
    assert other.identity[TAG_DATA_SHA256] == trained.identity[TAG_DATA_SHA256]
    assert other.identity[TAG_CONFIG_SHA256] != trained.identity[TAG_CONFIG_SHA256]


def test_without_a_champion_the_challenger_is_promoted(mlflow_target, trained, model_name):
    _register(mlflow_target.client, trained, model_name)
    judged = judge(mlflow_target.client, trained.model, trained.holdout, model_name=model_name)
    assert judged.champion is None and judged.champion_version is None
    assert judged.decision.promote and judged.decision.reasons == ["no champion yet"]


def test_the_champion_and_the_challenger_are_judged_on_the_same_cohort(
        mlflow_target, trained, model_name):
    client = mlflow_target.client
    version = _register(client, trained, model_name)
    apply_decision(client, version, judge(client, trained.model, trained.holdout,
                                          model_name=model_name).decision,
                   "test", "first version", model_name=model_name)
    # A cohort other than the champion's own holdout: half of it, every other row.
    cohort = trained.holdout.iloc[::2]
    judged = judge(client, trained.model, cohort, GatePolicy(), model_name=model_name,
                   tracking_uri=mlflow_target.tracking_uri)
    assert judged.champion_version == version
    # The champion (read back from the registry) is the same model: on the same rows,
    # with the same metric code, its figures are the challenger's, to the last digit.
    assert judged.champion == judged.challenger
    assert judged.challenger["overall"]["n"] == len(cohort)
    assert {f: m["n"] for f, m in judged.champion["by_family"].items()} == (
        cohort["role_family"].astype(str).value_counts().to_dict())
    assert not judged.decision.promote  # no better than itself by the AUC margin


def test_train_and_log_logs_the_endpoint_schema_of_the_version(mlflow_target, trained):
    """The run that logs the model carries endpoint_schema.json, generated from the logged
    model's own input contract."""
    import json

    from mlflow.artifacts import download_artifacts

    from ml.endpoint_schema import SCHEMA_ARTIFACT
    from ml.pyfunc_model import contract_of
    from ml.scoring_input import accepted_fields

    path = download_artifacts(run_id=trained.logged.run_id, artifact_path=SCHEMA_ARTIFACT,
                              tracking_uri=mlflow_target.tracking_uri)
    with open(path) as fh:
        document = json.load(fh)
    assert document["info"]["version"] == f"run {trained.logged.run_id}"
    assert document["x-accepted-fields"] == accepted_fields(contract_of(trained.model))
