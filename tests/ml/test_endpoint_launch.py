"""The endpoint process: MLflow's scoring app of `@champion` in our ASGI layer, over real HTTP
on loopback, run by orchestration's supervisor as `ml.deploy` is given it."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid

import pytest

from ml.endpoint_launch import ServeError, ServeSpec, ping
from ml.promotion import promote
from ml.registry import register_version
from orchestration.services import EndpointProcess
from orchestration.supervisor import Supervisor
from tests.ml.conftest import example_frame, log_constant_model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def score(url: str, rows: int = 2) -> list[float]:
    frame = example_frame(rows)
    body = json.dumps({"dataframe_split": frame.to_dict(orient="split", index=False)}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())["predictions"]


@pytest.fixture
def served(mlflow_target, tmp_path):
    """A model name of the test's own and the endpoint serving its champion on a free port."""
    name = f"hireloop-kpi-serve-{uuid.uuid4().hex[:8]}"
    spec = ServeSpec(
        tracking_uri=mlflow_target.tracking_uri,
        model_uri=f"models:/{name}@champion",
        port=free_port(),
    )
    process = EndpointProcess(Supervisor(tmp_path), spec, ready_timeout_s=60)
    yield name, process
    process.stop()


def register_constant(client, name: str, value: float) -> str:
    run_id = log_constant_model(value)
    return str(register_version(client, run_id, "model", model_name=name).version)


def test_serves_champion_and_redeploys_on_alias_move(mlflow_target, served):
    client, (name, process) = mlflow_target.client, served
    spec = process.spec
    v1 = register_constant(client, name, 0.25)
    promote(client, v1, actor="test", why="first model", model_name=name)

    state = process.start(served_version=v1)
    assert state["running"] and state["ready"] and state["served_version"] == v1
    assert ping(spec.url)
    assert score(spec.url, rows=3) == [0.25, 0.25, 0.25]

    v2 = register_constant(client, name, 0.75)
    promote(client, v2, actor="test", why="better model", model_name=name)
    assert score(spec.url) == [0.25, 0.25]  # @champion was resolved at start

    old_pid = state["pid"]
    state = process.restart(served_version=v2)
    assert state["pid"] != old_pid and state["served_version"] == v2
    assert score(spec.url) == [0.75, 0.75]

    again = process.start(served_version=v1)  # a second start starts nothing
    assert not again["started"] and again["pid"] == state["pid"]
    assert again["served_version"] == v2
    assert process.stop()
    assert not ping(spec.url)
    assert process.status()["running"] is False
    assert not process.stop()


def test_start_fails_fast_on_unknown_model(served):
    _, process = served
    with pytest.raises(ServeError, match=r"exited before it was ready; see .*endpoint\.log"):
        process.start()
    assert process.status()["running"] is False


def test_the_platform_language_reaches_the_endpoint_command(tmp_path):
    """HIRELOOP_LANGUAGE (Settings.language) -> EndpointResource -> ServeSpec -> --language:
    the layer is told, it never reads the environment itself."""
    from dataclasses import replace

    from ml.endpoint_launch import command
    from orchestration.config import Settings
    from orchestration.resources import EndpointResource

    spec = EndpointResource.from_settings(Settings(home=tmp_path, language="zh")).spec("x")
    cmd = command(spec)
    assert spec.language == "zh" and cmd[cmd.index("--language") + 1] == "zh"
    assert command(ServeSpec(tracking_uri="x"))[-2:] == ["--language", "en"]
    assert "--language" not in command(replace(spec, mlflow_only=True))


def test_an_unknown_language_is_refused_before_anything_is_served():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-m", "ml.scoring_app", "--model-uri", "models:/none@champion",
         "--language", "fr"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": root, "HIRELOOP_LANGUAGE": "zh"})
    assert done.returncode == 2
    assert "unknown page language 'fr'" in done.stderr and "one of en, zh" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_endpoint_speaking_another_language_is_redeployed():
    """HIRELOOP_LANGUAGE changed: the deploy step restarts the endpoint even though it
    serves the champion (the language is read when it starts, like the alias)."""
    from ml.deploy import redeploy_reason

    running = {"running": True, "ready": True, "served_version": "3"}
    assert redeploy_reason({**running, "language": "zh"}, "3", "zh") is None
    assert redeploy_reason(running, "3", "en") is None  # said nothing: English
    assert redeploy_reason({**running, "language": "en"}, "3", "zh") == (
        "endpoint gives its reasons in en, the platform's language is zh")
    assert redeploy_reason({**running, "language": "en"}, "3") is None
    assert redeploy_reason({**running, "language": "zh"}, "4", "zh") == (
        "endpoint serves version 3, champion is 4")


def test_the_installation_token_reaches_the_endpoint_as_a_file_path(tmp_path):
    """Settings -> EndpointResource -> ServeSpec -> --token-file: the path, never the token;
    with HIRELOOP_ENDPOINT_TOKEN set there is no file (the server inherits the variable)."""
    from ml.endpoint_launch import command
    from orchestration.config import Settings
    from orchestration.resources import EndpointResource

    settings = Settings(home=tmp_path)
    spec = EndpointResource.from_settings(settings).spec("x")
    cmd = command(spec)
    assert cmd[cmd.index("--token-file") + 1] == spec.token_file
    assert spec.token_file == str(tmp_path / "secrets" / "endpoint.token")
    assert not any(settings.endpoint_token() in arg for arg in cmd)
    from_env = Settings(home=tmp_path, endpoint_token_value="operator-set")
    assert "--token-file" not in command(EndpointResource.from_settings(from_env).spec("x"))


def test_an_unreadable_token_file_is_refused_before_anything_is_served(tmp_path):
    """A token file named but absent or empty: the endpoint must not start open."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    (tmp_path / "empty.token").write_text("")
    for token_file in (tmp_path / "absent.token", tmp_path / "empty.token"):
        done = subprocess.run(
            [sys.executable, "-m", "ml.scoring_app", "--model-uri", "models:/none@champion",
             "--token-file", str(token_file)], capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": root})
        assert done.returncode == 2, done.stderr
        assert "token file" in done.stderr and str(token_file) in done.stderr
