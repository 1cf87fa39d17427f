"""The scoring endpoint as a managed process: `mlflow models serve` started detached.

MLflow resolves `models:/hireloop-kpi@champion` once, when the server starts, so moving
the alias changes nothing until the endpoint restarts: redeploying is `restart()`.
`mlflow models serve --env-manager local` execs `uvicorn` from PATH, so the interpreter's
bin folder goes first on PATH. State (pid, spec, log) lives in a folder the caller names;
the server runs in its own session so that stop() can end it with all its workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.registry import MODEL_NAME

CHAMPION_URI = f"models:/{MODEL_NAME}@champion"
_TELEMETRY_OFF = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}


@dataclass(frozen=True)
class ServeSpec:
    """What to serve, where, and with which MLflow."""

    tracking_uri: str
    state_dir: Path
    model_uri: str = CHAMPION_URI
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return Path(self.state_dir) / "serve.pid"

    @property
    def state_file(self) -> Path:
        return Path(self.state_dir) / "serve.json"

    @property
    def log_file(self) -> Path:
        return Path(self.state_dir) / "serve.log"


class ServeError(RuntimeError):
    """The endpoint could not be started or did not become ready."""


def command(spec: ServeSpec) -> list[str]:
    """The `mlflow models serve` command line for `spec` (the interpreter's own mlflow)."""
    cmd = [
        sys.executable, "-m", "mlflow", "models", "serve",
        "-m", spec.model_uri, "--env-manager", "local",
        "-h", spec.host, "-p", str(spec.port),
    ]
    if spec.workers > 1:
        cmd += ["--workers", str(spec.workers)]
    return cmd


def _child_env(spec: ServeSpec, base_env: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ if base_env is None else base_env)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")]).rstrip(os.pathsep)
    env["MLFLOW_TRACKING_URI"] = spec.tracking_uri
    env["MLFLOW_REGISTRY_URI"] = spec.tracking_uri
    env.update(_TELEMETRY_OFF)
    env.update(spec.extra_env)
    return env


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _read_pid(spec: ServeSpec) -> int | None:
    try:
        pid = int(spec.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not _pid_alive(pid):
        return None
    try:  # a recycled pid belonging to something else is not ours to signal
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if b"mlflow" in cmdline else None


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ping(url: str, timeout: float = 2.0) -> bool:
    """True when the scoring server answers /ping with 200."""
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(url: str, timeout: float = 120.0, pid: int | None = None) -> float:
    """Poll /ping until it answers; returns seconds waited.

    Fails fast when the server process (`pid`) dies instead of waiting out the timeout.
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if ping(url, timeout=1.0):
            return time.monotonic() - start
        if pid is not None and not _pid_alive(pid):
            raise ServeError(f"scoring server (pid {pid}) exited before {url}/ping answered")
        time.sleep(0.25)
    raise ServeError(f"{url}/ping did not answer within {timeout:.0f}s")


def start(
    spec: ServeSpec,
    *,
    served_version: str | None = None,
    base_env: Mapping[str, str] | None = None,
    wait: bool = True,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Start the endpoint detached; returns its status. Refuses if something holds the port.

    `served_version` is what `@champion` resolved to just before the start, recorded so the
    scoring log and the deploy asset can say which version answers.
    """
    running = _read_pid(spec)
    if running is not None:
        raise ServeError(f"endpoint already running (pid {running}); use restart()")
    if _port_in_use(spec.host, spec.port):
        raise ServeError(f"{spec.host}:{spec.port} is already in use by another process")
    Path(spec.state_dir).mkdir(parents=True, exist_ok=True)
    with open(spec.log_file, "ab") as log:
        log.write(f"\n=== {datetime.now(UTC).isoformat()} {' '.join(command(spec))}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            command(spec), env=_child_env(spec, base_env), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    spec.pid_file.write_text(f"{proc.pid}\n")
    state = {
        **{k: str(v) for k, v in asdict(spec).items() if k != "extra_env"},
        "pid": proc.pid,
        "served_version": served_version,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    spec.state_file.write_text(json.dumps(state, indent=2) + "\n")
    if wait:
        try:
            state["ready_after_s"] = round(wait_ready(spec.url, timeout, pid=proc.pid), 2)
        except ServeError as exc:
            stop(spec)
            raise ServeError(f"{exc}; see {spec.log_file}") from exc
    return status(spec)


def stop(spec: ServeSpec, timeout: float = 20.0) -> bool:
    """Stop the endpoint and its workers (SIGTERM, then SIGKILL); False if none was running."""
    pid = _read_pid(spec)
    spec.pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if not _pid_alive(pid):
            break
    # Workers left behind in the session would keep the port: make sure they are gone too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _port_in_use(spec.host, spec.port):
        time.sleep(0.1)
    return True


def restart(
    spec: ServeSpec,
    *,
    served_version: str | None = None,
    base_env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Redeploy: stop whatever runs, start again (re-resolving the alias), wait for /ping."""
    stop(spec)
    return start(
        spec, served_version=served_version, base_env=base_env, wait=True, timeout=timeout
    )


def status(spec: ServeSpec) -> dict[str, Any]:
    """Whether the endpoint runs and answers, and what it was started with."""
    try:
        state = json.loads(spec.state_file.read_text())
    except (OSError, ValueError):
        state = {}
    pid = _read_pid(spec)
    return {
        **state,
        "running": pid is not None,
        "pid": pid,
        "url": spec.url,
        "ready": pid is not None and ping(spec.url),
        "log": str(spec.log_file),
    }
