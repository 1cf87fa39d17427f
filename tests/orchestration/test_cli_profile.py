"""`hireloop profile FILE`: record a corrected import profile without a re-import."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orchestration.cli import app

runner = CliRunner()


def _profiles(pg_server) -> list[tuple]:
    conn = pg_server.endpoint.connect("hireloop")
    with conn.cursor() as cur:
        cur.execute("SELECT source, profile->>'encoding' FROM raw._profiles "
                    "ORDER BY profile_id")
        rows = cur.fetchall()
    conn.close()
    return rows


@pytest.fixture
def cli_env(monkeypatch, pg_server, hireloop_home, tmp_path):
    """The CLI on the session's server; the profiles this test records are removed after
    it, so the session's other users of database `hireloop` see none in force."""
    monkeypatch.setenv("HIRELOOP_HOME", str(hireloop_home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    yield pg_server
    conn = pg_server.endpoint.connect("hireloop")
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw._profiles')")
        if cur.fetchone()[0] is not None:
            cur.execute("DELETE FROM raw._profiles WHERE source LIKE %s", [f"{tmp_path}%"])
            cur.execute("DELETE FROM raw._value_map")
            cur.execute("DELETE FROM raw._date_formats")
    conn.close()


def test_profile_records_a_corrected_profile_and_says_what_needs_a_reimport(
    cli_env, pg_server, tmp_path
):
    rules = tmp_path / "rules.yaml"
    rules.write_text("values:\n  interviews.recommendation: {hire: 'yes', 不录用: 'no'}\n"
                     "dates:\n  interviews.interview_date: YYYY/MM/DD\n", encoding="utf-8")
    first = runner.invoke(app, ["profile", str(rules)])
    assert first.exit_code == 0, first.output
    assert "2 value rule(s) and 1 date format(s) act on the next build, without a re-import" \
        in first.output
    assert "re-import the export" not in first.output
    recorded = _profiles(pg_server)
    assert recorded[-1] == (str(rules.resolve()), None)

    again = runner.invoke(app, ["profile", str(rules)])
    assert again.exit_code == 0 and "in force already: nothing recorded" in again.output
    assert _profiles(pg_server) == recorded

    encoded = tmp_path / "encoded.yaml"
    encoded.write_text("encoding: gbk\n", encoding="utf-8")
    changed = runner.invoke(app, ["profile", str(encoded)])
    assert changed.exit_code == 0, changed.output
    assert "Its encoding changed: that acts only when the files are read, so re-import the " \
           "export with --profile FILE" in changed.output
    assert _profiles(pg_server)[-1] == (str(encoded.resolve()), "gbk")

    bad = tmp_path / "bad.yaml"
    bad.write_text("values:\n  interviews.recommendation: {hire: hired}\n", encoding="utf-8")
    refused = runner.invoke(app, ["profile", str(bad)])
    assert refused.exit_code == 2
    assert f"profile refused: {bad}: values.interviews.recommendation: 'hire' maps to " \
           "'hired'" in refused.output
    assert "Traceback" not in refused.output
    assert len(_profiles(pg_server)) == len(recorded) + 1
