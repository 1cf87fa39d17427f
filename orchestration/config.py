"""Configuration, read from the environment in one place (DESIGN.md, "Configuration").

Only orchestration reads the environment; the libraries get what they need as
arguments. Telemetry is switched off here for every tool we start.
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "true",
}

DATABASES = ("hireloop", "mlflow", "dagster")


def disable_telemetry() -> None:
    """Force telemetry off in this process and every child it starts."""
    os.environ.update(TELEMETRY_OFF)


@dataclass(frozen=True)
class Settings:
    """Where hireloop keeps its state and which PostgreSQL it talks to."""

    home: Path
    database_url: str | None = None
    pseudonym_key_hex: str | None = None
    language: str = "en"  # HIRELOOP_LANGUAGE: pages for HR people in en | zh

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("HIRELOOP_HOME", "./.hireloop")).expanduser().resolve()
        return cls(
            home=home,
            database_url=os.environ.get("HIRELOOP_DATABASE_URL") or None,
            pseudonym_key_hex=os.environ.get("HIRELOOP_PSEUDONYM_KEY") or None,
            language=os.environ.get("HIRELOOP_LANGUAGE", "").strip().lower() or "en",
        )

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def page_language(self) -> str:
        """The language of HR pages; a clear error naming the choices when it is unknown."""
        from monitoring.i18n import check_language

        return check_language(self.language)

    def pseudonym_key(self) -> bytes:
        """The HMAC key for pseudonyms: from the environment, else generated once.

        A generated key is written to `$HIRELOOP_HOME/pseudonym.key` with mode 0600 and a
        warning, so pseudonyms stay stable across runs of one installation.
        """
        if self.pseudonym_key_hex:
            return self.pseudonym_key_hex.encode()
        path = self.home / "pseudonym.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            warnings.warn(
                f"HIRELOOP_PSEUDONYM_KEY is unset: generated a pseudonym key in {path} "
                "(mode 0600). Back it up: pseudonyms change if it is lost.",
                stacklevel=2,
            )
        return path.read_text().strip().encode()
