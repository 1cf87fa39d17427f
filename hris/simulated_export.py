"""A simulated history written as an export folder, marked as simulated by a manifest.

A sandbox may receive simulated data through the import path, exactly as a real HR export
arrives (the loop sends each simulated quarter that way). The folder holds one
`<table>.csv` per contract table and `.hireloop-export.json`, a dotfile the export reader
skips, saying `{"kind": "simulated", "as_of": ..., ...}`: the import reads it to know the
data is simulated (so only a sandbox takes it) and which as-of it was simulated at.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from hris.exports import LoadRefused, parse_as_of
from hris.simulator import SimulatedHRIS
from hris.simulator.defects import plant_defects, validate_rate

MANIFEST_NAME = ".hireloop-export.json"
SIMULATED_KIND = "simulated"


@dataclass(frozen=True)
class ExportManifest:
    """What `.hireloop-export.json` says about its folder."""

    kind: str
    as_of: dt.date
    details: dict = field(default_factory=dict)


def read_manifest(directory: Path) -> ExportManifest | None:
    """The folder's manifest, None when it has none (a real export); LoadRefused if unusable."""
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoadRefused(f"{MANIFEST_NAME}: not readable JSON ({type(exc).__name__}); "
                          "remove it if this is a real export") from None
    if not isinstance(data, dict) or data.get("kind") != SIMULATED_KIND:
        raise LoadRefused(f"{MANIFEST_NAME}: 'kind' must be {SIMULATED_KIND!r}; remove the "
                          "file if this is a real export")
    try:
        as_of = parse_as_of(str(data["as_of"]))
    except KeyError:
        raise LoadRefused(f"{MANIFEST_NAME}: no 'as_of'") from None
    except LoadRefused as exc:
        raise LoadRefused(f"{MANIFEST_NAME}: {exc}") from None
    return ExportManifest(SIMULATED_KIND, as_of, data)


def write_simulated_export(sim: SimulatedHRIS, directory: Path,
                           defect_rate: float = 0.0) -> Path:
    """Write `sim`'s raw tables as an export folder with its manifest; returns the folder.

    `directory` must be new or empty (its files would be imported with it). With
    `defect_rate` > 0 the tables carry planted defects (hris.simulator.defects; the
    expected quarantine is not part of an export). The truth stays with `sim`.
    """
    rate = validate_rate(defect_rate)
    raw, _ = plant_defects(sim.raw, rate, seed=sim.seed, as_of=sim.as_of)
    return write_export_frames(raw, directory, sim.as_of, {
        "seed": sim.seed, "scenario": sim.scenario, "defect_rate": rate,
        "n_candidates": len(sim.raw["candidates"])})


def write_export_frames(frames: dict, directory: Path, as_of: dt.date, details: dict) -> Path:
    """Write raw-contract frames as `<table>.csv` files with the simulated manifest (its
    `details` beside kind and as-of) into `directory`, which must be new or empty."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"{directory}: not empty; a simulated export needs a folder of its own")
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(directory / f"{name}.csv", index=False)
    manifest = {"kind": SIMULATED_KIND, "as_of": as_of.isoformat(), **details,
                "written_by": "hireloop"}
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
    return directory
