"""`hireloop ui` starts an MLflow server that opens what the Dagster run links point at, to
its admin only (basic auth), and only under a loopback Host name."""

from __future__ import annotations

import base64
import socket
import stat
import urllib.error
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


def _request(url: str, credentials: tuple[str, str] | None = None,
             host: str | None = None) -> tuple[int, bytes, str]:
    """The status, body and content type (an HTTP error's too)."""
    request = urllib.request.Request(url)
    if credentials:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


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


def test_ui_serves_the_linked_run_and_its_plots_to_its_admin(mlflow_ui):
    resource, target, run_id = mlflow_ui
    admin = resource.ui_credentials()
    link = resource.run_url(target.experiment_id, run_id)
    page = link.split("#", 1)[0]
    status, body, kind = _request(page, admin)
    assert status == 200 and "text/html" in kind and b"<html" in body.lower()

    status, body, _ = _request(f"{resource.ui_url}/api/2.0/mlflow/runs/get?run_id={run_id}",
                               admin)
    assert status == 200 and b"model.overall.roc_auc" in body

    status, body, _ = _request(
        f"{resource.ui_url}/get-artifact?path=plots/roc.png&run_uuid={run_id}", admin)
    assert status == 200 and body.startswith(b"\x89PNG")


def test_ui_refuses_an_anonymous_request_and_a_wrong_password(mlflow_ui):
    resource, _, run_id = mlflow_ui
    api = f"{resource.ui_url}/api/2.0/mlflow/runs/get?run_id={run_id}"
    for credentials in (None, (resource.ui_credentials()[0], "not-the-password")):
        status, body, _ = _request(api, credentials)
        assert status == 401 and b"model.overall.roc_auc" not in body
    status, body, _ = _request(
        f"{resource.ui_url}/get-artifact?path=plots/roc.png&run_uuid={run_id}")
    assert status == 401 and not body.startswith(b"\x89PNG")


def test_ui_refuses_a_foreign_host_header(mlflow_ui):
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends its own name."""
    resource, _, run_id = mlflow_ui
    api = f"{resource.ui_url}/api/2.0/mlflow/runs/get?run_id={run_id}"
    status, body, _ = _request(api, resource.ui_credentials(), host="evil.example")
    assert status == 403 and b"model.overall.roc_auc" not in body
    status, _, _ = _request(api, resource.ui_credentials(), host=f"localhost:{resource.ui_port}")
    assert status == 200


def test_the_admin_password_and_auth_state_are_private(mlflow_ui):
    resource, _, _ = mlflow_ui
    settings = resource.runtime.settings
    password = settings.mlflow_admin_password_file()
    assert stat.S_IMODE(password.stat().st_mode) == 0o600
    assert stat.S_IMODE(password.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.mlflow_auth_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.mlflow_auth_dir / "basic_auth.ini").stat().st_mode) == 0o600
