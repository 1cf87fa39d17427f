"""Fixtures for the orchestration tests."""

from __future__ import annotations

import pytest

from orchestration.config import Settings
from orchestration.runtime import Runtime


@pytest.fixture
def own_installation(monkeypatch, tmp_path):
    """A HIRELOOP_HOME of its own (its own embedded PostgreSQL): other CLI tests move the
    as-of in force of the session's installation, which would refuse this one's."""
    home = tmp_path / "home"
    monkeypatch.setenv("HIRELOOP_HOME", str(home))
    monkeypatch.delenv("HIRELOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("HIRELOOP_PSEUDONYM_KEY", raising=False)
    runtime = Runtime(Settings(home=home))
    yield runtime.up()
    runtime.down()
