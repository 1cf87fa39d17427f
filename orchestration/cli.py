"""The `hireloop` command: run the embedded services, load HR data, build, explore."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import typer

from orchestration.config import ENDPOINT_TOKEN_ENV, ConfigError, Settings, disable_telemetry
from orchestration.runtime import Runtime
from orchestration.supervisor import Service, ServiceError, Supervisor

app = typer.Typer(help="hireloop: interview signals → job performance, in a closed loop.",
                  no_args_is_help=True, add_completion=False)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hireloop")
    except PackageNotFoundError:  # run from a checkout that was never installed
        import tomllib

        return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hireloop {_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="print hireloop's version and exit"),
) -> None:
    """hireloop: interview signals → job performance, in a closed loop."""


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        typer.echo(f"configuration: {exc}", err=True)
        raise typer.Exit(2) from exc


def _token_shell() -> str:
    """How a shell reads the endpoint's token, for the curl examples printed (never the
    token itself: a terminal's scrollback is not a secret's place)."""
    import shlex

    path = _settings().endpoint_token_file()
    return f"$(cat {shlex.quote(str(path))})" if path else f"${ENDPOINT_TOKEN_ENV}"


def _connect(job: str, runtime: Runtime | None = None):
    """A connection to the installation's database as `job`'s PostgreSQL role
    (orchestration.pg_roles), the server started and the database's grants in place."""
    from orchestration.resources import HireloopRuntime

    store = HireloopRuntime.from_settings((runtime or _runtime()).settings)
    return store.endpoint(job).connect(store.database)


def _runtime() -> Runtime:
    disable_telemetry()
    settings = _settings()
    try:
        settings.page_language  # noqa: B018 (a bad HIRELOOP_LANGUAGE: say so before any work)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    return Runtime(settings)


def _supervisor(settings: Settings) -> Supervisor:
    return Supervisor(settings.home)


def _champion(runtime: Runtime) -> str:
    """The champion version, read only when PostgreSQL already runs (status starts nothing)."""
    if runtime.status()["postgres_state"] == "stopped":
        return "unknown (PostgreSQL stopped)"
    try:
        from mlflow import MlflowClient

        from ml.registry import champion_version

        mlflow = _mlflow()
        uri = mlflow.tracking_uri
        champion = champion_version(MlflowClient(tracking_uri=uri, registry_uri=uri),
                                    mlflow.model_name)
    except Exception as exc:  # status reports what it can: it must not fail
        return f"unknown ({type(exc).__name__})"
    return f"version {champion.version}" if champion else "none yet"


def _print_status(runtime: Runtime) -> None:
    """PostgreSQL, then the endpoint (served and champion versions), then each UI."""
    for key, value in runtime.status().items():
        typer.echo(f"{key:>15}: {value}")
    settings = runtime.settings
    endpoint = _endpoint().process(tracking_uri="").status()
    served = endpoint.get("served_version")
    line = f"{endpoint['url']} " + (
        f"running (pid {endpoint['pid']}), serving version {served}"
        if endpoint["running"] else "not running")
    typer.echo(f"{'endpoint':>15}: {line}; champion {_champion(runtime)}")
    from orchestration.services import UI_SERVICES

    supervisor = _supervisor(settings)
    for make in UI_SERVICES:
        service = make(settings)
        state = supervisor.status(service)
        typer.echo(f"{state.label:>15}: {state.describe()}")
        if service.login:
            typer.echo(f"{'':>15}  {service.login}")


@app.command()
def up() -> None:
    """Start the embedded services (a second `up` is a no-op)."""
    runtime = _runtime()
    _dagster_env(runtime)
    _sweep_orphans()
    _print_status(runtime)


def _sweep_orphans() -> None:
    """Runs left STARTED by a killed process are marked failed (orchestration.orphans)."""
    from orchestration.orphans import sweep_current_instance

    for orphan in sweep_current_instance():
        typer.echo(f"marked Dagster run {orphan.run_id} ({orphan.job_name}) failed: the "
                   f"process that ran it (pid {orphan.pid}) is gone", err=True)


@app.command()
def down() -> None:
    """Stop every supervised process (endpoint, UIs, daemon) and the embedded PostgreSQL."""
    from orchestration.services import adopt_legacy_endpoint

    runtime = _runtime()
    supervisor = _supervisor(runtime.settings)
    adopt_legacy_endpoint(supervisor, runtime.settings.home)
    labels = {name: supervisor.label(name) for name in supervisor.names()}
    for name in supervisor.stop_all():
        typer.echo(f"{labels[name]} stopped")
    stopped = runtime.down()
    typer.echo("embedded PostgreSQL stopped" if stopped else "PostgreSQL: nothing to stop")


@app.command()
def status() -> None:
    """Say what runs where: PostgreSQL, the endpoint and the champion, the UIs (starts
    nothing)."""
    _print_status(_runtime())


_DEFECTS_HELP = ("plant each row-level defect kind in this share of its table's rows "
                 "(0-0.15); what staging must quarantine goes to sim_truth.planted_defects")


def _defect_rate(value: float) -> float:
    from hris.simulator.defects import validate_rate

    try:
        return validate_rate(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


_AS_OF_HELP = ("the export's date, YYYY-MM-DD: the day the HR system wrote it (decides "
               "what is future and what is mature; never guessed)")
_CORRECT_HELP = ("REASON: the as-of in force was wrong; load at the earlier --as-of and "
                 "record the correction (with this reason) in raw._exports")
_PROFILE_HELP = "the export's import profile (YAML: encoding, renames, value maps, dates)"


def _refuse(what: str, exc: Exception) -> typer.Exit:
    """Say why in one line on stderr; the exit status of a refusal."""
    typer.echo(f"{what} refused: {exc}", err=True)
    return typer.Exit(2)


def _date(what: str, text: str | None) -> dt.date | None:
    from hris.exports import LoadRefused, parse_as_of

    try:
        return parse_as_of(text)
    except LoadRefused as exc:
        raise _refuse(what, exc) from None


def _profile(what: str, path: Path | None):
    from hris.profile import ProfileError, load_profile

    if path is None:
        return None
    try:
        return load_profile(path)
    except ProfileError as exc:
        raise _refuse(what, exc) from None


@app.command()
def generate(
    candidates: int = typer.Option(20_000, help="number of applicants"),
    seed: int = typer.Option(7, help="random seed (same seed, same tables)"),
    as_of: str = typer.Option("2025-01-01", help="the simulator's clock (ISO date)"),
    defects: float = typer.Option(0.0, "--defects", callback=_defect_rate, help=_DEFECTS_HELP),
    correct_as_of: str | None = typer.Option(None, "--correct-as-of", help=_CORRECT_HELP),
) -> None:
    """Generate a synthetic HR history into `raw` (and the truth into `sim_truth`).

    Only into a sandbox: an installation that holds real exports refuses simulated data."""
    from hris.exports import LoadRefused, describe_in_force
    from hris.ingest import ingest_simulated

    clock = _date("generate", as_of)
    runtime = _runtime()
    conn = _connect("ingest", runtime)
    try:
        with conn:
            report = ingest_simulated(conn, candidates, seed, clock, progress=True,
                                      defect_rate=defects, correct_as_of=correct_as_of)
        with conn, conn.cursor() as cur:
            in_force = describe_in_force(cur)
    except LoadRefused as exc:
        raise _refuse("generate", exc) from None
    finally:
        conn.close()
    typer.echo(f"{report}\n{in_force}")


@app.command("import")
def import_(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="export folder"),
    check: bool = typer.Option(False, "--check", help="load nothing; print the quarantine the "
                               "build would produce, with a suggested profile"),
    as_of: str | None = typer.Option(
        None, help=_AS_OF_HELP + "; required for a real export (a simulated export folder "
        "carries its own)"),
    correct_as_of: str | None = typer.Option(None, "--correct-as-of", help=_CORRECT_HELP),
    profile: Path | None = typer.Option(None, "--profile", exists=True, dir_okay=False,
                                        help=_PROFILE_HELP),
) -> None:
    """Import an HR export (CSV or Parquet files of the raw contract).

    A real export goes only into a real installation, a simulated one only into a sandbox."""
    from hris.exports import LoadRefused, describe_in_force
    from hris.importer import ImportRefused
    from hris.ingest import ingest_export

    day = _date("import", as_of)
    rules = _profile("import", profile)
    if check:
        _check_import(directory, day, rules, profile, correct_as_of)
        return
    conn = _connect("ingest")
    try:
        with conn:
            report = ingest_export(
                conn, directory, day, progress=True, correct_as_of=correct_as_of,
                profile=rules, profile_source=None if profile is None else str(profile),
            )
        with conn, conn.cursor() as cur:
            in_force = "\n" + describe_in_force(cur)
    except (ImportRefused, LoadRefused) as exc:
        raise _refuse("import", exc) from None
    finally:
        conn.close()
    typer.echo(str(report) + in_force)


def _check_import(directory: Path, as_of: dt.date | None, profile, profile_path: Path | None,
                  correct_as_of: str | None) -> None:
    """`import --check`: the import and the build's validation run in a scratch database and
    the quarantine they would give is printed; nothing is loaded into the installation."""
    import psycopg2

    from hris.check_report import format_check
    from hris.exports import LoadRefused
    from hris.importer import ImportRefused
    from orchestration.import_check import check_export

    runtime = _runtime()
    try:
        report = check_export(runtime.up(), "hireloop", directory,
                              runtime.settings.pseudonym_key(), as_of, profile=profile,
                              profile_source=None if profile_path is None else str(profile_path),
                              correct_as_of=correct_as_of, progress=True)
    except (ImportRefused, LoadRefused) as exc:
        raise _refuse("import", exc) from None
    except RuntimeError as exc:
        typer.echo(f"import check failed (nothing loaded): {exc}", err=True)
        raise typer.Exit(1) from None
    except psycopg2.Error as exc:  # only its code: a database message may quote a value
        typer.echo(f"import check failed (nothing loaded): PostgreSQL error "
                   f"{exc.pgcode or type(exc).__name__}; see the server's log", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_check(report))


@app.command()
def profile(
    file: Path = typer.Argument(..., help="import profile (YAML; see "
                                "docs/import-profile.example.yaml)"),
) -> None:
    """Record a corrected import profile for this installation, without a re-import.

    Its value and date rules act on the next build; a changed encoding or column rename
    acts only when files are read, so it needs a re-import with --profile.
    """
    from hris.profile import profile_change

    loaded = _profile("profile", file)
    conn = _connect("ingest")
    try:
        with conn, conn.cursor() as cur:
            change = profile_change(cur, loaded, str(file.resolve()))
    finally:
        conn.close()
    typer.echo(change.message)


def _dagster_env(runtime: Runtime) -> None:
    runtime.up()
    os.environ["DAGSTER_HOME"] = str(runtime.settings.dagster_home)


@app.command()
def build(
    candidates: int = typer.Option(20_000, help="simulator: number of applicants"),
    seed: int = typer.Option(7),
    as_of: str | None = typer.Option(
        None, help="with --import-dir: " + _AS_OF_HELP + " (required for a real export); "
        "otherwise the simulator's clock (default 2025-01-01, or the day after "
        "--history-end)"),
    history_end: str | None = typer.Option(
        None, "--history-end", help="simulator: the history's last day, YYYY-MM-DD (default "
        "2024-12-31); a shorter history leaves more quarters for `hireloop simulate` "
        "before today"),
    import_dir: Path | None = typer.Option(None, exists=True, file_okay=False,
                                           help="import this export instead of simulating"),
    correct_as_of: str | None = typer.Option(None, "--correct-as-of", help=_CORRECT_HELP),
    profile: Path | None = typer.Option(None, "--profile", exists=True, dir_okay=False,
                                        help="with --import-dir: " + _PROFILE_HELP),
    http_batch: int = typer.Option(100, help="rows per request when scoring over HTTP"),
    defects: float = typer.Option(0.0, "--defects", callback=_defect_rate,
                                  help="simulator: " + _DEFECTS_HELP),
) -> None:
    """The whole loop, launched as one run of the Dagster job `hireloop_loop` (listed in the
    UI): ingest, feature store, train, gate, deploy, batch scores, the interview tool's
    scores over HTTP and their inference log; waits for it and prints the summaries."""
    from monitoring.model_summary import ModelSummary, format_model_summary
    from orchestration.launch import LaunchError
    from orchestration.runs import run_loop

    runtime = _runtime()
    _preflight_build(runtime, candidates, seed, as_of, import_dir, defects, correct_as_of,
                     profile, history_end)
    _dagster_env(runtime)
    try:
        outcome = run_loop(candidates=candidates, seed=seed, as_of=as_of,
                           import_dir=import_dir, defect_rate=defects,
                           correct_as_of=correct_as_of, profile=profile, http_batch=http_batch,
                           history_end=history_end)
    except LaunchError as exc:
        typer.echo(f"build: the run could not be launched: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    typer.echo(f"Dagster run {outcome.run_id} (job hireloop_loop; in the Dagster UI, "
               f"`hireloop ui`: http://127.0.0.1:{runtime.settings.dagster_port}/runs/"
               f"{outcome.run_id})")
    if outcome.feature_summary is not None:
        typer.echo(outcome.feature_summary)
    if outcome.failure is not None:
        _stop_on(outcome.failure)
    deployed = outcome.deployed or {}
    online = dict(outcome.online or {})
    if outcome.ingested is not None:
        online["ingested"] = outcome.ingested["added"]
    trained = outcome.model
    if trained is None:
        typer.echo("no model was trained (see the Dagster run)")
        return
    decision = outcome.decision or {}
    batch = outcome.batch or {}
    summary = ModelSummary(
        metrics=trained.metrics, drivers=trained.drivers, version=outcome.version,
        champion=decision.get("champion_after"), decision=decision.get("event"),
        run_url=outcome.run_url, endpoint_url=deployed.get("url"),
        served_version=deployed.get("served_version"), example=batch.get("example"),
        token_shell=_token_shell(),
        batch={k: batch.get(k) for k in ("scored", "rejected", "bands")} if batch else {},
        online=online, drift=outcome.drift or {},
    )
    typer.echo(format_model_summary(summary))
    if outcome.quality:
        rows = outcome.quality["rows"]
        typer.echo(f"Model quality of the champion (monitoring.model_quality): "
                   f"{rows['realised']} realised, {rows['early']} early-evidence, "
                   f"{rows['estimate']} estimated figures (estimates before labels mature); "
                   f"page for HR leads: {outcome.quality['page']}")
    if outcome.fairness:
        fair = outcome.fairness
        flagged = ", ".join(f"{f['attribute']} {f['category']} ({f['sample']}, {f['rate']} "
                            f"ratio {f['ratio']:.2f})" for f in fair["flags"]
                            ) or "no category flagged"
        typer.echo(f"Fairness audit of version {fair['version']} (LL144 tables, four-fifths "
                   f"with significance): {flagged}; pages: {fair['pages']}")
        if fair["rated_lower"]:
            typer.echo("  interview ratings: rated lower by interviewers than by the AI on the "
                       "same interviews (human minus AI, first interviews):")
        for finding in fair["rated_lower"][:6]:
            typer.echo(f"    {finding}")
    if outcome.feedback:
        typer.echo(f"Feedback report for HR leads, {outcome.feedback['quarter']}: "
                   f"{outcome.feedback['page']}\n  every quarter: {outcome.feedback['index']}")


# `hireloop build` exit codes: 0 built; 2 stopped by a check on the data or the model (the
# message says what failed and what to do); 1 an unexpected error (with its details).
EXIT_CHECK_FAILED, EXIT_ERROR = 2, 1


def _stop_on(failure) -> None:
    """Say why the run stopped and exit: a check's failure in words, an error in full."""
    typer.echo("\n" + failure.message(), err=True)
    if failure.expected:
        raise typer.Exit(EXIT_CHECK_FAILED)
    for error in failure.errors:
        typer.echo(f"\n--- step {error.step} ---\n{error.details}", err=True)
    raise typer.Exit(EXIT_ERROR)



def _preflight_build(runtime: Runtime, candidates: int, seed: int, as_of: str | None,
                     import_dir: Path | None, defects: float, correct_as_of: str | None,
                     profile: Path | None, history_end: str | None = None) -> None:
    """Refuse in one line, before the pipeline starts, what its ingest step would refuse."""
    from hris.exports import LoadRefused
    from hris.ingest import history_clock, preflight_export, preflight_simulated

    day = _date("build", as_of)
    if import_dir is None and profile is not None:
        raise _refuse("build", ValueError("--profile goes with --import-dir"))
    if import_dir is not None and defects:
        raise _refuse("build", ValueError("--defects plants defects in simulated data only"))
    if import_dir is not None and history_end is not None:
        raise _refuse("build", ValueError("--history-end ends a simulated history only"))
    try:
        end, clock = history_clock(history_end, day)
    except LoadRefused as exc:
        raise _refuse("build", exc) from None
    _profile("build", profile)
    conn = _connect("ingest", runtime)
    try:
        if import_dir is None:
            preflight_simulated(conn, candidates, seed, clock, defects,
                                correct_as_of=correct_as_of, end=end)
        else:
            preflight_export(conn, import_dir, day, correct_as_of=correct_as_of)
    except LoadRefused as exc:
        raise _refuse("build", exc) from None
    finally:
        conn.close()


def _scenario(value: str) -> str:
    from hris.simulator.world import SCENARIOS

    if value not in SCENARIOS:
        raise typer.BadParameter(f"one of {', '.join(SCENARIOS)}")
    return value


@app.command()
def simulate(
    quarters: int = typer.Option(1, min=1, max=40, help="calendar quarters to advance"),
    scenario: str = typer.Option("stable", callback=_scenario, help="stable, "
                                 "covariate_shift, concept_drift or rater_drift: how the "
                                 "world changes from the first simulated quarter on"),
    per_quarter: int | None = typer.Option(None, "--per-quarter", min=1, max=100_000,
                                           help="applicants per quarter (default: the "
                                           "history's quarterly rate)"),
    http_batch: int = typer.Option(100, help="candidates per request to the endpoint"),
) -> None:
    """Advance a sandbox quarter by quarter: candidates apply and are interviewed, the
    interview tool scores them over HTTP, a person decides (monitoring.hiring_decisions),
    hires start, reviews arrive; each quarter is imported as an HR export and the feature
    store rebuilt; then monitored (drift, quality), the retraining trigger looks and a
    retrain runs if it asks; a timeline is printed. Needs a served champion (`hireloop
    build` first)."""
    from dagster import DagsterInstance
    from tqdm.auto import tqdm

    from hris.simulator.quarters import QuarterRefused
    from monitoring.feedback_report import FEEDBACK_DIR
    from monitoring.feedback_report import INDEX_NAME as FEEDBACK_INDEX
    from monitoring.monitoring_page import INDEX_NAME, PAGES_DIR
    from orchestration.launch import LaunchError, code_location
    from orchestration.loop_cycle import close_quarter
    from orchestration.quarters import QuarterFailed, preflight, run_quarter
    from orchestration.resources import HireloopRuntime
    from orchestration.timeline import timeline, where_next

    runtime = _runtime()
    _dagster_env(runtime)
    endpoint = _endpoint()
    served = endpoint.process(tracking_uri="").status()
    if not served["running"] or not served.get("served_version"):
        typer.echo("simulate: no champion is served at " + endpoint.url + ": run `hireloop "
                   "build` first (it trains, promotes and serves one), or `hireloop serve` "
                   "if a champion exists", err=True)
        raise typer.Exit(2)
    hireloop = HireloopRuntime.from_settings(runtime.settings)
    settings = runtime.settings
    rows = []
    try:
        preflight(hireloop, scenario, quarters)
        with (DagsterInstance.get() as instance, code_location(instance) as location,
              tqdm(total=quarters, desc="simulate", unit="quarter") as bar):
            for _ in range(quarters):
                result = run_quarter(scenario, per_quarter, hireloop=hireloop,
                                     endpoint=endpoint, batch_size=http_batch,
                                     instance=instance, code_location=location)
                bar.write(result.line())
                # The loop closes: monitoring, the trigger's look, a retrain if it asks.
                closed = close_quarter(
                    result, hireloop=hireloop, instance=instance, code_location=location,
                    run_url=lambda run_id: f"http://127.0.0.1:{settings.dagster_port}/runs/"
                                           f"{run_id}")
                rows.append(closed.row)
                bar.write(f"{result.quarter}: {closed.row.decision} "
                          f"({sum(closed.seconds.values()):.0f} s: " + ", ".join(
                              f"{k} {v:.0f}" for k, v in closed.seconds.items()) + ")")
                bar.update()
    except QuarterRefused as exc:
        raise _refuse("simulate", exc) from None
    except (QuarterFailed, LaunchError) as exc:
        if rows:
            typer.echo(timeline(rows))
        typer.echo(f"simulate: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    reports = settings.reports_dir
    typer.echo("\n" + timeline(rows) + "\n\nwhere to look next:\n" + "\n".join(
        "  " + line for line in where_next(
            rows, dagster_port=settings.dagster_port, evidently_port=settings.evidently_port,
            monitoring_page=reports / PAGES_DIR / INDEX_NAME,
            feedback_page=reports / FEEDBACK_DIR / FEEDBACK_INDEX)))


def _mlflow(**overrides):
    from orchestration.resources import MlflowResource

    return MlflowResource.from_settings(_settings(), **overrides)


def _endpoint(**overrides):
    from orchestration.resources import EndpointResource

    return EndpointResource.from_settings(_settings(), **overrides)


def _redeploy_if_running(mlflow, endpoint) -> None:
    """After a person moved `champion`, a running endpoint must serve the new one."""
    from ml.deploy import ensure_champion_served

    target = mlflow.target()
    process = endpoint.process(target.tracking_uri)
    if not process.status()["running"]:
        typer.echo("endpoint not running; `hireloop serve` starts it with the new champion")
        return
    state = ensure_champion_served(process, target.client, model_name=mlflow.model_name)
    typer.echo(f"endpoint {process.spec.url}: serving version {state.get('served_version')} "
               f"({'restarted' if state['restarted'] else 'unchanged'})")


def _actor(actor: str | None) -> str:
    import getpass

    return actor or getpass.getuser()


def _move_champion(refused: str, change, errors: tuple[type[Exception], ...]) -> None:
    """Run a person's champion move (`change(client, model_name)` -> its record), say what
    it did or why it was refused, and redeploy a running endpoint."""
    _runtime().up()
    mlflow = _mlflow()
    try:
        record = change(mlflow.target().client, mlflow.model_name)
    except errors as exc:
        typer.echo(f"{refused} refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"champion: version {record['champion_after']} (was "
               f"{record['champion_before']}); recorded as {record['history_key']}")
    _redeploy_if_running(mlflow, _endpoint())


@app.command()
def promote(
    version: str = typer.Argument(..., help="registered version of hireloop-kpi"),
    why: str = typer.Option(..., "--why", help="the reason, recorded with the decision"),
    actor: str | None = typer.Option(None, help="who decides (default: the login name)"),
) -> None:
    """Make VERSION the champion by hand (bypasses the gate; recorded with who and why)."""
    from mlflow.exceptions import MlflowException

    from ml.promotion import promote as promote_version

    _move_champion(
        "promotion",
        lambda client, name: promote_version(client, version, _actor(actor), why,
                                             model_name=name),
        (MlflowException, ValueError))


@app.command()
def rollback(
    why: str = typer.Option(..., "--why", help="the reason, recorded with the rollback"),
    actor: str | None = typer.Option(None, help="who decides (default: the login name)"),
) -> None:
    """Return `champion` to the previous champion (recorded with who and why)."""
    from ml.promotion import NothingToRollBack
    from ml.promotion import rollback as rollback_champion

    _move_champion(
        "rollback",
        lambda client, name: rollback_champion(client, _actor(actor), why, model_name=name),
        (NothingToRollBack, ValueError))


@app.command()
def serve(
    workers: int = typer.Option(1, help="scoring server worker processes"),
    port: int | None = typer.Option(None, help="default: HIRELOOP_ENDPOINT_PORT (5001)"),
    stop: bool = typer.Option(False, "--stop", help="stop the running endpoint"),
) -> None:
    """Serve the champion on 127.0.0.1 (detached; waits for /ping) or stop it."""
    from ml.deploy import ensure_champion_served
    from ml.endpoint_launch import ServeError
    from ml.evaluation import load_version_model
    from ml.pyfunc_model import contract_of, example_input
    from monitoring.model_summary import curl_example

    if stop:
        stopped = _endpoint().process(tracking_uri="").stop()  # reads only the pid file
        typer.echo("endpoint stopped" if stopped else "endpoint was not running")
        return
    _runtime().up()
    mlflow = _mlflow()
    endpoint = _endpoint(workers=workers, **({} if port is None else {"port": port}))
    target = mlflow.target()
    process = endpoint.process(target.tracking_uri)
    state = process.status()
    if state["running"] and (str(state.get("workers")) != str(workers)
                             or state["url"] != process.spec.url):
        process.stop()  # asked for another number of workers or port: start afresh
    try:
        state = ensure_champion_served(process, target.client, model_name=mlflow.model_name)
    except ServeError as exc:
        typer.echo(f"serve: {exc}", err=True)
        raise typer.Exit(2) from exc
    if state.get("champion") is None:
        typer.echo("no champion yet: run `hireloop build` first", err=True)
        raise typer.Exit(2)
    model = load_version_model(target.client, state["champion"], mlflow.model_name,
                               tracking_uri=target.tracking_uri)
    example = example_input(contract_of(model)).iloc[0].dropna().to_dict()
    typer.echo(f"serving hireloop-kpi version {state['served_version']} at {process.spec.url} "
               f"({workers} worker{'s' if workers > 1 else ''}; {state['reason']}; "
               f"log {state['log']})\nstop with `hireloop serve --stop`\n")
    typer.echo(curl_example(process.spec.url, example, _token_shell()))


@app.command("endpoint-schema")
def endpoint_schema(
    version: str | None = typer.Option(None, help="a registered version (default: champion)"),
) -> None:
    """Print the endpoint's OpenAPI 3.1 contract logged with the champion (or `--version`),
    with `POST /candidates/decision` as the endpoint serves it."""
    import json

    from mlflow.exceptions import MlflowException

    from ml.decision_route import DECISION_PATH, add_decision_route
    from ml.evaluation import NoSchemaError, load_version_schema
    from ml.registry import champion_version
    from monitoring.hiring_decisions import published_rules

    _runtime().up()
    mlflow = _mlflow()
    target = mlflow.target()
    if version is None:
        champion = champion_version(target.client, mlflow.model_name)
        if champion is None:
            typer.echo("no champion yet: run `hireloop build` first", err=True)
            raise typer.Exit(2)
        version = str(champion.version)
    try:
        document = load_version_schema(target.client, version, mlflow.model_name,
                                       tracking_uri=target.tracking_uri)
    except NoSchemaError as exc:
        typer.echo(f"endpoint-schema: {exc}", err=True)
        raise typer.Exit(2) from exc
    except MlflowException:
        typer.echo(f"endpoint-schema: no version {version} of {mlflow.model_name}; "
                   "`hireloop status` names the champion", err=True)
        raise typer.Exit(2) from None
    if DECISION_PATH not in document["paths"]:  # not logged with the model: ml's rules
        document = add_decision_route(document, *published_rules())
    typer.echo(json.dumps(document, indent=2))


@app.command()
def summary() -> None:
    """Print data quality and the feature store as built now (and write the HTML page)."""
    from monitoring.store_report import build_store_report

    runtime = _runtime()
    conn = _connect("transform", runtime)
    with conn:
        typer.echo(build_store_report(conn, runtime.settings.reports_dir,
                                      language=runtime.settings.page_language).text)
    conn.close()


@app.command("scan-personal-data")
def scan_personal_data_command() -> None:
    """Look for raw's names, national ids, emails and phones everywhere else: the store's
    other schemas, MLflow and Dagster, artifacts, snapshots, reports, the inference log.
    Hits are printed by place with the value masked; exit status 2 when any is found."""
    from monitoring.personal_scan import format_scan
    from orchestration.personal_scan import scan_installation
    from orchestration.resources import HireloopRuntime

    runtime = _runtime()
    result = scan_installation(HireloopRuntime.from_settings(runtime.settings), _mlflow(),
                               _endpoint())
    typer.echo(format_scan(result))
    if not result.clean:
        raise typer.Exit(2)


@app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every personal value in raw under a new data key, in one transaction.

    With HIRELOOP_DATA_KEY set, it is the new key and HIRELOOP_DATA_KEY_OLD the current one;
    else a new key replaces $HIRELOOP_HOME/secrets/data.key, whose old key is kept as
    data.key.old until you remove it. The pseudonym key is not rotated (README).
    """
    from hris.data_crypto import DataKeyError
    from hris.key_rotation import install_new_key, rotate_data_key, rotation_keys

    try:
        keys = rotation_keys()
    except ValueError as exc:
        raise _refuse("rotate-key", exc) from exc
    conn = _connect("ingest")
    try:
        report = rotate_data_key(conn, keys.old, keys.new)
    except DataKeyError as exc:
        raise _refuse("rotate-key", exc) from exc
    finally:
        conn.close()
    typer.echo(str(report))
    old = install_new_key(keys)
    if old is not None:
        typer.echo(f"The new key is in {old.with_suffix('')}; the old one stays in {old} "
                   "until you remove it (after backing up the database under the new key).")
    elif keys.new_file is None:
        typer.echo("Unset HIRELOOP_DATA_KEY_OLD: the data is under HIRELOOP_DATA_KEY only now.")


def _store():
    """The installation's database as the pipelines see it (orchestration's resource)."""
    from orchestration.resources import HireloopRuntime

    return HireloopRuntime.from_settings(_runtime().settings)


@app.command()
def decide(
    candidate: str = typer.Argument(..., help="the HR system's candidate id"),
    decision: str = typer.Option(..., "--decision",
                                 help="offer, reject, advance or hold (the one vocabulary)"),
    reviewer: str = typer.Option(..., "--reviewer",
                                 help="who decides: a staff handle or login, e.g. j.smith"),
    reason: str = typer.Option(..., "--reason", help="why, in words (no personal data)"),
    request_id: str | None = typer.Option(
        None, "--request-id", help="the score it answers (default: the latest score)"),
) -> None:
    """Record a person's decision on CANDIDATE in monitoring.hiring_decisions, beside the
    score it answers (the model never decides: its band never says reject)."""
    from monitoring.decisions import DecisionRefused, record_decision
    from monitoring.scoring_log import ingest_inference_log

    store = _store()
    key = store.settings.pseudonym_key()
    with store.connection("ml") as conn, conn.cursor() as cur:
        ingest_inference_log(cur, _endpoint().inference_log_path)  # a score just given online
        conn.commit()
        try:
            made = record_decision(cur, key, candidate, decision, reviewer, reason,
                                   source="cli", request_id=request_id)
        except DecisionRefused as exc:
            typer.echo(f"decide: {exc}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"recorded: {made.decision} by {made.decided_by}, beside version "
               f"{made.model_version}'s score {made.probability:.3f} (band {made.band})"
               f"{f', request {made.request_id}' if made.request_id else ''}; "
               f"entry {made.entry_id}")


@app.command()
def explain(
    candidate: str = typer.Argument(..., help="the HR system's candidate id"),
    out: Path | None = typer.Option(
        None, help="JSON to write, with an HTML page per language beside it (default "
                   "$HIRELOOP_HOME/exports/explanations/<id>.json)"),
) -> None:
    """Export what the model used and why for CANDIDATE (GDPR Art. 15/22, PIPL Art. 24): the
    features and their values, the score, band, version, the reasons, the decisions people
    recorded, and that a person decides. Owner-only files: one person's data."""
    import datetime as dt

    from ml.evaluation import load_version_model
    from monitoring.explanation import ExplainRefused, candidate_explanation, write_explanation

    def version_model(version: str):  # MLflow is reached only for a candidate it scored
        mlflow = _mlflow()
        target = mlflow.target()
        return load_version_model(target.client, version, mlflow.model_name,
                                  tracking_uri=target.tracking_uri)

    store = _store()
    settings = store.settings
    at = dt.datetime.now(dt.UTC)
    with store.connection("ml") as conn:
        try:
            data = candidate_explanation(conn, settings.pseudonym_key(), candidate,
                                         version_model, language=settings.page_language,
                                         generated_at=at)
        except ExplainRefused as exc:
            typer.echo(f"explain: {exc}", err=True)
            raise typer.Exit(2) from exc
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in candidate)
    path = out or settings.home / "exports" / "explanations" / f"{safe}.json"
    for written in write_explanation(data, path, at):
        typer.echo(f"wrote {written}")
    score = data["score"]
    typer.echo(f"version {score['model_version']} scored {score['probability']:.3f} (band "
               f"{score['band']}); {len(data['features'])} features, "
               f"{len(data['decisions'])} decisions recorded")


@app.command("rater-ids")
def rater_ids(
    out: Path | None = typer.Option(
        None, help="CSV to write (default $HIRELOOP_HOME/exports/rater_ids.csv)"),
) -> None:
    """Write the interview tool's lookup: HR interviewer id -> `rater_ids` pseudonym.

    The endpoint corrects interviewer leniency only for raters it can name; this file
    (owner-only: it holds raw ids) lets the interview tool send them.
    """
    from hris.rater_ids import (
        interviewer_ids,
        key_matches_feature_store,
        rater_id_lookup,
        write_rater_id_lookup,
    )

    runtime = _runtime()
    key = runtime.settings.pseudonym_key()
    conn = _connect("transform", runtime)  # the one role that reads raw and the key's copy
    try:
        ids = interviewer_ids(conn)
        matches = key_matches_feature_store(conn, key)
    finally:
        conn.close()
    if matches is False:
        typer.echo("the pseudonym key is not the one the feature store was built with "
                   "(HIRELOOP_PSEUDONYM_KEY changed?): rebuild first, or the lookup would "
                   "name no interviewer the model knows", err=True)
        raise typer.Exit(2)
    if not ids:
        typer.echo("no interviews loaded: run `hireloop generate` or `hireloop import`",
                   err=True)
        raise typer.Exit(2)
    path = out or runtime.settings.home / "exports" / "rater_ids.csv"
    write_rater_id_lookup(rater_id_lookup(key, ids), path)
    typer.echo(f"{len(ids)} interviewers -> {path} (mode 0600; holds HR ids: keep it with "
               "the interview tool)")


def _start_uis(supervisor: Supervisor, services: list[Service]) -> list[Service]:
    """Start those not running (all launched, then all awaited); say what already ran.
    Returns those started now; on a failure, stops them and exits with the reason."""
    started: list[Service] = []
    try:
        for service in services:
            state, new = supervisor.start(service, wait=False)
            if new:
                started.append(service)
            else:
                where = f"{state.url} " if state.url else ""
                typer.echo(f"{service.label}: {where}already running (pid {state.pid}); "
                           "nothing started")
                if service.login:
                    typer.echo(f"{service.label}: {service.login}")
        for service in started:
            supervisor.wait_ready(service)
            where = f"{service.url} " if service.url else ""
            typer.echo(f"{service.label}: {where}started "
                       f"(log {supervisor.log_file(service.name)})")
            if service.login:
                typer.echo(f"{service.label}: {service.login}")
    except ServiceError as exc:
        _stop_started(supervisor, started)
        typer.echo(f"ui: {exc}", err=True)
        raise typer.Exit(2) from exc
    return started


def _stop_started(supervisor: Supervisor, started: list[Service]) -> None:
    labels = {service.name: service.label for service in started}
    for name in supervisor.stop_many(list(labels)):
        typer.echo(f"{labels[name]} stopped")


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """Collect Ctrl-C, SIGTERM and SIGHUP instead of dying of them, from the very start,
    so a signal during start-up still stops what was started."""
    import signal

    received: list[int] = []
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in sigs}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _wait_for_signal(supervisor: Supervisor, started: list[Service], received: list[int]
                     ) -> int:
    """Block until a stop signal (0), or until a started service dies (1)."""
    import time

    while not received:
        for service in started:
            if not supervisor.status(service).running:
                typer.echo(f"{service.label} exited; see "
                           f"{supervisor.log_file(service.name)}", err=True)
                return 1
        time.sleep(0.5)
    return 0


def _serve_champion(mlflow, settings: Settings) -> Service | None:
    """The endpoint serving the champion, (re)started unless it serves it already; the
    service when started now. Without a champion nothing is started, and that is said."""
    from ml.deploy import ensure_champion_served
    from ml.endpoint_launch import ServeError

    target = mlflow.target()
    process = _endpoint(port=settings.endpoint_port).process(target.tracking_uri)
    try:
        state = ensure_champion_served(process, target.client, model_name=mlflow.model_name)
    except ServeError as exc:
        raise ServiceError(str(exc)) from exc
    if state["champion"] is None:
        typer.echo(f"scoring endpoint: {process.spec.url} not started: no champion yet "
                   "(`hireloop build` trains one)")
        return None
    if not state["restarted"]:
        typer.echo(f"scoring endpoint: {state['url']} already running (pid {state['pid']}), "
                   f"serving version {state['served_version']}; nothing started")
        return None
    typer.echo(f"scoring endpoint: {state['url']} started, serving version "
               f"{state['served_version']} (log {state['log']})")
    return process.service()


def _start_all(supervisor: Supervisor, services: list[Service], mlflow, settings: Settings
               ) -> list[Service]:
    """The UIs, then the endpoint; on a failure of the endpoint, the UIs started now stop."""
    started = _start_uis(supervisor, services)
    try:
        endpoint = _serve_champion(mlflow, settings)
    except ServiceError as exc:
        _stop_started(supervisor, started)
        typer.echo(f"ui: {exc}", err=True)
        raise typer.Exit(2) from exc
    return started + ([endpoint] if endpoint else [])


@app.command()
def ui(
    port: int | None = typer.Option(None, help="Dagster UI port (default: "
                                               "HIRELOOP_DAGSTER_PORT, 3000)"),
    mlflow_port: int | None = typer.Option(None, help="MLflow UI port (default: "
                                                      "HIRELOOP_MLFLOW_PORT, 5000)"),
    detach: bool = typer.Option(False, "--detach", help="return once ready; `hireloop down` "
                                                        "stops them"),
) -> None:
    """Start on 127.0.0.1 the Dagster UI and its daemon (the loop's sensor runs in it), the
    MLflow UI, the Evidently UI (HIRELOOP_EVIDENTLY_PORT, 8000) and the scoring endpoint
    (serving the champion, once there is one).

    What already runs is left alone and said so. In the foreground (default), Ctrl-C or
    SIGTERM stops what this command started; with --detach they keep running.
    """
    import dataclasses

    from orchestration.services import UI_SERVICES

    runtime = _runtime()
    _dagster_env(runtime)
    settings = dataclasses.replace(
        runtime.settings, **({} if port is None else {"dagster_port": port}),
        **({} if mlflow_port is None else {"mlflow_port": mlflow_port}))
    mlflow = _mlflow(ui_port=settings.mlflow_port)
    supervisor = _supervisor(settings)
    services = [make(settings, mlflow) for make in UI_SERVICES]
    if detach:
        started = _start_all(supervisor, services, mlflow, settings)
        typer.echo("running detached: `hireloop down` stops them" if started else
                   "everything already runs: nothing started (`hireloop down` stops it)")
        return
    with _stop_signals() as received:
        started = _start_all(supervisor, services, mlflow, settings)
        if not started:
            typer.echo("everything already runs: nothing started (`hireloop down` stops it)")
            return
        typer.echo("Ctrl-C stops what this command started")
        code = _wait_for_signal(supervisor, started, received)
        _stop_started(supervisor, started)
    raise typer.Exit(code)


@app.command()
def contract() -> None:
    """Print the raw data contract: every table and column, its type, range, allowed values,
    whether it is required and what a bad value does (the page docs/CONTRACT.md holds)."""
    from hris.contract_doc import render_contract

    typer.echo(render_contract(), nl=False)


def main() -> None:
    # State files (reports, the model's pickle, logs, pid files) private whatever the
    # user's umask: 0600 files, 0700 folders, in this process and every one it starts
    # (the UIs, the daemon and its runs, the endpoint inherit the mask).
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
