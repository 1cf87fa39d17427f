"""`import --check` predicts the build's quarantine exactly, loads nothing, prints no personal
value: a dirty export (planted defects, invalid and personal-looking vocabulary values)
imported into an installation that already holds its parents. Real PostgreSQL, real dbt."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hris.check_report import format_check
from hris.exports import record_export
from hris.importer import export_raw
from hris.ingest import ingest_export
from hris.personal_values import REDACTED, looks_personal
from hris.profile import ImportProfile, record_profile
from hris.pseudonym import install_pseudonym_key
from hris.raw_store import load_raw
from hris.simulator import simulate
from hris.simulator.defects import plant_defects
from monitoring.data_quality.rules import load_rules
from orchestration.cli import app
from orchestration.dbt import run_dbt_build
from orchestration.import_check import check_export, field_defect_counts, quarantine_counts
from tests.orchestration.raw_state import hr_tables_and_loads

AS_OF = dt.date(2025, 1, 1)
KEY = b"not-secret-import-check-key"
# Loaded before the export arrives: the parents. The export brings their children, so an
# interview is an orphan only if its candidate is in neither, and a candidate quarantined
# in the installation takes its interviews in the export with it.
LOADED = ("job_roles", "candidates", "employees", "interview_questions")
INVALID = {"hire": 4, "no_hire": 3, "Strong Yes": 2}  # recommendation -> planted rows
PERSONAL_LOOKING = ["jane.doe@example.com", "+44 7700 900123", "11010519491231002X"]
PERSONAL_COLUMNS = ("full_name", "national_id", "email", "phone", "birth_date")


@pytest.fixture(scope="module")
def dirty():
    """A simulated history with planted defects, plus invalid recommendations on clean rows."""
    sim = simulate(n_candidates=500, seed=17, as_of=AS_OF.isoformat())
    raw, manifest = plant_defects(sim.raw, 0.03, seed=5, as_of=sim.as_of)
    interviews = raw["interviews"].copy()
    touched = set(manifest.loc[manifest["table"] == "interviews", "interview_id"].dropna())
    clean = interviews.index[~interviews["interview_id"].isin(touched)
                             & ~interviews["interview_id"].duplicated(keep=False)]
    values = [v for v, n in INVALID.items() for _ in range(n)] + PERSONAL_LOOKING
    interviews.loc[clean[: len(values)], "recommendation"] = values
    raw["interviews"] = interviews
    return raw, manifest


@pytest.fixture(scope="module")
def installation(pg_server, dirty):
    """A database holding the parents (with their defects), registered like an import."""
    raw, _ = dirty
    database = pg_server.create_database("inst")
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        load_raw(conn, {t: raw[t] for t in LOADED}, source="earlier-export")
        record_export(cur, "earlier-export", "import", AS_OF)
        install_pseudonym_key(cur, KEY)
    conn.close()
    return database


@pytest.fixture(scope="module")
def export_dir(pg_server, dirty, tmp_path_factory) -> Path:
    """The rest of the history as CSV files, written by the project's own exporter."""
    raw, _ = dirty
    database = pg_server.create_database("exp")
    conn = pg_server.endpoint.connect(database)
    with conn:
        load_raw(conn, {t: f for t, f in raw.items() if t not in LOADED}, source="x")
    directory = tmp_path_factory.mktemp("dirty_export")
    export_raw(conn, directory, "csv")
    conn.close()
    return directory


def _fingerprint(pg_server, database: str) -> dict[str, tuple]:
    """Every table of `raw` (bookkeeping included): row count and a hash of all rows."""
    conn = pg_server.endpoint.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw'")
            tables = sorted(t for (t,) in cur.fetchall())
            prints = {}
            for t in tables:
                cur.execute(f'SELECT count(*), md5(string_agg(r::text, \'|\' ORDER BY r::text)) '
                            f'FROM raw."{t}" r')
                prints[t] = cur.fetchone()
            return prints
    finally:
        conn.close()


def _databases(pg_server) -> set[str]:
    conn = pg_server.endpoint.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {d for (d,) in cur.fetchall()}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def checked(pg_server, installation, export_dir):
    """The check's report, with the installation's state before and after it."""
    before, dbs = _fingerprint(pg_server, installation), _databases(pg_server)
    report = check_export(pg_server.endpoint, installation, export_dir, KEY, AS_OF)
    return report, before, _fingerprint(pg_server, installation), dbs, _databases(pg_server)


def test_check_loads_nothing_and_leaves_no_scratch_database(checked):
    _, before, after, dbs_before, dbs_after = checked
    assert after == before  # raw tables, _exports (no new row), profiles: byte for byte
    assert dbs_after == dbs_before


def test_orphans_are_judged_against_what_is_loaded_plus_the_export(checked, dirty):
    """The export has no candidates, yet only the planted orphans are orphans; and the
    installation's quarantined candidates take their interviews in the export along."""
    report, *_ = checked
    _, manifest = dirty
    by = {(c.table, c.reason): c for c in report.quarantine}
    planted_orphans = ((manifest["table"] == "interviews") & (manifest["reason"] == "orphan"))
    assert by[("interviews", "orphan")].rows == int(planted_orphans.sum())
    knock_on = by[("interviews", "parent_quarantined")]
    assert knock_on.rows > 0 and knock_on.from_export == knock_on.rows
    assert by[("candidates", "unparseable_value")].from_export == 0  # loaded before


def test_check_counts_equal_the_build_that_follows(pg_server, checked, installation,
                                                    export_dir, tmp_path):
    report, *_ = checked
    source = report.source
    conn = pg_server.endpoint.connect(installation)
    try:
        ingest_export(conn, export_dir, AS_OF)
        run_dbt_build(pg_server.endpoint.dbt_env(installation), AS_OF.isoformat(),
                      target_path=str(tmp_path / "target"))
        built, voided = quarantine_counts(conn, source), field_defect_counts(conn)
    finally:
        conn.close()
    assert sorted(built, key=repr) == sorted(report.quarantine, key=repr)
    assert report.quarantined > 0
    assert voided == report.voided  # descriptive fields voided, where the project voids any


def test_invalid_values_are_listed_with_the_allowed_ones_and_a_profile_snippet(checked,
                                                                              dirty):
    report, *_ = checked
    raw, _ = dirty
    text = format_check(report)
    allowed = load_rules().tables["interviews"].vocab["recommendation"]
    assert f"interviews.recommendation: allowed {', '.join(allowed)}" in text
    # Every invalid recommendation of the export, with its rows (ours, and any the defect
    # planter adds), as exported but trimmed.
    exported = raw["interviews"]["recommendation"].dropna().str.strip()
    # Values that look personal come withheld from quarantine itself.
    expected = Counter(REDACTED if looks_personal(v) else v for v in exported
                       if v.lower() not in allowed)
    listed = {v.value: v.rows for v in report.offending if v.column == "recommendation"}
    assert listed == dict(expected)
    assert set(INVALID) <= set(listed) and listed[REDACTED] >= len(PERSONAL_LOOKING)
    assert not set(PERSONAL_LOOKING) & set(listed)
    assert '"hire"' in text and '"no_hire"' in text
    # The snippet: obvious guesses named as such, a placeholder where there is none.
    assert '"Strong Yes": "strong_yes"  # a guess' in text
    assert '"hire": "TODO"  # one of: strong_yes, yes, no, strong_no' in text
    assert "withheld: they look like personal data" in text


def test_no_personal_value_is_printed(checked, dirty):
    report, *_ = checked
    raw, _ = dirty
    text = format_check(report)
    personal = set(PERSONAL_LOOKING)
    for table in ("candidates", "employees"):
        for column in PERSONAL_COLUMNS:
            personal |= set(raw[table][column].dropna())
    leaked = sorted(v for v in personal if v and v in text)
    assert not leaked, f"{len(leaked)} personal values printed"


def test_cli_check_prints_the_prediction_and_refuses_a_bad_export(own_installation,
                                                                 export_dir, tmp_path):
    """Through the command: the report, exit 0, nothing loaded; a structurally bad export
    refused in one line (exit 2); an export without its as-of refused as the import is."""
    runner = CliRunner()

    def raw_state():
        conn = own_installation.connect("hireloop")
        try:
            with conn.cursor() as cur:
                return hr_tables_and_loads(cur)
        finally:
            conn.close()

    result = runner.invoke(app, ["import", str(export_dir), "--check", "--as-of", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "nothing loaded into this installation" in result.output
    assert "The build would quarantine" in result.output
    assert "interviews.recommendation: allowed" in result.output
    broken = tmp_path / "broken"
    broken.mkdir()
    frame = pd.read_csv(export_dir / "interviews.csv", dtype=str)
    frame.drop(columns=["interview_date"]).to_csv(broken / "interviews.csv", index=False)
    refused = runner.invoke(app, ["import", str(broken), "--check", "--as-of", "2025-01-01"])
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith("import refused: ") and "interview_date" in refused.output
    no_date = runner.invoke(app, ["import", str(export_dir), "--check"])
    assert no_date.exit_code == 2, no_date.output
    assert "as-of" in no_date.output
    assert raw_state() == 0  # no HR table, nothing in the load register


def test_the_profile_in_force_applies_as_in_the_build(pg_server, dirty, export_dir, tmp_path):
    """The installation's recorded profile (raw._value_map) travels into the scratch
    database: its mappings release the values they map, in the check as in the build."""
    raw, _ = dirty
    database = pg_server.create_database("mapped")
    mapping = ImportProfile(values={("interviews", "recommendation"): {"hire": "yes",
                                                                       "no_hire": "no"}})
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        load_raw(conn, {t: raw[t] for t in LOADED}, source="earlier-export")
        record_export(cur, "earlier-export", "import", AS_OF)
        install_pseudonym_key(cur, KEY)
        record_profile(cur, mapping, "earlier profile")
    report = check_export(pg_server.endpoint, database, export_dir, KEY, AS_OF)
    listed = {v.value for v in report.offending if v.column == "recommendation"}
    assert "Strong Yes" in listed and not {"hire", "no_hire"} & listed
    try:
        ingest_export(conn, export_dir, AS_OF)
        run_dbt_build(pg_server.endpoint.dbt_env(database), AS_OF.isoformat(),
                      target_path=str(tmp_path / "target"))
        built, voided = quarantine_counts(conn, report.source), field_defect_counts(conn)
    finally:
        conn.close()
    assert sorted(built, key=repr) == sorted(report.quarantine, key=repr)
    assert voided == report.voided
