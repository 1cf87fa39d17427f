"""The simulator's truth (schema sim_truth): what no HR system knows, for evaluation only.

Tables: `candidates` (every applicant: latent abilities, performance index, p_true and the
counterfactual label drawn as if hired), `interviewers` (their leniency) and `parameters`
(seed and planted effect sizes as JSON). dbt never declares this schema; training never reads it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hris.contract import DIMENSIONS, TRUTH_SCHEMA
from hris.pg_copy import copy_frame
from hris.simulator.interviews import STATUS
from hris.simulator.outcomes import LabelDraws
from hris.simulator.people import GENDERS
from hris.simulator.world import World

if TYPE_CHECKING:
    from hris.simulator.generate import SimulatedHRIS


def truth_tables(world: World, candidate_ids: np.ndarray, role_idx: np.ndarray,
                 app_day: np.ndarray, gender: np.ndarray, shifted: np.ndarray,
                 drifted: np.ndarray, abilities: np.ndarray, eta: np.ndarray,
                 p_true: np.ndarray, window: LabelDraws, status: np.ndarray
                 ) -> dict[str, pd.DataFrame]:
    roles = world.roles
    cands = pd.DataFrame({
        "candidate_id": candidate_ids,
        "role_id": np.array([r.role_id for r in roles], dtype=object)[role_idx],
        "role_family": np.array([r.family for r in roles], dtype=object)[role_idx],
        "application_date": pd.to_datetime(app_day, unit="D").date,
        "gender": np.array(GENDERS, dtype=object)[gender],
        "pool_shifted": shifted, "drivers_drifted": drifted,
        **{f"ability_{d}": abilities[:, i] for i, d in enumerate(DIMENSIONS)},
        "performance_index": eta, "p_true": p_true,
        "kpi_attainment": window.kpi_attainment, "met_kpi": window.met_kpi,
        "left_first_year": window.left_first_year, "window_reviews": window.n_reviews,
        "status": np.array(STATUS, dtype=object)[status],
    })
    staff = world.staff[["employee_id", "kind", "family", "leniency"]].copy()
    params = pd.DataFrame({
        "seed": [world.seed], "scenario": [world.scenario], "as_of": [world.as_of],
        "parameters": [json.dumps(world.planted(), sort_keys=True)],
    })
    return {"candidates": cands, "interviewers": staff, "parameters": params}


_PG_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision"}


def _pg_type(frame: pd.DataFrame, col: str) -> str:
    if col.endswith("_date") or col == "as_of":
        return "date"
    return _PG_TYPES.get(frame[col].dtype.kind, "text")


def write_truth(cursor, sim: SimulatedHRIS) -> None:
    """Drop and recreate the sim_truth tables and COPY the simulated truth into them."""
    cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{TRUTH_SCHEMA}"')
    for name, frame in sim.truth.items():
        table = f'"{TRUTH_SCHEMA}"."{name}"'
        cols = ", ".join(f'"{c}" {_pg_type(frame, c)}' for c in frame.columns)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} ({cols})")
        copy_frame(cursor, f"{TRUTH_SCHEMA}.{name}", frame)  # copy_frame quotes


def append_truth(cursor, candidates: pd.DataFrame) -> None:
    """Add (or replace, by candidate id) rows of sim_truth.candidates: the truth of applicants
    simulated after the history (same columns as `truth_tables`' candidates)."""
    table = f'"{TRUTH_SCHEMA}"."candidates"'
    cursor.execute("SELECT to_regclass(%s)", [f"{TRUTH_SCHEMA}.candidates"])
    if cursor.fetchone()[0] is None:
        raise RuntimeError("sim_truth.candidates is missing: the history was not simulated here")
    cursor.execute(f"DELETE FROM {table} WHERE candidate_id = ANY(%s)",
                   [candidates["candidate_id"].astype(str).tolist()])
    copy_frame(cursor, f"{TRUTH_SCHEMA}.candidates", candidates)
