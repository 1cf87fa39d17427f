"""`hireloop ui` starts an MLflow server that opens what the Dagster run links point at."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from orchestration.config import Settings
from orchestration.resources import HireloopRuntime, MlflowResource
from orchestration.services import mlflow_ui as mlflow_ui_service
from orchestration.supervisor import Supervisor


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read(), response.headers.get("Content-Type", "")


@pytest.fixture
def mlflow_ui(pg_server, hireloop_home, tmp_path):
    """A run with a plot in a fresh tracking database, and the UI server `hireloop ui` starts."""
    import mlflow

    runtime = HireloopRuntime(home=str(hireloop_home))
    resource = MlflowResource(runtime=runtime, database=pg_server.create_database("mlflow_ui"),
                              artifact_root=str(tmp_path / "artifacts"), ui_port=_free_port())
    target = resource.target()
    plot = tmp_path / "roc.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with mlflow.start_run(experiment_id=target.experiment_id) as run:
        mlflow.log_metric("model.overall.roc_auc", 0.7)
        mlflow.log_artifact(str(plot), "plots")
    settings = Settings(home=tmp_path / "home", mlflow_port=resource.ui_port)
    supervisor = Supervisor(settings.home)
    service = mlflow_ui_service(settings, resource)  # the very service `hireloop ui` starts
    supervisor.start(service)  # returns once /health answers
    yield resource, target, run.info.run_id
    assert supervisor.stop(service.name)


def test_ui_serves_the_linked_run_and_its_plots(mlflow_ui):
    resource, target, run_id = mlflow_ui
    link = resource.run_url(target.experiment_id, run_id)
    page = link.split("#", 1)[0]
    status, body, kind = _get(page)
    assert status == 200 and "text/html" in kind and b"<html" in body.lower()

    status, body, _ = _get(f"{resource.ui_url}/api/2.0/mlflow/runs/get?run_id={run_id}")
    assert status == 200 and b"model.overall.roc_auc" in body

    status, body, _ = _get(
        f"{resource.ui_url}/get-artifact?path=plots/roc.png&run_uuid={run_id}")
    assert status == 200 and body.startswith(b"\x89PNG")
