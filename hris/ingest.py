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
from hris.simulator.defects import plant_defects, validate_rate, write_manifest


def ingest_simulated(
    conn,
    n_candidates: int,
    seed: int,
    as_of: dt.date,
    start: str = "2022-01-01",
    end: str = "2024-12-31",
    progress: bool = False,
    defect_rate: float = 0.0,
) -> LoadReport:
    """Generate a synthetic HR history and load it (raw tables and `sim_truth`).

    `defect_rate` > 0 plants row-level defects first (hris.simulator.defects).
    """
    defect_rate = validate_rate(defect_rate)
    sim = simulate(
        n_candidates=n_candidates, seed=seed, start=start, end=end,
        as_of=as_of.isoformat(), progress=progress,
    )
    source = f"simulator:seed={seed}:n={n_candidates}"
    if defect_rate:
        source += f":defects={defect_rate:g}"
    return load_simulated(conn, sim, source, progress, defect_rate=defect_rate)


def load_simulated(
    conn, sim: SimulatedHRIS, source: str, progress: bool = False, defect_rate: float = 0.0
) -> LoadReport:
    """Load a simulated history: raw tables, the truth, and its as-of date (caller commits).

    With `defect_rate` > 0 the raw tables are dirtied first (seeded by the simulation's
    seed) and the expected quarantine goes to `sim_truth.planted_defects` (empty otherwise).
    """
    raw, manifest = plant_defects(sim.raw, defect_rate, seed=sim.seed, as_of=sim.as_of)
    report = load_raw(conn, raw, source=source, progress=progress)
    with conn.cursor() as cur:
        write_truth(cur, sim)
        write_manifest(cur, manifest)
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
