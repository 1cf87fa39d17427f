"""CI meets the project as a new user does: `make demo` on the clean clone first.

Once a demo failed on every fresh clone for three sessions because `make test` ran first
and made a file the demo needed. `.ci/run` must run `make demo`, then `make down`, then
`make test`, each exactly once, and stop at the first failure.
"""

from __future__ import annotations

from pathlib import Path

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def _commands() -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in CI_RUN.read_text().splitlines()]
    return [line for line in lines if line.startswith("make ")]


def test_ci_runs_the_demo_on_the_clean_clone_before_the_tests():
    assert _commands() == ["make demo", "make down", "make test"]


def test_ci_stops_at_the_first_failure():
    assert "set -euo pipefail" in CI_RUN.read_text()
