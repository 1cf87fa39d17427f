"""Fixtures for the hris tests: fresh, empty databases on the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def new_db(pg_server) -> Iterator:
    """Factory: each call creates an empty database and returns a psycopg2 connection to it."""
    made = []

    def make():
        name = pg_server.create_database("hris")
        conn = pg_server.endpoint.connect(name)
        made.append((name, conn))
        return conn

    yield make
    admin = pg_server.endpoint.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        for name, conn in made:
            conn.close()
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()
