"""Bring HR data into `raw`: from the synthetic HRIS or from an export directory.

Each path is one transaction that first passes `hris.exports.admit` (as-of rules, sandbox
or real), then loads, then registers its as-of date: what was loaded and the date it
describes always travel together, and a refused load leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hris.data_crypto import DataCipher
from hris.exports import (
    REAL,
    SIMULATED,
    Admission,
    LoadRefused,
    admit,
    parse_date,
    record_admitted,
)
from hris.importer import ImportReport, import_export
from hris.raw_store import LoadReport, load_raw
from hris.simulated_export import read_manifest
from hris.simulator import SimulatedHRIS, simulate, write_truth
from hris.simulator.defects import plant_defects, validate_rate, write_manifest
from hris.simulator.generate import HISTORY_END, HISTORY_START
from hris.transaction import one_transaction

SIMULATOR_AS_OF = dt.date(2025, 1, 1)  # the simulator's clock when none is given
MIN_HISTORY_YEARS = 1  # a shorter history holds no full year of seasons and matured hires


def simulated_source(n_candidates: int, seed: int, defect_rate: float = 0.0,
                     end: str = HISTORY_END) -> str:
    """The first load's name, from which the quarter simulator rebuilds the world
    (hris.simulator.cohorts.History.from_source): `:end=` only for a non-default end, so
    the sources of histories with the default span stay as they always were."""
    source = f"simulator:seed={seed}:n={n_candidates}"
    source += f":defects={defect_rate:g}" if defect_rate else ""
    return source + (f":end={end}" if end != HISTORY_END else "")


def _history_date(what: str, text: str) -> dt.date:
    return parse_date(text, what, "2024-06-30")


def check_history_span(start: str, end: str, as_of: dt.date) -> None:
    """LoadRefused unless [start, end] is at least MIN_HISTORY_YEARS long and the export's
    as-of comes after its end (the history is what happened before the export)."""
    first, last = _history_date("history start", start), _history_date("history end", end)
    shortest = first.replace(year=first.year + MIN_HISTORY_YEARS) - dt.timedelta(days=1)
    if last < shortest:
        raise LoadRefused(f"history end {last} is too early: the history starts on {first} "
                          f"and must span at least {MIN_HISTORY_YEARS} year(s), to "
                          f"{shortest} or later")
    if as_of <= last:
        raise LoadRefused(f"as-of {as_of} is not after the history's end, {last}: the "
                          f"export describes the history once it is over (drop the as-of "
                          f"for {last + dt.timedelta(days=1)})")


def history_clock(history_end: str | None, as_of: dt.date | None) -> tuple[str, dt.date]:
    """(end, as-of) of the history to simulate: HISTORY_END and SIMULATOR_AS_OF unless
    told; a given end (checked, LoadRefused) makes the default as-of the day after it."""
    if history_end is None:
        return HISTORY_END, as_of or SIMULATOR_AS_OF
    last = _history_date("history end", history_end.strip())
    clock = as_of or last + dt.timedelta(days=1)
    check_history_span(HISTORY_START, last.isoformat(), clock)
    return last.isoformat(), clock


def ingest_simulated(
    conn,
    n_candidates: int,
    seed: int,
    as_of: dt.date,
    start: str = HISTORY_START,
    end: str = HISTORY_END,
    progress: bool = False,
    defect_rate: float = 0.0,
    *,
    correct_as_of: str | None = None,
    cipher: DataCipher | None = None,
) -> LoadReport:
    """Generate a synthetic HR history and load it (raw tables and `sim_truth`; caller commits).

    Admitted before the simulation runs, so a refusal (a real installation, an earlier
    as-of, a span check_history_span refuses) costs nothing. `defect_rate` > 0 plants
    row-level defects first. The default span is not checked: its loads stay as they were.
    """
    defect_rate = validate_rate(defect_rate)
    if (start, end) != (HISTORY_START, HISTORY_END):
        check_history_span(start, end, as_of)
    source = simulated_source(n_candidates, seed, defect_rate, end)
    with conn.cursor() as cur:
        admission = admit(cur, SIMULATED, as_of, source=source, correction=correct_as_of)
    sim = simulate(
        n_candidates=n_candidates, seed=seed, start=start, end=end,
        as_of=as_of.isoformat(), progress=progress,
    )
    return _load_simulated(conn, sim, admission, progress, defect_rate, cipher)


def load_simulated(
    conn, sim: SimulatedHRIS, source: str, progress: bool = False, defect_rate: float = 0.0,
    *, correct_as_of: str | None = None, cipher: DataCipher | None = None,
) -> LoadReport:
    """Load a simulated history: raw tables, the truth, and its as-of date (caller commits).

    With `defect_rate` > 0 the raw tables are dirtied first (seeded by the simulation's
    seed) and the expected quarantine goes to `sim_truth.planted_defects` (empty otherwise).
    """
    with conn.cursor() as cur:
        admission = admit(cur, SIMULATED, sim.as_of, source=source, correction=correct_as_of)
    return _load_simulated(conn, sim, admission, progress, defect_rate, cipher)


def _load_simulated(conn, sim: SimulatedHRIS, admission: Admission, progress: bool,
                    defect_rate: float, cipher: DataCipher | None = None) -> LoadReport:
    raw, manifest = plant_defects(sim.raw, defect_rate, seed=sim.seed, as_of=sim.as_of)
    report = load_raw(conn, raw, source=admission.source, progress=progress, cipher=cipher)
    with conn.cursor() as cur:
        write_truth(cur, sim)
        write_manifest(cur, manifest)
        record_admitted(cur, admission)
    return report


def export_kind_and_as_of(directory: Path, as_of: dt.date | None) -> tuple[str, dt.date | None]:
    """(kind, as-of) of an export folder: simulated when it has a manifest (whose as-of is
    the default, and must match a given one), real otherwise (as-of as given)."""
    manifest = read_manifest(directory)
    if manifest is None:
        return REAL, as_of
    if as_of is not None and as_of != manifest.as_of:
        raise LoadRefused(f"as-of {as_of} differs from the {manifest.as_of} this simulated "
                          "export was written at (its .hireloop-export.json); drop --as-of")
    return SIMULATED, manifest.as_of


def ingest_export(
    conn,
    directory: Path,
    as_of: dt.date | None,
    check: bool = False,
    progress: bool = False,
    *,
    correct_as_of: str | None = None,
    profile: Any = None,
    profile_source: str | None = None,
    today: dt.date | None = None,
    cipher: DataCipher | None = None,
) -> ImportReport:
    """Import an export directory in one transaction; with `check`, report and keep nothing.

    A real export needs its `as_of`; a simulated one (hris.simulated_export) brings its own.
    `correct_as_of` (a reason) lets an as-of earlier than the one in force through, recorded.
    `profile` (hris.profile.ImportProfile, read from `profile_source`) goes to the importer.
    Raises LoadRefused or ImportRefused, and then nothing was loaded or registered.
    """
    directory = Path(directory)
    kind, as_of = export_kind_and_as_of(directory, as_of)
    source = str(directory.resolve())  # one name per folder: the same export again is a no-op
    extra: dict[str, Any] = {}
    if profile is not None:
        extra = {"profile": profile, "profile_source": profile_source}
    with one_transaction(conn):
        with conn.cursor() as cur:
            admission = admit(cur, kind, as_of, source=source, correction=correct_as_of,
                              today=today)
        return import_export(
            conn, directory, source=source, check=check, progress=progress,
            before_commit=lambda cur: record_admitted(cur, admission), cipher=cipher,
            **extra,
        )


def preflight_export(conn, directory: Path, as_of: dt.date | None, *,
                     correct_as_of: str | None = None, today: dt.date | None = None) -> None:
    """Would `ingest_export` admit this export? LoadRefused if not (reads, keeps nothing).

    For callers that start a pipeline (the CLI's build) and want to refuse before it runs;
    the load itself checks again, inside its transaction.
    """
    kind, as_of = export_kind_and_as_of(Path(directory), as_of)
    _preflight(conn, kind, as_of, str(Path(directory).resolve()), correct_as_of, today)


def preflight_simulated(conn, n_candidates: int, seed: int, as_of: dt.date,
                        defect_rate: float = 0.0, *, correct_as_of: str | None = None,
                        end: str = HISTORY_END) -> None:
    """Would `ingest_simulated` admit this load? LoadRefused if not (reads, keeps nothing)."""
    if end != HISTORY_END:
        check_history_span(HISTORY_START, end, as_of)
    source = simulated_source(n_candidates, seed, validate_rate(defect_rate), end)
    _preflight(conn, SIMULATED, as_of, source, correct_as_of, None)


def _preflight(conn, kind: str, as_of: dt.date | None, source: str,
               correct_as_of: str | None, today: dt.date | None) -> None:
    with one_transaction(conn):
        try:
            with conn.cursor() as cur:
                admit(cur, kind, as_of, source=source, correction=correct_as_of, today=today,
                      lock=False)
        finally:
            conn.rollback()
