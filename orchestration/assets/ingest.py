"""Ingest: the raw HR tables, from the synthetic HRIS or a real export (chosen by config)."""

import datetime as dt
from pathlib import Path
from typing import Literal

from dagster import AssetExecutionContext, AssetSpec, Config, MaterializeResult, multi_asset
from pydantic import Field

from hris.contract import RAW_TABLES
from hris.ingest import ingest_export, ingest_simulated
from hris.raw_store import LoadReport, TableLoad
from hris.simulator.defects import MAX_RATE
from orchestration.resources import HireloopRuntime

RAW_ASSET_SPECS = [
    AssetSpec(
        ["raw", name],
        group_name="ingest",
        kinds={"postgres", "python"},
        description=f"raw.{name}: HR-system export rows, values as exported (text).",
    )
    for name in RAW_TABLES
]


class IngestConfig(Config):
    """Where the HR data comes from."""

    source: Literal["simulator", "import"] = "simulator"
    candidates: int = Field(20_000, description="simulator: number of applicants")
    seed: int = Field(7, description="simulator: random seed")
    as_of: str = Field("2025-01-01", description="the export's date (ISO); drives maturity")
    import_dir: str | None = Field(None, description="import: directory of CSV/Parquet files")
    progress: bool = Field(False, description="show progress bars on the terminal")
    defect_rate: float = Field(
        0.0, ge=0.0, le=MAX_RATE,
        description="simulator: share of each table's rows per planted defect kind "
        "(expected quarantine in sim_truth.planted_defects)",
    )


@multi_asset(specs=RAW_ASSET_SPECS, name="raw_hr_tables", can_subset=False)
def raw_hr_tables(
    context: AssetExecutionContext, config: IngestConfig, hireloop: HireloopRuntime
):
    as_of = dt.date.fromisoformat(config.as_of)
    with hireloop.connection() as conn:
        if config.source == "simulator":
            report = ingest_simulated(
                conn, config.candidates, config.seed, as_of, progress=config.progress,
                defect_rate=config.defect_rate,
            )
        else:
            if not config.import_dir:
                raise ValueError("source 'import' needs import_dir")
            if config.defect_rate:
                raise ValueError("defect_rate plants defects in simulated data only")
            report = ingest_export(conn, Path(config.import_dir), as_of)
    load = report if isinstance(report, LoadReport) else report.load
    context.log.info(str(report))
    for name in RAW_TABLES:
        counts = load.tables.get(name) or TableLoad(name)
        yield MaterializeResult(
            asset_key=["raw", name],
            metadata={
                "rows_read": counts.rows_read,
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "duplicate_keys_in_export": counts.duplicates,
                "source": load.source,
                "as_of": config.as_of,
            },
        )
