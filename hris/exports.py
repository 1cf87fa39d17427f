"""A register of loaded exports and their as-of dates.

The as-of date (the export's date, or the simulator's clock) decides what is future and
what is mature. It is recorded with each load so the feature store is built for the data's
own date, never the wall clock.
"""

from __future__ import annotations

import datetime as dt

_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._exports (
    export_id   bigserial PRIMARY KEY,
    source      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('simulator', 'import')),
    as_of_date  date NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
"""


def record_export(cursor, source: str, kind: str, as_of: dt.date) -> None:
    """Register one load (inside the caller's transaction, so a rolled-back load leaves none)."""
    cursor.execute(_DDL)
    cursor.execute(
        "INSERT INTO raw._exports (source, kind, as_of_date) VALUES (%s, %s, %s)",
        [source, kind, as_of],
    )


def latest_as_of(cursor) -> dt.date | None:
    """The as-of date of the newest export, or None when nothing was loaded yet."""
    cursor.execute("SELECT to_regclass('raw._exports')")
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute("SELECT max(as_of_date) FROM raw._exports")
    return cursor.fetchone()[0]


def required_as_of(cursor) -> dt.date:
    """`latest_as_of` for work that cannot start without an export (dbt, the checks)."""
    as_of = latest_as_of(cursor)
    if as_of is None:
        raise RuntimeError("no export loaded yet: materialise raw_hr_tables first")
    return as_of
