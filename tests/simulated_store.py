"""A feature store built through the real pipeline (simulate → raw → dbt), outside Dagster.

For tests and benchmarks: each store lives in its own database. Benchmarks may read
`sim_truth`, so a store can also link the simulator's raw candidate ids to the feature
store's pseudonyms (same HMAC key, computed in Python).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from hris.ingest import load_simulated
from hris.pseudonym import install_pseudonym_key, pseudonym
from hris.simulator import SimulatedHRIS, simulate
from ml.datasets import read_frame
from orchestration.dbt import run_dbt_build
from orchestration.runtime import PgEndpoint


@dataclass
class BuiltStore:
    """A dbt-built feature store in its own database, with the simulation behind it."""

    endpoint: PgEndpoint
    database: str
    sim: SimulatedHRIS
    key: bytes
    seconds: dict[str, float]

    def connect(self):
        """A psycopg2 connection to the store's database (the caller closes it)."""
        return self.endpoint.connect(self.database)

    def read(self, sql: str) -> pd.DataFrame:
        conn = self.connect()
        try:
            return read_frame(conn, sql)
        finally:
            conn.close()

    def pseudonyms(self) -> pd.Series:
        """Raw candidate_id -> feature-store pseudonym (what dbt computes in SQL)."""
        ids = self.sim.raw["candidates"]["candidate_id"]
        return pd.Series([pseudonym(self.key, i) for i in ids], index=ids.to_numpy())


def fresh_database(endpoint: PgEndpoint, name: str, template: str | None = None) -> None:
    """Drop `name` if it exists and create it anew (empty, or a copy of `template`)."""
    admin = endpoint.connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"'
                        + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        admin.close()


def build_store(endpoint: PgEndpoint, database: str, n_candidates: int, seed: int,
                as_of: str = "2025-01-01", end: str = "2024-12-31",
                progress: bool = False, defect_rate: float = 0.0,
                scenario: str = "stable") -> BuiltStore:
    """Simulate, load raw + truth, `dbt build` into a fresh database `database`.

    `seconds` holds the time of each step (simulate, load, dbt). With `defect_rate` > 0 the
    loaded raw tables carry planted defects (`sim.raw` stays the clean export) and the
    expected quarantine is in `sim_truth.planted_defects`. `scenario` is the simulator's
    (hris.simulator.world.SCENARIOS).
    """
    fresh_database(endpoint, database)
    seconds = {}
    t0 = time.perf_counter()
    sim = simulate(n_candidates=n_candidates, seed=seed, end=end, as_of=as_of,
                   scenario=scenario, progress=progress)
    seconds["simulate"] = time.perf_counter() - t0
    key = f"not-secret-key-{database}".encode()
    t0 = time.perf_counter()
    conn = endpoint.connect(database)
    with conn, conn.cursor() as cur:
        load_simulated(conn, sim, f"simulator:{database}", progress, defect_rate=defect_rate)
        install_pseudonym_key(cur, key)
    conn.close()
    seconds["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_dbt_build(endpoint.dbt_env(database), sim.as_of.isoformat(),
                  target_path=f"target/{database}")
    seconds["dbt"] = time.perf_counter() - t0
    return BuiltStore(endpoint, database, sim, key, seconds)


def post_change_applicants(store: BuiltStore) -> pd.DataFrame:
    """Every applicant from the world's change date on with interviews, hired or not: the
    feature store's features and sim_truth's counterfactual outcome `cf_met` (met_kpi as if
    hired), what the company cannot see. For a stable world: the same dates."""
    feats = store.read("SELECT * FROM intermediate.int_candidate_features_joined "
                       "WHERE n_interviews > 0")
    truth = store.sim.truth["candidates"].copy()
    truth["pid"] = store.pseudonyms().loc[truth["candidate_id"]].to_numpy()
    after = pd.to_datetime(truth["application_date"]) >= pd.Timestamp(
        store.sim.world.change_date)
    truth = truth.loc[after, ["pid", "met_kpi"]].rename(columns={"met_kpi": "cf_met"})
    return feats.merge(truth, left_on="candidate_id", right_on="pid")
