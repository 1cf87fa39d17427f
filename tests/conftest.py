"""Shared fixtures: one real embedded PostgreSQL for the whole test session."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from orchestration.config import TELEMETRY_OFF, Settings, disable_telemetry
from orchestration.runtime import PgEndpoint, Runtime

disable_telemetry()
# The data key of every test (hris.data_crypto), random per session and inherited by the
# subprocesses (dbt, the CLI): no test writes a key file into a working directory.
os.environ.setdefault("HIRELOOP_DATA_KEY", secrets.token_hex(32))


@dataclass
class PgServer:
    """The session's PostgreSQL server, with helpers to make throwaway databases."""

    endpoint: PgEndpoint
    runtime: Runtime

    def url(self, database: str = "hireloop") -> str:
        return self.endpoint.url(database)

    def env(self, database: str = "hireloop") -> dict[str, str]:
        return {**TELEMETRY_OFF, **self.endpoint.dbt_env(database)}

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new database, empty or with `template`'s contents; returns its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = self.endpoint.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            copy = f' TEMPLATE "{template}"' if template else ""
            cur.execute(f'CREATE DATABASE "{name}"{copy}')
        conn.close()
        return name

    def copy_database(self, template: str, prefix: str = "t") -> str:
        """A new database with `template`'s contents (CREATE DATABASE … TEMPLATE)."""
        return self.create_database(prefix, template)


@pytest.fixture(scope="session")
def hireloop_home(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("hireloop_home")


@pytest.fixture(scope="session")
def pg_server(hireloop_home) -> Iterator[PgServer]:
    runtime = Runtime(Settings(home=hireloop_home))
    endpoint = runtime.up()
    yield PgServer(endpoint=endpoint, runtime=runtime)
    runtime.down()


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> str:
    """SQLAlchemy URL of the (session-shared) `hireloop` database."""
    return pg_server.url("hireloop")


@pytest.fixture(scope="session")
def pg_env(pg_server: PgServer) -> dict[str, str]:
    """Environment for dbt's profiles.yml pointing at the `hireloop` database."""
    return pg_server.env("hireloop")


@pytest.fixture(scope="session")
def feature_store(pg_server: PgServer):
    """8,000 simulated applicants, loaded and built by real dbt once per session.

    A tests.simulated_store.BuiltStore: `.read(sql)`, `.sim`, `.database`.
    """
    from tests.simulated_store import build_store

    return build_store(pg_server.endpoint, pg_server.create_database("features"), 8_000, 21)


# Retraining worlds (tests/ml/test_retrain_gate.py, tests/orchestration/test_retrain_job.py):
# the change two thirds into 2022-2024, exported 2025-10-01, when the newest mature cohort
# (2024-Q2) is the first post-change one and later hires have one to three reviews so far.
# 16,000 applicants: about 270 hires in the gate cohort (60-90 per role family), the
# smallest size at which the drift's effect clears the paired interval.
RETRAIN_WORLD = {"n_candidates": 16_000, "seed": 11, "as_of": "2025-10-01"}


@pytest.fixture(scope="session")
def drift_store(pg_server: PgServer):
    """A concept_drift world built by real dbt (tests.simulated_store.BuiltStore)."""
    from tests.simulated_store import build_store

    return build_store(pg_server.endpoint, pg_server.create_database("drift"),
                       scenario="concept_drift", **RETRAIN_WORLD)


@pytest.fixture(scope="session")
def stable_store(pg_server: PgServer):
    """The same world without a change (tests.simulated_store.BuiltStore)."""
    from tests.simulated_store import build_store

    return build_store(pg_server.endpoint, pg_server.create_database("stable"),
                       scenario="stable", **RETRAIN_WORLD)
