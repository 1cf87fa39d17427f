"""The `hireloop` command against the session's real PostgreSQL: status, import, refusals."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from hris.importer import export_raw
from hris.raw_store import load_raw
from hris.simulator import simulate
from orchestration.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, pg_server, hireloop_home):
    """The CLI reads HIRELOOP_HOME like a user's shell would; point it at the test server."""
    monkeypatch.setenv("HIRELOOP_HOME", str(hireloop_home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    return pg_server


@pytest.fixture(scope="module")
def export_dir(pg_server, tmp_path_factory):
    """A CSV export of a small synthetic HR history."""
    database = pg_server.create_database("cli_src")
    conn = pg_server.endpoint.connect(database)
    with conn:
        load_raw(conn, simulate(n_candidates=300, seed=5).raw, source="cli-test")
    directory = tmp_path_factory.mktemp("export")
    export_raw(conn, directory, "csv")
    conn.close()
    return directory


def _count(pg_server, sql: str) -> int:
    conn = pg_server.endpoint.connect("hireloop")
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw.interviews')")
        if cur.fetchone()[0] is None:
            return 0
        cur.execute(sql)
        n = cur.fetchone()[0]
    conn.close()
    return n


def test_status_says_what_runs_where(cli_env):
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "running" in result.output
    assert cli_env.endpoint.host in result.output


def test_import_check_then_import_then_refusal(cli_env, export_dir, tmp_path):
    interviews = len(pd.read_csv(export_dir / "interviews.csv"))
    before = _count(cli_env, "SELECT count(*) FROM raw.interviews")

    checked = runner.invoke(app, ["import", "--check", str(export_dir), "--as-of", "2025-01-01"])
    assert checked.exit_code == 0, checked.output
    assert "nothing loaded" in checked.output
    assert _count(cli_env, "SELECT count(*) FROM raw.interviews") == before

    done = runner.invoke(app, ["import", str(export_dir), "--as-of", "2025-01-01"])
    assert done.exit_code == 0, done.output
    assert _count(cli_env, "SELECT count(*) FROM raw.interviews") == before + interviews
    registered = _count(
        cli_env, "SELECT count(*) FROM raw._exports WHERE as_of_date = '2025-01-01'"
    )
    assert registered >= 1

    # The same export again changes nothing.
    again = runner.invoke(app, ["import", str(export_dir), "--as-of", "2025-01-01"])
    assert again.exit_code == 0, again.output
    assert _count(cli_env, "SELECT count(*) FROM raw.interviews") == before + interviews

    # A renamed column: refused with the file and the column named, nothing kept.
    broken = tmp_path / "broken"
    broken.mkdir()
    frame = pd.read_csv(export_dir / "interviews.csv", dtype=str)
    frame.rename(columns={"interview_date": "date_of_interview"}).to_csv(
        broken / "interviews.csv", index=False
    )
    exports_before = _count(cli_env, "SELECT count(*) FROM raw._exports")
    refused = runner.invoke(app, ["import", str(broken), "--as-of", "2025-02-01"])
    assert refused.exit_code == 2
    assert "interviews.csv" in refused.output and "interview_date" in refused.output
    assert _count(cli_env, "SELECT count(*) FROM raw._exports") == exports_before


def test_rater_ids_writes_the_interview_tools_lookup(cli_env, export_dir, tmp_path):
    from hris.pseudonym import pseudonym
    from orchestration.config import Settings

    runner.invoke(app, ["import", str(export_dir), "--as-of", "2025-01-01"])
    out = tmp_path / "rater_ids.csv"
    result = runner.invoke(app, ["rater-ids", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lookup = pd.read_csv(out, dtype=str)
    expected = pd.read_csv(export_dir / "interviews.csv", dtype=str)["interviewer_id"]
    assert set(lookup["interviewer_id"]) == set(expected.dropna().str.strip())
    key = Settings.from_env().pseudonym_key()
    assert all(pseudonym(key, i) == r for i, r in lookup.itertuples(index=False))
    assert oct(out.stat().st_mode & 0o777) == oct(0o600)
