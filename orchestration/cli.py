"""The `hireloop` command: run the embedded services, load HR data, build, explore."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import typer

from orchestration.config import Settings, disable_telemetry
from orchestration.runtime import Runtime

app = typer.Typer(help="hireloop: interview signals → job performance, in a closed loop.",
                  no_args_is_help=True, add_completion=False)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _runtime() -> Runtime:
    disable_telemetry()
    return Runtime(Settings.from_env())


def _print_status(runtime: Runtime) -> None:
    for key, value in runtime.status().items():
        typer.echo(f"{key:>15}: {value}")


@app.command()
def up() -> None:
    """Start the embedded services (a second `up` is a no-op)."""
    runtime = _runtime()
    runtime.up()
    _print_status(runtime)


@app.command()
def down() -> None:
    """Stop the embedded services."""
    stopped = _runtime().down()
    typer.echo("embedded PostgreSQL stopped" if stopped else "nothing to stop")


@app.command()
def status() -> None:
    """Say what runs where (starts nothing)."""
    _print_status(_runtime())


@app.command()
def generate(
    candidates: int = typer.Option(20_000, help="number of applicants"),
    seed: int = typer.Option(7, help="random seed (same seed, same tables)"),
    as_of: str = typer.Option("2025-01-01", help="the simulator's clock (ISO date)"),
) -> None:
    """Generate a synthetic HR history into `raw` (and the truth into `sim_truth`)."""
    from hris.ingest import ingest_simulated

    runtime = _runtime()
    conn = runtime.up().connect()
    with conn:
        report = ingest_simulated(conn, candidates, seed, dt.date.fromisoformat(as_of),
                                  progress=True)
    conn.close()
    typer.echo(str(report))


@app.command("import")
def import_(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="export folder"),
    check: bool = typer.Option(False, "--check", help="say what would happen; load nothing"),
    as_of: str = typer.Option(dt.date.today().isoformat(), help="the export's date (ISO)"),
) -> None:
    """Import a real HR export (CSV or Parquet files of the raw contract)."""
    from hris.importer import ImportRefused
    from hris.ingest import ingest_export

    conn = _runtime().up().connect()
    try:
        with conn:
            report = ingest_export(
                conn, directory, dt.date.fromisoformat(as_of), check=check, progress=True
            )
    except ImportRefused as exc:
        typer.echo(f"import refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        conn.close()
    typer.echo(("would import (nothing loaded):\n" if check else "") + str(report))


def _dagster_env(runtime: Runtime) -> None:
    runtime.up()
    os.environ["DAGSTER_HOME"] = str(runtime.settings.dagster_home)


@app.command()
def build(
    candidates: int = typer.Option(20_000, help="simulator: number of applicants"),
    seed: int = typer.Option(7),
    as_of: str = typer.Option("2025-01-01"),
    import_dir: Path | None = typer.Option(None, help="import this export instead of simulating"),
) -> None:
    """Run the Dagster job: ingest → dbt feature store → summary (visible in the UI)."""
    from orchestration.jobs import run_build

    runtime = _runtime()
    _dagster_env(runtime)
    summary = run_build(candidates=candidates, seed=seed, as_of=as_of, import_dir=import_dir)
    typer.echo(summary)


@app.command()
def summary() -> None:
    """Print the feature-store summary of what is loaded now."""
    from monitoring.feature_store_summary import format_summary, summarise_feature_store

    conn = _runtime().up().connect()
    with conn:
        typer.echo(format_summary(summarise_feature_store(conn)))
    conn.close()


@app.command()
def ui(port: int = typer.Option(3000)) -> None:
    """Start the Dagster UI on 127.0.0.1 with everything loaded."""
    from orchestration.dbt import ensure_manifest

    runtime = _runtime()
    _dagster_env(runtime)
    ensure_manifest(force=True)
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
           "-h", "127.0.0.1", "-p", str(port)]
    typer.echo(f"Dagster UI: http://127.0.0.1:{port}")
    raise typer.Exit(subprocess.call(cmd, cwd=REPO_ROOT))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
