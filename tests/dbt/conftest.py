"""One real dbt build of the feature store over a small hand-made export, per session.

The build runs in its own database on the session's PostgreSQL (other test packages load
their own raw data into `hireloop`), with the pseudonym key installed through
hris.pseudonym (never a dbt var).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from hris.pseudonym import install_pseudonym_key
from hris.raw_store import load_raw
from tests.dbt.hr_fixture import AS_OF, build_export

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
VARS = json.dumps({"as_of_date": AS_OF.isoformat()})


@dataclass
class DbtWorld:
    """A built feature store: the export it was built from and how to reach it."""

    frames: dict[str, pd.DataFrame]
    key: bytes
    env: dict[str, str]
    connect: object  # () -> psycopg2 connection to the build's database
    build: subprocess.CompletedProcess

    def dbt(self, *args: str, with_vars: bool = True) -> subprocess.CompletedProcess:
        return run_dbt(self.env, *args, with_vars=with_vars)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def install_key(self, key: bytes) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                install_pseudonym_key(cur, key)
            conn.commit()
        finally:
            conn.close()


def run_dbt(env: dict[str, str], *args: str, with_vars: bool = True) -> subprocess.CompletedProcess:
    """Run the real dbt CLI on the project; output captured for assertion messages."""
    cmd = [str(DBT), *args, "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR)]
    if with_vars:
        cmd += ["--vars", VARS]
    return subprocess.run(cmd, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="session")
def dbt_world(pg_server) -> Iterator[DbtWorld]:
    database = pg_server.create_database("dbt")
    env = {**os.environ, **pg_server.env(database),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "true"}

    def connect():
        return pg_server.endpoint.connect(database)

    frames = build_export()
    key = secrets.token_bytes(32)
    conn = connect()
    try:
        load_raw(conn, frames, source="tests/dbt fixture")
        with conn.cursor() as cur:
            install_pseudonym_key(cur, key)
        conn.commit()
    finally:
        conn.close()
    build = run_dbt(env, "build")
    yield DbtWorld(frames=frames, key=key, env=env, connect=connect, build=build)
