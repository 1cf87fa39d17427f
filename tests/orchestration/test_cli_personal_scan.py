"""`hireloop scan-personal-data`: exit 0 on a clean installation, exit 2 with the place and
the masked value (never the value) when a raw name sits in a report."""

from __future__ import annotations

from typer.testing import CliRunner

from hris.personal_values import mask
from hris.raw_store import load_raw
from hris.simulator import simulate
from orchestration.cli import app
from orchestration.config import Settings

runner = CliRunner()


def test_scan_is_clean_then_finds_a_name_in_a_report(own_installation):
    raw = simulate(n_candidates=200, seed=3).raw
    conn = own_installation.connect("hireloop")
    with conn:
        load_raw(conn, raw, source="scan-test")
    conn.close()
    clean = runner.invoke(app, ["scan-personal-data"])
    assert clean.exit_code == 0, clean.output
    assert "No personal data outside raw" in clean.output

    name = raw["candidates"]["full_name"].iloc[5]
    reports = Settings.from_env().reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "note.html").write_text(f"<p>Call {name} back</p>", encoding="utf-8")
    found = runner.invoke(app, ["scan-personal-data"])
    assert found.exit_code == 2, found.output
    assert "note.html" in found.output and "full_name" in found.output
    assert mask(name) in found.output and name not in found.output
