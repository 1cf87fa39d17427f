"""`hireloop endpoint-schema` against the installation's real MLflow store: it prints the
contract logged with the champion (or `--version N`), with the version number filled in."""

from __future__ import annotations

import json

import mlflow
import pytest
from typer.testing import CliRunner

from ml.decision_route import DECISION_PATH, add_decision_route
from ml.endpoint_schema import endpoint_schema
from ml.promotion import promote
from ml.pyfunc_model import contract_of, log_pyfunc
from ml.registry import register_version
from monitoring.hiring_decisions import DECISIONS, published_rules
from orchestration.cli import _mlflow, app
from tests.ml.model_fixture import trained_model

runner = CliRunner()


@pytest.fixture
def champion(monkeypatch, pg_server, hireloop_home, feature_store):
    """A version logged, registered and promoted in the CLI's own MLflow store."""
    monkeypatch.setenv("HIRELOOP_HOME", str(hireloop_home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    resource = _mlflow()
    target = resource.target()
    model = trained_model(feature_store)
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(target.tracking_uri)
    mlflow.set_registry_uri(target.tracking_uri)
    try:
        with mlflow.start_run() as run:
            log_pyfunc(model, "model", model_name=resource.model_name)
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    version = register_version(target.client, run.info.run_id, "model",
                               model_name=resource.model_name)
    promote(target.client, version.version, actor="test", why="schema test",
            model_name=resource.model_name)
    return str(version.version), model


def test_endpoint_schema_prints_the_champions_contract(champion):
    version, model = champion
    result = runner.invoke(app, ["endpoint-schema"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    logged = endpoint_schema(contract_of(model), 1000, version)
    assert printed == json.loads(json.dumps(add_decision_route(logged, *published_rules())))
    decision = printed["paths"][DECISION_PATH]["post"]  # as the endpoint serves it
    assert decision["operationId"] == "recordDecision"
    assert set(printed["components"]["schemas"]["DecisionRequest"]["properties"]
               ["decision"]["enum"]) == set(DECISIONS)
    again = runner.invoke(app, ["endpoint-schema", "--version", version])
    assert again.exit_code == 0 and json.loads(again.stdout) == printed


def test_an_unknown_version_is_refused_in_one_line(champion):
    result = runner.invoke(app, ["endpoint-schema", "--version", "999"])
    assert result.exit_code == 2
    assert "no version 999" in result.output and "Traceback" not in result.output
