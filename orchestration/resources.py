"""Dagster resources: the one place where configuration reaches the pipelines."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource

from ml.pyfunc_model import INFERENCE_LOG_ENV
from ml.registry import MODEL_NAME, MlflowTarget, configure
from ml.serving import ServeSpec
from ml.tracking import run_url
from orchestration.config import Settings, disable_telemetry
from orchestration.runtime import PgEndpoint, Runtime


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
            language=self.language,
        )

    def endpoint(self) -> PgEndpoint:
        """The server, started if embedded, with its databases in place."""
        return Runtime(self.settings).up()

    @contextmanager
    def connection(self):
        """A psycopg2 connection to our database, committed on success, rolled back on error."""
        conn = self.endpoint().connect(self.database)
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def export_dbt_env(self) -> None:
        """Point dbt's profiles.yml at our database (dbt runs as a subprocess of this one)."""
        disable_telemetry()
        os.environ.update(self.endpoint().dbt_env(self.database))


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

    @property
    def tracking_uri(self) -> str:
        return self.runtime.endpoint().url(self.database)

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

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return run_url(self.ui_url, experiment_id, run_id)

    def ui_command(self, mlflow_executable: str) -> list[str]:
        """`mlflow server` for the UI, on this tracking database and artifact folder."""
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        return [mlflow_executable, "server", "--backend-store-uri", self.tracking_uri,
                "--default-artifact-root", self.artifact_dir.resolve().as_uri(),
                "-h", self.ui_host, "-p", str(self.ui_port)]


class EndpointResource(ConfigurableResource):
    """The scoring endpoint: where it listens, its workers, its state and inference log."""

    home: str
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    state_dir: str | None = None
    inference_log: str | None = None
    ready_timeout_s: float = 180.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> EndpointResource:
        return cls(home=str(settings.home), **overrides)

    @property
    def inference_log_path(self) -> Path:
        return Path(self.inference_log or Path(self.home) / "inference" / "scores.jsonl")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def spec(self, tracking_uri: str) -> ServeSpec:
        """What `mlflow models serve` runs: the champion, with the inference log's path."""
        return ServeSpec(
            tracking_uri=tracking_uri,
            state_dir=Path(self.state_dir or Path(self.home) / "serve"),
            host=self.host, port=self.port, workers=self.workers,
            extra_env={INFERENCE_LOG_ENV: str(self.inference_log_path)},
        )
