"""The platform's supervised services: the scoring endpoint and the UIs (with the daemon).

Each is a `supervisor.Service`; its `launch` is built only at start, so reporting status
starts nothing (not even PostgreSQL). A new UI (the Evidently UI, an auth layer) is one
more function here and one more entry in `UI_SERVICES`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ml import endpoint_launch
from orchestration.config import MLFLOW_ADMIN_USER, TELEMETRY_OFF, Settings
from orchestration.supervisor import Launch, Service, ServiceError, Supervisor

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENDPOINT = "endpoint"


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **TELEMETRY_OFF, **extra}


def dagster_webserver(settings: Settings, mlflow: Any = None) -> Service:
    """`dagster-webserver` on the workspace (not `dagster dev`: its daemon outlived it)."""
    def launch() -> Launch:
        from orchestration.dbt import ensure_manifest

        ensure_manifest()  # current before the webserver and the daemon both load it
        return Launch([BIN / "dagster-webserver", "-w", REPO_ROOT / "workspace.yaml",
                       "-h", "127.0.0.1", "-p", str(settings.dagster_port)],
                      env=_env(DAGSTER_HOME=str(settings.dagster_home)), cwd=REPO_ROOT)

    return Service("dagster-webserver", "Dagster UI", launch, port=settings.dagster_port,
                   probe_path="/server_info", port_setting="HIRELOOP_DAGSTER_PORT")


def dagster_daemon(settings: Settings, mlflow: Any = None) -> Service:
    """`dagster-daemon run`: schedules, sensors and run monitoring (one per Dagster home)."""
    def launch() -> Launch:
        return Launch([BIN / "dagster-daemon", "run", "-w", REPO_ROOT / "workspace.yaml"],
                      env=_env(DAGSTER_HOME=str(settings.dagster_home)), cwd=REPO_ROOT)

    return Service("dagster-daemon", "Dagster daemon", launch)


def mlflow_ui(settings: Settings, mlflow: Any = None) -> Service:
    """`mlflow server` on the tracking database: what the Dagster run links open (the
    browser asks for the admin password: orchestration.mlflow_auth).

    `mlflow` is the `MlflowResource` (needed only to launch: it starts PostgreSQL).
    """
    def launch() -> Launch:
        # Job execution (GenAI trace jobs, unused here) would add seven huey workers.
        return Launch([*mlflow.ui_command(str(BIN / "mlflow")), "--workers", "1"],
                      env=_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", **mlflow.ui_env()))

    login = (f"sign in as {MLFLOW_ADMIN_USER}, password in "
             f"{settings.mlflow_admin_password_file(create=False)}")
    return Service("mlflow-ui", "MLflow UI", launch, port=settings.mlflow_port,
                   probe_path="/health", port_setting="HIRELOOP_MLFLOW_PORT", login=login)


def evidently_ui(settings: Settings, mlflow: Any = None) -> Service:
    """`evidently ui` over the workspace, with the project's dashboard panels in place.

    Its API guards no read (only writes, with `--secret`), so it binds 127.0.0.1 only;
    DO_NOT_TRACK is set (TELEMETRY_OFF), as Evidently must never start without it. It reads
    the workspace at start: snapshots added later show after the project's reload
    (`/api/projects/<id>/reload`, which the UI's own page calls too)."""
    def launch() -> Launch:
        from hris.contract import ROLE_FAMILIES
        from monitoring.dashboard import FAMILY_ALL, prepare

        prepare(settings.evidently_dir, [*ROLE_FAMILIES, FAMILY_ALL])
        return Launch([BIN / "evidently", "ui", "--host", "127.0.0.1",
                       "--port", str(settings.evidently_port),
                       "--workspace", str(settings.evidently_dir)],
                      env=_env(), cwd=settings.home)

    return Service("evidently-ui", "Evidently UI", launch, port=settings.evidently_port,
                   probe_path="/api/version", port_setting="HIRELOOP_EVIDENTLY_PORT")


# Started in this order by `hireloop ui`, stopped in reverse.
UI_SERVICES: tuple[Callable[..., Service], ...] = (dagster_webserver, dagster_daemon, mlflow_ui,
                                                   evidently_ui)


def adopt_legacy_endpoint(supervisor: Supervisor, home: Path) -> None:
    """An endpoint started by hireloop 0.1 before the supervisor (`serve/serve.pid`) is
    taken over, so `down` stops it instead of leaving it on the port."""
    legacy = home / "serve" / "serve.pid"
    try:
        pid = int(legacy.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        legacy.unlink(missing_ok=True)
        return
    if b"models\0serve" in cmdline and not supervisor.pid_file(ENDPOINT).exists():
        supervisor.adopt(ENDPOINT, pid, "scoring endpoint")
    legacy.unlink(missing_ok=True)


class EndpointProcess:
    """The scoring endpoint under the supervisor: the `ml.deploy.EndpointProcess` given to
    the deploy step. The served version is recorded in its pid file at start."""

    def __init__(self, supervisor: Supervisor, spec: endpoint_launch.ServeSpec, *,
                 base_env: Mapping[str, str] | None = None, ready_timeout_s: float = 180.0):
        self.supervisor, self.spec = supervisor, spec
        self.base_env = base_env
        self.ready_timeout_s = ready_timeout_s

    @property
    def language(self) -> str:
        """The language it is to speak (its reasons' words): the deploy step restarts an
        endpoint started in another."""
        return self.spec.language

    def service(self, served_version: str | None = None) -> Service:
        spec = self.spec

        def launch() -> Launch:
            base = os.environ if self.base_env is None else self.base_env
            env = endpoint_launch.child_env(spec, base)
            return Launch(endpoint_launch.command(spec), env=env,
                          meta={"served_version": served_version, "workers": spec.workers,
                                "model_uri": spec.model_uri, "language": spec.language})

        return Service(ENDPOINT, "scoring endpoint", launch, host=spec.host, port=spec.port,
                       probe_path="/ping", port_setting="HIRELOOP_ENDPOINT_PORT",
                       ready_timeout_s=self.ready_timeout_s)

    def status(self) -> dict[str, Any]:
        service = self.service()
        state = self.supervisor.status(service)
        return {**state.meta, "running": state.running, "pid": state.pid, "url": state.url,
                "ready": state.running and endpoint_launch.ping(self.spec.url),
                "log": str(state.log)}

    def start(self, served_version: str | None = None) -> dict[str, Any]:
        """Start unless running (then nothing is started: see `started`); waits for /ping."""
        try:
            _, started = self.supervisor.start(self.service(served_version))
        except ServiceError as exc:
            raise endpoint_launch.ServeError(str(exc)) from exc
        return {**self.status(), "started": started}

    def stop(self) -> bool:
        return self.supervisor.stop(ENDPOINT)

    def restart(self, served_version: str | None = None) -> dict[str, Any]:
        self.stop()
        return self.start(served_version)
