"""Bring HR data into `raw`: from the synthetic HRIS or from a real export directory.

Each path is one transaction and registers its as-of date (hris.exports), so what was
loaded and the date it describes always travel together.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hris.exports import record_export
from hris.importer import ImportReport, import_export
from hris.raw_store import LoadReport, load_raw
from hris.simulator import SimulatedHRIS, simulate, write_truth


def ingest_simulated(
    conn,
    n_candidates: int,
    seed: int,
    as_of: dt.date,
    start: str = "2022-01-01",
    end: str = "2024-12-31",
    progress: bool = False,
) -> LoadReport:
    """Generate a synthetic HR history and load it (raw tables and `sim_truth`)."""
    sim = simulate(
        n_candidates=n_candidates, seed=seed, start=start, end=end,
        as_of=as_of.isoformat(), progress=progress,
    )
    return load_simulated(conn, sim, f"simulator:seed={seed}:n={n_candidates}", progress)


def load_simulated(
    conn, sim: SimulatedHRIS, source: str, progress: bool = False
) -> LoadReport:
    """Load a simulated history: raw tables, the truth, and its as-of date (caller commits)."""
    report = load_raw(conn, sim.raw, source=source, progress=progress)
    with conn.cursor() as cur:
        write_truth(cur, sim)
        record_export(cur, source, "simulator", sim.as_of)
    return report


def ingest_export(
    conn, directory: Path, as_of: dt.date, check: bool = False, progress: bool = False
) -> ImportReport:
    """Import a real export directory; with `check`, report and keep nothing.

    The export is registered with its as-of date inside the import's own transaction, so a
    refused or checked import leaves no trace.
    """
    source = str(directory)
    return import_export(
        conn, directory, source=source, check=check, progress=progress,
        before_commit=lambda cur: record_export(cur, source, "import", as_of),
    )
