"""The scoring endpoint, described: the command that serves it, and its ping.

The endpoint is MLflow's own scoring app inside our ASGI layer (ml/scoring_app.py), run by
uvicorn in this interpreter, with `mlflow models serve --env-manager local` semantics: the
model is loaded in the server's process from `models:/hireloop-kpi@champion`, resolved
once, when the server starts, so moving the alias changes nothing until the endpoint
restarts: redeploying is a restart. The checkout holding this `ml` goes first on
PYTHONPATH, so the layer served is the code that launched it. Running the process (pid
file, log, readiness, stop) is orchestration's supervisor's job; `ml` only says what to
run (`command`, `child_env`).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ml.registry import MODEL_NAME

CHAMPION_URI = f"models:/{MODEL_NAME}@champion"
_TELEMETRY_OFF = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}


@dataclass(frozen=True)
class ServeSpec:
    """What to serve, where, and with which MLflow."""

    tracking_uri: str
    model_uri: str = CHAMPION_URI
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    max_body_bytes: int = 1_000_000  # larger bodies answer 413 (split the batch)
    read_timeout_s: float = 10.0  # a body not received within this answers 408
    language: str = "en"  # the words of the reasons (en | zh): the platform's language
    mlflow_only: bool = False  # `mlflow models serve` without our layer (the bench's floor)
    # the interview-records routes: the feature store's serving context (rewritten by each
    # build) and the pseudonym key's file (None: the key is in the inherited environment)
    serving_context: str | None = None
    pseudonym_key_file: str | None = None
    # the bearer token's file (None: $HIRELOOP_ENDPOINT_TOKEN inherited, else no token asked);
    # its path goes on the command line, never the token (`ps` shows arguments to everyone)
    token_file: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class ServeError(RuntimeError):
    """The endpoint could not be started or did not become ready."""


def command(spec: ServeSpec) -> list[str]:
    """The command line serving `spec`: `python -m ml.scoring_app` in this interpreter
    (`mlflow models serve --env-manager local` for `mlflow_only`)."""
    if spec.mlflow_only:
        cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", spec.model_uri,
               "--env-manager", "local", "-h", spec.host, "-p", str(spec.port)]
        return cmd + (["--workers", str(spec.workers)] if spec.workers > 1 else [])
    cmd = [
        sys.executable, "-m", "ml.scoring_app", "--model-uri", spec.model_uri,
        "--host", spec.host, "--port", str(spec.port),
        "--max-body-bytes", str(spec.max_body_bytes),
        "--read-timeout-s", f"{spec.read_timeout_s:g}", "--language", spec.language,
    ]
    if spec.workers > 1:
        cmd += ["--workers", str(spec.workers)]
    if spec.serving_context:
        cmd += ["--serving-context", spec.serving_context]
    if spec.pseudonym_key_file:
        cmd += ["--pseudonym-key-file", spec.pseudonym_key_file]
    if spec.token_file:
        cmd += ["--token-file", spec.token_file]
    return cmd


def child_env(spec: ServeSpec, base_env: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: `base_env`, this interpreter first on PATH, this checkout
    first on PYTHONPATH, our MLflow."""
    env = dict(base_env)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")]).rstrip(os.pathsep)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MLFLOW_TRACKING_URI"] = spec.tracking_uri
    env["MLFLOW_REGISTRY_URI"] = spec.tracking_uri
    env.update(_TELEMETRY_OFF)
    env.update(spec.extra_env)
    return env


def ping(url: str, timeout: float = 2.0) -> bool:
    """True when the scoring server answers /ping with 200."""
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False
