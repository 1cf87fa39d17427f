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


# The load rules through the command (tests/hris/test_load_rules.py proves them in depth).
# The session's `hireloop` database is a real installation: the tests above import into it.


@pytest.fixture
def real_installation(cli_env, export_dir):
    """The CLI's database holding the export at 2025-01-01 (a no-op when it already does)."""
    done = runner.invoke(app, ["import", str(export_dir), "--as-of", "2025-01-01"])
    assert done.exit_code == 0, done.output
    return cli_env


def _register(pg_server) -> list[tuple]:
    conn = pg_server.endpoint.connect("hireloop")
    with conn.cursor() as cur:
        cur.execute("SELECT as_of_date::text, corrects_as_of::text, correction_reason "
                    "FROM raw._exports ORDER BY export_id")
        rows = cur.fetchall()
    conn.close()
    return rows


def _one_line_refusal(result, command: str) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command} refused: "), result.output
    return lines[0]


@pytest.mark.parametrize("as_of", [None, "2025-02-30", "01/06/2025"])
def test_import_needs_a_valid_as_of_and_says_so_in_one_line(real_installation, export_dir,
                                                            as_of):
    before = _register(real_installation)
    args = ["import", str(export_dir)] + ([] if as_of is None else ["--as-of", as_of])
    line = _one_line_refusal(runner.invoke(app, args), "import")
    assert ("--as-of" in line) if as_of is None else ("YYYY-MM-DD" in line)
    assert _register(real_installation) == before


def test_an_earlier_as_of_is_refused_until_corrected_on_the_record(real_installation,
                                                                   export_dir):
    later = runner.invoke(app, ["import", str(export_dir), "--as-of", "2025-03-01"])
    assert later.exit_code == 0, later.output
    before = _register(real_installation)
    assert before[-1][0] == "2025-03-01"

    earlier = ["import", str(export_dir), "--as-of", "2025-01-01"]
    line = _one_line_refusal(runner.invoke(app, earlier), "import")
    assert "--correct-as-of" in line
    assert _register(real_installation) == before

    fixed = runner.invoke(app, [*earlier, "--correct-as-of", "March was a typo"])
    assert fixed.exit_code == 0, fixed.output
    assert "real installation; as-of in force: 2025-01-01" in fixed.output
    assert "correcting 2025-03-01" in fixed.output
    assert _register(real_installation) == [
        *before, ("2025-01-01", "2025-03-01", "March was a typo")]


@pytest.mark.parametrize("command", [["generate", "--candidates", "50"],
                                     ["build", "--candidates", "50"]])
def test_simulated_data_is_refused_by_a_real_installation(real_installation, command):
    interviews = _count(real_installation, "SELECT count(*) FROM raw.interviews")
    before = _register(real_installation)
    line = _one_line_refusal(runner.invoke(app, command), command[0])
    assert "real" in line and "HIRELOOP_HOME" in line
    assert _count(real_installation, "SELECT count(*) FROM raw.interviews") == interviews
    assert _register(real_installation) == before


def test_build_refuses_a_bad_as_of_before_the_pipeline_starts(real_installation, export_dir):
    result = runner.invoke(app, ["build", "--import-dir", str(export_dir), "--as-of", "June"])
    assert "YYYY-MM-DD" in _one_line_refusal(result, "build")


@pytest.mark.parametrize(("args", "expected"), [
    (["--history-end", "June"], "history end 'June' is not a date"),
    (["--history-end", "2024-06-30", "--as-of", "2024-05-01"], "not after the history's end"),
    (["--history-end", "2022-03-31"], "at least 1 year(s)"),
])
def test_build_refuses_a_bad_history_end_before_the_pipeline_starts(real_installation, args,
                                                                    expected):
    before = _register(real_installation)
    assert expected in _one_line_refusal(runner.invoke(app, ["build", *args]), "build")
    assert _register(real_installation) == before


def test_build_ends_a_simulated_history_only(real_installation, export_dir):
    args = ["build", "--import-dir", str(export_dir), "--history-end", "2024-06-30"]
    line = _one_line_refusal(runner.invoke(app, args), "build")
    assert "--history-end ends a simulated history only" in line
