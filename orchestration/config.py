"""Configuration, read from the environment in one place (DESIGN.md, "Configuration").

Only orchestration reads the environment; the libraries get what they need as
arguments. Telemetry is switched off here for every tool we start.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from hris.data_crypto import DataCipher, create_secret_file
from ml.bearer_token import TOKEN_ENV as ENDPOINT_TOKEN_ENV

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "true",
}

DAGSTER_DATABASE = "dagster"
DATABASES = ("hireloop", "mlflow", DAGSTER_DATABASE)

MLFLOW_ADMIN_USER = "admin"  # the MLflow UI's admin (its password: Settings.secret_file)

# Where the platform's servers listen (all on 127.0.0.1): variable -> default port.
PORT_SETTINGS = {
    "HIRELOOP_ENDPOINT_PORT": 5001,
    "HIRELOOP_DAGSTER_PORT": 3000,
    "HIRELOOP_MLFLOW_PORT": 5000,
    "HIRELOOP_EVIDENTLY_PORT": 8000,
}


class ConfigError(ValueError):
    """A configuration variable holds a value hireloop cannot use (the message says which)."""


def _port(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return PORT_SETTINGS[name]
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def role_database_url(job: str) -> str | None:
    """`HIRELOOP_PG_<JOB>_URL`: on an external server, the URL one job connects with (its
    own PostgreSQL user, orchestration.pg_roles); None when unset."""
    return os.environ.get(f"HIRELOOP_PG_{job.upper()}_URL") or None


def disable_telemetry() -> None:
    """Force telemetry off in this process and every child it starts."""
    os.environ.update(TELEMETRY_OFF)


@dataclass(frozen=True)
class Settings:
    """Where hireloop keeps its state and which PostgreSQL it talks to."""

    home: Path
    database_url: str | None = None
    pseudonym_key_hex: str | None = None
    endpoint_token_value: str | None = None  # HIRELOOP_ENDPOINT_TOKEN (wins over the file)
    language: str = "en"  # HIRELOOP_LANGUAGE: pages for HR people in en | zh
    endpoint_port: int = PORT_SETTINGS["HIRELOOP_ENDPOINT_PORT"]
    dagster_port: int = PORT_SETTINGS["HIRELOOP_DAGSTER_PORT"]
    mlflow_port: int = PORT_SETTINGS["HIRELOOP_MLFLOW_PORT"]
    evidently_port: int = PORT_SETTINGS["HIRELOOP_EVIDENTLY_PORT"]

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("HIRELOOP_HOME", "./.hireloop")).expanduser().resolve()
        return cls(
            home=home,
            database_url=os.environ.get("HIRELOOP_DATABASE_URL") or None,
            pseudonym_key_hex=os.environ.get("HIRELOOP_PSEUDONYM_KEY") or None,
            endpoint_token_value=os.environ.get(ENDPOINT_TOKEN_ENV) or None,
            language=os.environ.get("HIRELOOP_LANGUAGE", "").strip().lower() or "en",
            endpoint_port=_port("HIRELOOP_ENDPOINT_PORT"),
            dagster_port=_port("HIRELOOP_DAGSTER_PORT"),
            mlflow_port=_port("HIRELOOP_MLFLOW_PORT"),
            evidently_port=_port("HIRELOOP_EVIDENTLY_PORT"),
        )

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def evidently_dir(self) -> Path:
        """The Evidently workspace (one project, "hireloop")."""
        return self.home / "evidently"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def personal_scan_folders(self) -> list[Path]:
        """Where files that must hold no personal value live: MLflow artifacts, Evidently
        snapshots, every report, the endpoint's inference log, the services' logs."""
        return [self.home / "mlflow", self.evidently_dir, self.reports_dir,
                self.home / "inference", self.home / "logs"]

    @property
    def page_language(self) -> str:
        """The language of HR pages; a clear error naming the choices when it is unknown."""
        from monitoring.i18n import check_language

        return check_language(self.language)

    def pseudonym_key_file(self) -> Path | None:
        """Where the key lives when it is not in the environment (the endpoint reads it there;
        None: HIRELOOP_PSEUDONYM_KEY holds it, and the endpoint inherits the variable)."""
        return None if self.pseudonym_key_hex else self.home / "pseudonym.key"

    def pseudonym_key(self) -> bytes:
        """The HMAC key for pseudonyms: from the environment, else generated once.

        A generated key is written to `$HIRELOOP_HOME/pseudonym.key` with mode 0600, and
        the user is told once, on stderr, so they back it up: pseudonyms change if it is
        lost. Not `warnings.warn`: Great Expectations routes every warning of the process
        into logging (`logging.captureWarnings`), where nothing shows it.
        """
        if self.pseudonym_key_hex:
            return self.pseudonym_key_hex.encode()
        path = self.home / "pseudonym.key"  # pseudonym_key_file()
        if not path.exists() and _create_key_file(path):
            sys.stderr.write(
                f"hireloop: HIRELOOP_PSEUDONYM_KEY is unset: generated a pseudonym key in "
                f"{path} (mode 0600). Back it up: pseudonyms change if it is lost.\n")
            sys.stderr.flush()
        return path.read_text().strip().encode()

    def data_cipher(self) -> DataCipher:
        """The data key of the personal columns in raw (hris.data_crypto): HIRELOOP_DATA_KEY,
        else `$HIRELOOP_HOME/secrets/data.key` of this installation's home (created 0600 on
        first use), so a run worker started without HIRELOOP_HOME finds the same key."""
        return DataCipher.from_env(home=self.home)

    def endpoint_token_file(self) -> Path | None:
        """The scoring endpoint's bearer token's file, `$HIRELOOP_HOME/secrets/endpoint.token`
        (mode 0600, folder 0700), created on first use; None: HIRELOOP_ENDPOINT_TOKEN holds
        the token, and the endpoint inherits the variable. The endpoint is given the file's
        path, never the token: a command line is visible to every user (`ps`)."""
        if self.endpoint_token_value:
            return None
        return self.secret_file("endpoint.token")

    def secret_file(self, name: str, create: bool = True) -> Path:
        """`$HIRELOOP_HOME/secrets/<name>`: a random secret generated on first use, mode 0600
        in a folder 0700 whatever the umask (`create=False`: only where it is). Processes are
        handed the path, never the value on a command line (visible to every user: `ps`)."""
        path = self.home / "secrets" / name
        if create and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.chmod(0o700)  # mkdir's mode is masked by the umask
            _create_key_file(path, secrets.token_urlsafe(32))
        return path

    def mlflow_admin_password_file(self, create: bool = True) -> Path:
        """The MLflow UI's admin password (user `MLFLOW_ADMIN_USER`), set at the UI's first
        start: its basic-auth app refuses anonymous requests."""
        return self.secret_file("mlflow-ui.password", create)

    @property
    def mlflow_auth_dir(self) -> Path:
        """The MLflow UI's auth configuration and user database (hashed passwords)."""
        return self.home / "mlflow-auth"

    def endpoint_token(self) -> str:
        """The token every client of the endpoint sends (`Authorization: Bearer ...`)."""
        path = self.endpoint_token_file()
        return self.endpoint_token_value if path is None else path.read_text().strip()


def _create_key_file(path: Path, secret: str | None = None) -> bool:
    """Write `secret` (default: a new random pseudonym key) to `path` with mode 0600, whole
    or not at all; False if another process got there first (hris.data_crypto, which the
    data key's file uses too)."""
    return create_secret_file(path, secrets.token_hex(32) if secret is None else secret)
