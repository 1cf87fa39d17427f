"""Shared fixtures: one real embedded PostgreSQL for the whole test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from orchestration.config import TELEMETRY_OFF, Settings, disable_telemetry
from orchestration.runtime import PgEndpoint, Runtime

disable_telemetry()


@dataclass
class PgServer:
    """The session's PostgreSQL server, with helpers to make throwaway databases."""

    endpoint: PgEndpoint
    runtime: Runtime

    def url(self, database: str = "hireloop") -> str:
        return self.endpoint.url(database)

    def env(self, database: str = "hireloop") -> dict[str, str]:
        return {**TELEMETRY_OFF, **self.endpoint.dbt_env(database)}

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = self.endpoint.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return name


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


@dataclass
class FeatureStore:
    """A feature store built by real dbt from a small synthetic HR history."""

    database: str
    endpoint: PgEndpoint
    sim: object  # hris.simulator.SimulatedHRIS, for tests that need the truth

    def connect(self):
        return self.endpoint.connect(self.database)

    def read(self, sql: str):
        import pandas as pd

        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                cols = [d[0] for d in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=cols)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def feature_store(pg_server: PgServer) -> FeatureStore:
    """Simulate 8,000 applicants, load them, and `dbt build` once per session."""
    from hris.exports import record_export
    from hris.pseudonym import install_pseudonym_key
    from hris.raw_store import load_raw
    from hris.simulator import simulate, write_truth
    from orchestration.dbt import run_dbt_build

    database = pg_server.create_database("features")
    sim = simulate(n_candidates=8_000, seed=21)
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        load_raw(conn, sim.raw, source="tests")
        write_truth(cur, sim)
        record_export(cur, "tests", "simulator", sim.as_of)
        install_pseudonym_key(cur, b"test-key-" + database.encode())
    conn.close()
    run_dbt_build(pg_server.endpoint.dbt_env(database), sim.as_of.isoformat(),
                  target_path=f"target/tests_{database}")
    return FeatureStore(database, pg_server.endpoint, sim)
