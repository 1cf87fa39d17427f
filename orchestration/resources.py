"""Dagster resources: the one place where configuration reaches the pipelines."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource

from ml.endpoint_launch import ServeSpec
from ml.evaluation import load_version_model
from ml.pyfunc_model import INFERENCE_LOG_ENV
from ml.registry import MODEL_NAME, MlflowTarget, champion_version, configure, version_by_alias
from ml.tracking import run_url
from orchestration import mlflow_auth, pg_roles
from orchestration.config import ENDPOINT_TOKEN_ENV, Settings, disable_telemetry
from orchestration.runtime import PgEndpoint, Runtime
from orchestration.services import EndpointProcess
from orchestration.supervisor import Supervisor


class HireloopRuntime(ConfigurableResource):
    """PostgreSQL and the state folder, as configured by the environment.

    `home` and `database_url` default to what `Settings.from_env()` finds; the pipelines
    never read the environment themselves.
    """

    home: str
    database_url: str | None = None
    database: str = "hireloop"
    language: str = "en"  # of the pages for HR people (HIRELOOP_LANGUAGE)

    @classmethod
    def from_settings(cls, settings: Settings) -> HireloopRuntime:
        return cls(home=str(settings.home), database_url=settings.database_url,
                   language=settings.language)

    @property
    def settings(self) -> Settings:
        return Settings(
            home=Path(self.home),
            database_url=self.database_url,
            pseudonym_key_hex=os.environ.get("HIRELOOP_PSEUDONYM_KEY") or None,
            endpoint_token_value=os.environ.get(ENDPOINT_TOKEN_ENV) or None,
            language=self.language,
        )

    def endpoint(self, role: str | None = None) -> PgEndpoint:
        """The server, started if embedded, with its databases in place; with `role` (a job
        of orchestration.pg_roles), as that job's PostgreSQL user, its database's grants
        in place; without, as the administrator (set-up, and the services not yet moved)."""
        admin = Runtime(self.settings).up()
        if role is None:
            return admin
        return pg_roles.job_endpoint(self.settings, admin, role, self.database)

    def store_endpoint(self, service: str, database: str) -> PgEndpoint:
        """How MLflow or Dagster (`service`) connects to its own store `database`."""
        return pg_roles.store_endpoint(self.settings, Runtime(self.settings).up(), service,
                                       database)

    @contextmanager
    def connection(self, role: str | None = None):
        """A psycopg2 connection to our database (as `role`, see `endpoint`), committed on
        success, rolled back on error."""
        conn = self.endpoint(role).connect(self.database)
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def export_dbt_env(self, role: str | None = None) -> None:
        """Point dbt's profiles.yml at our database (dbt runs as a subprocess of this one)."""
        disable_telemetry()
        os.environ.update(self.endpoint(role).dbt_env(self.database))


class MlflowResource(ConfigurableResource):
    """MLflow tracking and registry in our PostgreSQL; artifacts under `$HIRELOOP_HOME/mlflow`.

    Our own resource (dagster-mlflow is stale). `database` is "mlflow" in production; tests
    point it at a fresh database.
    """

    runtime: HireloopRuntime
    database: str = "mlflow"
    artifact_root: str | None = None
    ui_host: str = "127.0.0.1"
    ui_port: int = 5000
    model_name: str = MODEL_NAME

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> MlflowResource:
        """On this installation's PostgreSQL, its UI on `HIRELOOP_MLFLOW_PORT`."""
        return cls(runtime=HireloopRuntime.from_settings(settings),
                   **{"ui_port": settings.mlflow_port, **overrides})

    @property
    def tracking_uri(self) -> str:
        """The store as MLflow's own role (orchestration.pg_roles.STORE_ROLES)."""
        return self.runtime.store_endpoint("mlflow", self.database).url(self.database)

    @property
    def artifact_dir(self) -> Path:
        return Path(self.artifact_root or Path(self.runtime.home) / "mlflow")

    @property
    def ui_url(self) -> str:
        return f"http://{self.ui_host}:{self.ui_port}"

    def target(self) -> MlflowTarget:
        """Point MLflow (client and fluent API) here; returns the client and experiment."""
        disable_telemetry()
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        return configure(self.tracking_uri, self.artifact_dir)

    def champion_model(self, purpose: str) -> tuple[str, Any]:
        """The champion's version and its model (HireloopModel), for `purpose` ("score with",
        "monitor"); a RuntimeError saying what to run when there is no champion yet."""
        target = self.target()
        champion = champion_version(target.client, self.model_name)
        if champion is None:
            raise RuntimeError(f"no champion to {purpose}: materialise promotion_decision "
                               "first")
        version = str(champion.version)
        return version, load_version_model(target.client, version, self.model_name,
                                           tracking_uri=target.tracking_uri)

    def alias_model(self, alias: str) -> tuple[str, Any] | None:
        """The version `alias` points at and its model (HireloopModel), or None while the
        alias is unset (e.g. `previous_champion` before a second promotion)."""
        target = self.target()
        found = version_by_alias(target.client, alias, self.model_name)
        if found is None:
            return None
        version = str(found.version)
        return version, load_version_model(target.client, version, self.model_name,
                                           tracking_uri=target.tracking_uri)

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return run_url(self.ui_url, experiment_id, run_id)

    def ui_command(self, mlflow_executable: str) -> list[str]:
        """`mlflow server` for the UI, on this tracking database and artifact folder: the
        basic-auth app (`ui_env`), and only loopback Host headers (DNS rebinding)."""
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        return [mlflow_executable, "server", "--backend-store-uri", self.tracking_uri,
                "--default-artifact-root", self.artifact_dir.resolve().as_uri(),
                "-h", self.ui_host, "-p", str(self.ui_port),
                "--app-name", mlflow_auth.AUTH_APP,
                "--allowed-hosts", mlflow_auth.allowed_hosts(self.ui_port)]

    def ui_env(self) -> dict[str, str]:
        """The UI process's auth configuration and admin (orchestration.mlflow_auth)."""
        return mlflow_auth.server_env(self.runtime.settings)

    def ui_credentials(self) -> tuple[str, str]:
        """The UI's admin user and password, for a client of the UI's HTTP API."""
        return mlflow_auth.credentials(self.runtime.settings)


class EndpointResource(ConfigurableResource):
    """The scoring endpoint: where it listens, its workers, its inference log; its process
    is supervised under `home` (pid file `run/endpoint.pid`, log `logs/endpoint.log`)."""

    home: str
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    inference_log: str | None = None
    ready_timeout_s: float = 180.0
    pseudonym_key_file: str | None = None  # None: the key is in the environment
    token_file: str | None = None  # the bearer token's; None: in the environment, if any
    language: str = "en"  # the words of the reasons it returns: HIRELOOP_LANGUAGE

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> EndpointResource:
        """On `HIRELOOP_ENDPOINT_PORT`, in the platform's language, unless `overrides` say
        otherwise."""
        key_file, token_file = settings.pseudonym_key_file(), settings.endpoint_token_file()
        return cls(home=str(settings.home), **{
            "port": settings.endpoint_port, "language": settings.page_language,
            "pseudonym_key_file": str(key_file) if key_file else None,
            "token_file": str(token_file) if token_file else None, **overrides})

    @property
    def inference_log_path(self) -> Path:
        return Path(self.inference_log or Path(self.home) / "inference" / "scores.jsonl")

    @property
    def serving_context_path(self) -> Path:
        """The feature store's serving context, rewritten by each build
        (orchestration.serving_context) and reloaded by the endpoint when it changes."""
        return Path(self.home) / "serving" / "context.json"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def spec(self, tracking_uri: str) -> ServeSpec:
        """What the endpoint serves: the champion, with the inference log's path."""
        return ServeSpec(
            tracking_uri=tracking_uri, host=self.host, port=self.port, workers=self.workers,
            language=self.language, extra_env={INFERENCE_LOG_ENV: str(self.inference_log_path)},
            serving_context=str(self.serving_context_path),
            pseudonym_key_file=self.pseudonym_key_file, token_file=self.token_file,
        )

    def process(self, tracking_uri: str) -> EndpointProcess:
        """The supervised endpoint process serving `spec(tracking_uri)`."""
        return EndpointProcess(Supervisor(Path(self.home)), self.spec(tracking_uri),
                               ready_timeout_s=self.ready_timeout_s)
