"""Issue 9's acceptance test: another HR system's export (GB18030, Chinese headers and
values, its own recommendation words, YYYY/MM/DD dates; tests/hris/foreign_export.py).

- Without a profile the files cannot be read as the contract: check and import refuse
  alike, naming the file, and nothing is loaded.
- With only the import part of the profile (encoding, renames) the files load but no value
  is mapped: `--check` predicts exactly the quarantine the build then produces.
- With the whole profile, nothing is quarantined and the feature store (fct_training_examples,
  fct_candidates_to_score) equals the one built from the same history in the contract's
  vocabulary.

Real PostgreSQL, real dbt, the real importer (profile parsing: hris.profile.load_profile).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from hris.check_report import TODO, profile_snippet
from hris.exports import record_export
from hris.importer import ImportRefused
from hris.ingest import ingest_export
from hris.profile import load_profile
from hris.pseudonym import install_pseudonym_key
from hris.raw_store import load_raw
from hris.simulator import simulate
from ml.datasets import read_frame
from orchestration.cli import app
from orchestration.dbt import run_dbt_build
from orchestration.import_check import check_export, field_defect_counts, quarantine_counts
from tests.hris.foreign_export import PROFILE, import_only_profile, write_foreign_export
from tests.orchestration.raw_state import hr_tables_and_loads

AS_OF = dt.date(2025, 1, 1)
KEY = b"not-secret-foreign-export-key"
MARTS = {"fct_training_examples": "candidate_id", "fct_candidates_to_score": "candidate_id"}


@pytest.fixture(scope="module")
def history():
    return simulate(n_candidates=400, seed=31, as_of=AS_OF.isoformat()).raw


@pytest.fixture(scope="module")
def foreign(history, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("foreign_export")
    write_foreign_export(history, directory)
    return directory


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> dict[str, Path]:
    """The user's profile files, kept beside (not inside) the export folder."""
    folder = tmp_path_factory.mktemp("profiles")
    (folder / "full.yaml").write_text(PROFILE, encoding="utf-8")
    (folder / "import_only.yaml").write_text(import_only_profile(), encoding="utf-8")
    return {"full": folder / "full.yaml", "import_only": folder / "import_only.yaml"}


def _installation(pg_server) -> str:
    database = pg_server.create_database("foreign")
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        install_pseudonym_key(cur, KEY)
    conn.close()
    return database


def _import_and_build(pg_server, database: str, directory: Path, profile, target: Path):
    """The real import (with its profile) and the whole dbt build that follows; the
    quarantine is read even when the build stops on a failing test."""
    source = str(directory.resolve())  # the source name check_export gives the export
    conn = pg_server.endpoint.connect(database)
    try:
        ingest_export(conn, directory, AS_OF, profile=profile, profile_source="profile.yaml")
        failure = None
        try:
            run_dbt_build(pg_server.endpoint.dbt_env(database), AS_OF.isoformat(),
                          target_path=str(target))
        except RuntimeError as exc:
            failure = exc
        try:
            return quarantine_counts(conn, source), field_defect_counts(conn), failure
        except Exception as exc:
            raise AssertionError(f"the build made no quarantine models: {failure}") from exc
    finally:
        conn.close()


def _marts(pg_server, database: str) -> dict[str, pd.DataFrame]:
    conn = pg_server.endpoint.connect(database)
    try:
        return {name: read_frame(conn, f"SELECT * FROM marts.{name} ORDER BY {order}")
                for name, order in MARTS.items()}
    finally:
        conn.close()


def _raw_count(pg_server, database: str) -> int:
    conn = pg_server.endpoint.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'raw'")
            if cur.fetchone()[0] == 0:
                return 0
            cur.execute("SELECT (SELECT count(*) FROM raw.candidates) "
                        "+ (SELECT count(*) FROM raw._exports)")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reference(pg_server, history, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The feature store built from the same history in the contract's vocabulary."""
    database = _installation(pg_server)
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        load_raw(conn, history, source="contract vocabulary")
        record_export(cur, "contract vocabulary", "import", AS_OF)
    conn.close()
    run_dbt_build(pg_server.endpoint.dbt_env(database), AS_OF.isoformat(),
                  target_path=str(tmp_path_factory.mktemp("reference_target")))
    return _marts(pg_server, database)


def test_without_a_profile_check_and_import_refuse_alike(pg_server, foreign):
    database = _installation(pg_server)
    with pytest.raises(ImportRefused) as checked:
        check_export(pg_server.endpoint, database, foreign, KEY, AS_OF)
    conn = pg_server.endpoint.connect(database)
    try:
        with pytest.raises(ImportRefused) as imported:
            ingest_export(conn, foreign, AS_OF)
    finally:
        conn.close()
    assert str(checked.value) == str(imported.value)
    assert ".csv" in str(checked.value)
    assert _raw_count(pg_server, database) == 0


def test_unmapped_values_check_predicts_the_build_exactly(pg_server, foreign, profiles,
                                                          tmp_path):
    database = _installation(pg_server)
    profile = load_profile(profiles["import_only"])
    report = check_export(pg_server.endpoint, database, foreign, KEY, AS_OF, profile=profile)
    assert _raw_count(pg_server, database) == 0  # the check loaded nothing
    built, voided, _ = _import_and_build(pg_server, database, foreign, profile,
                                         tmp_path / "target")
    assert sorted(built, key=repr) == sorted(report.quarantine, key=repr)
    assert voided == report.voided
    # Unmapped, the foreign dates and values do quarantine (else this proves little): dates
    # cannot be read, role families are not allowed, and the children go with them.
    reasons = {c.reason for c in report.quarantine}
    assert {"unparseable_value", "invalid_value", "parent_quarantined"} <= reasons
    assert {"candidates", "interviews", "interview_scores"} <= {c.table for c in
                                                               report.quarantine}
    # The suggested profile: the date formats the user's own profile gives, every column
    # it maps, and no guess that disagrees with it.
    written, suggested = yaml.safe_load(PROFILE), yaml.safe_load(profile_snippet(report))
    assert suggested["dates"] == written["dates"]
    assert set(suggested["values"]) == set(written["values"])
    for column, mapping in suggested["values"].items():
        assert set(mapping) <= set(written["values"][column]), column
        assert all(v in (TODO, written["values"][column][k]) for k, v in mapping.items())


def test_with_the_profile_nothing_is_quarantined_and_the_store_is_the_same(
        pg_server, foreign, profiles, reference, tmp_path):
    database = _installation(pg_server)
    profile = load_profile(profiles["full"])
    report = check_export(pg_server.endpoint, database, foreign, KEY, AS_OF, profile=profile)
    assert report.quarantine == []
    assert report.voided == []
    built, voided, failure = _import_and_build(pg_server, database, foreign, profile,
                                               tmp_path / "target")
    assert failure is None, failure
    assert built == [] and voided == []
    store = _marts(pg_server, database)
    for name, frame in reference.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(store[name], frame, obj=name)


def test_the_command_checks_with_and_without_the_values_of_the_profile(own_installation,
                                                                       foreign, profiles):
    """`hireloop import DIR --check --profile FILE`: with the import part only, the foreign
    values are listed beside the allowed ones and the snippet proposes the dates; with the
    whole profile, nothing would be quarantined. Nothing is loaded either time."""
    runner = CliRunner()
    base = ["import", str(foreign), "--check", "--as-of", AS_OF.isoformat(), "--profile"]
    unmapped = runner.invoke(app, [*base, str(profiles["import_only"])])
    assert unmapped.exit_code == 0, unmapped.output
    assert "job_roles.role_family: allowed sales, customer_service, rnd, manufacturing" \
        in unmapped.output
    assert '"销售"' in unmapped.output
    assert 'candidates.application_date: "YYYY/MM/DD"' in unmapped.output
    mapped = runner.invoke(app, [*base, str(profiles["full"])])
    assert mapped.exit_code == 0, mapped.output
    assert "The build would quarantine no rows" in mapped.output
    conn = own_installation.connect("hireloop")
    try:
        with conn.cursor() as cur:
            assert hr_tables_and_loads(cur) == 0  # no HR table, nothing in the register
    finally:
        conn.close()
