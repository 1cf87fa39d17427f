"""Dagster resources: the one place where configuration reaches the pipelines."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource

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

    @classmethod
    def from_settings(cls, settings: Settings) -> HireloopRuntime:
        return cls(home=str(settings.home), database_url=settings.database_url)

    @property
    def settings(self) -> Settings:
        return Settings(
            home=Path(self.home),
            database_url=self.database_url,
            pseudonym_key_hex=os.environ.get("HIRELOOP_PSEUDONYM_KEY") or None,
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
