"""Ingest: the raw HR tables, from the synthetic HRIS or a real export (chosen by config)."""

from pathlib import Path
from typing import Literal

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    multi_asset,
)
from pydantic import Field

from hris.contract import RAW_TABLES
from hris.export_files import ImportRefused
from hris.exports import LoadRefused, latest_as_of, parse_as_of
from hris.ingest import SIMULATOR_AS_OF, history_clock, ingest_export, ingest_simulated
from hris.profile import ProfileError, load_profile
from hris.raw_store import LoadReport, TableLoad
from hris.simulator.defects import MAX_RATE
from hris.simulator.generate import HISTORY_END
from orchestration.resources import HireloopRuntime
from orchestration.run_failures import LOAD_REFUSED

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
    as_of: str | None = Field(
        None, description="the export's date (ISO; drives maturity): required for a real "
        f"export, from its manifest for a simulated one, {SIMULATOR_AS_OF} for the simulator "
        "(the day after history_end when that is given)")
    history_end: str | None = Field(
        None, description=f"simulator: the history's last day (ISO; default {HISTORY_END}); "
        "the quarters simulated later continue from it")
    correct_as_of: str | None = Field(
        None, description="a reason: lets an as-of earlier than the one in force through, "
        "recorded in raw._exports")
    import_dir: str | None = Field(None, description="import: directory of CSV/Parquet files")
    profile: str | None = Field(None, description="import: the export's import profile (YAML)")
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
    try:
        as_of = parse_as_of(config.as_of)
        with hireloop.connection("ingest") as conn:  # writes raw (orchestration.pg_roles)
            if config.source == "simulator":
                if config.profile:
                    raise LoadRefused("an import profile applies to imports only")
                end, clock = history_clock(config.history_end, as_of)
                report = ingest_simulated(
                    conn, config.candidates, config.seed, clock, end=end,
                    progress=config.progress, defect_rate=config.defect_rate,
                    correct_as_of=config.correct_as_of, cipher=hireloop.settings.data_cipher(),
                )
            else:
                if not config.import_dir:
                    raise LoadRefused("source 'import' needs import_dir")
                if config.defect_rate:
                    raise LoadRefused("defect_rate plants defects in simulated data only")
                if config.history_end is not None:
                    raise LoadRefused("history_end applies to the simulator only")
                profile = load_profile(Path(config.profile)) if config.profile else None
                report = ingest_export(
                    conn, Path(config.import_dir), as_of, correct_as_of=config.correct_as_of,
                    profile=profile, profile_source=config.profile,
                    cipher=hireloop.settings.data_cipher(),
                )
            with conn.cursor() as cur:  # the as-of now in force (a no-op keeps the last)
                in_force = latest_as_of(cur)
    except (LoadRefused, ImportRefused, ProfileError) as exc:
        # An expected refusal: its message is the whole story (nothing was loaded).
        raise Failure(description=f"{LOAD_REFUSED}{exc}", allow_retries=False) from None
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
                "as_of": str(in_force),
            },
        )
