"""Import profiles: how one HR system's exports map onto the raw contract.

A profile is a small YAML file the user keeps beside their exports and names at import
(`hireloop import DIR --profile FILE`). Its parts act in two places:

- at import (hris.export_files): `encoding` (utf-8 with or without BOM, gb18030, ...) and
  `columns` (per table, export column -> contract column). Changing these needs a re-import.
- where staging reads (dbt, and the Great Expectations raw suites alike): `values` (per
  table.column, export value -> contract value) and `dates` (per table.column, a
  PostgreSQL `to_date` format such as `YYYY/MM/DD` or `YYYY年MM月DD日`). `raw` keeps what the
  HR system exported; a corrected mapping releases rows on the next build, no re-import.

The profile in force is the one recorded last (`raw._profiles`); its value and date rules
are materialised in `raw._value_map` and `raw._date_formats`, which staging joins.
Value keys are matched case-insensitively on the trimmed text (`lower(trim(value))`).

Example::

    encoding: gb18030
    columns:
      candidates: {性别: gender, 学历: education}
    values:
      candidates.gender: {男: male, 女: female}
      interviews.recommendation: {hire: "yes", 不录用: "no"}
    dates:
      candidates.application_date: YYYY/MM/DD
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from hris.import_rules import ensure_date_parser

PROFILE_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._profiles (
    profile_id   bigserial PRIMARY KEY,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,
    sha256       text NOT NULL,
    profile      jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS raw._value_map (
    table_name     text NOT NULL,
    column_name    text NOT NULL,
    source_value   text NOT NULL,
    contract_value text NOT NULL,
    PRIMARY KEY (table_name, column_name, source_value)
);
CREATE TABLE IF NOT EXISTS raw._date_formats (
    table_name  text NOT NULL,
    column_name text NOT NULL,
    format      text NOT NULL,
    PRIMARY KEY (table_name, column_name)
);
"""


@dataclass(frozen=True)
class ImportProfile:
    """A parsed, validated profile (see the module docstring)."""

    encoding: str | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    dates: dict[tuple[str, str], str] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The profile as stored in `raw._profiles.profile` (keys as `table.column`)."""
        return {
            "encoding": self.encoding,
            "columns": self.columns,
            "values": {f"{t}.{c}": m for (t, c), m in sorted(self.values.items())},
            "dates": {f"{t}.{c}": f for (t, c), f in sorted(self.dates.items())},
        }

    def sha256(self) -> str:
        return hashlib.sha256(
            json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the key."""


def load_profile(path: Path) -> ImportProfile:
    """Read and validate a profile file (YAML); raises ProfileError naming what is wrong."""
    raise NotImplementedError("hris.profile.load_profile: being built (issue 9)")


def ensure_profile_tables(cursor) -> None:
    """Create the profile tables (idempotent; empty tables mean: no profile in force) and the
    strict date parser staging applies their formats with (hris.import_rules)."""
    cursor.execute(PROFILE_DDL)
    ensure_date_parser(cursor)


def record_profile(cursor, profile: ImportProfile, source: str) -> int:
    """Record `profile` as the one in force (caller's transaction); returns its id.

    Replaces the contents of `raw._value_map` and `raw._date_formats` with its rules, so the
    next build reads them.
    """
    ensure_profile_tables(cursor)
    cursor.execute(
        "INSERT INTO raw._profiles (source, sha256, profile) VALUES (%s, %s, %s) "
        "RETURNING profile_id",
        [source, profile.sha256(), json.dumps(profile.as_json(), ensure_ascii=False)],
    )
    profile_id = cursor.fetchone()[0]
    cursor.execute("DELETE FROM raw._value_map")
    cursor.execute("DELETE FROM raw._date_formats")
    for (table, column), mapping in profile.values.items():
        for source_value, contract_value in mapping.items():
            cursor.execute(
                "INSERT INTO raw._value_map VALUES (%s, %s, lower(trim(%s)), %s) "
                "ON CONFLICT (table_name, column_name, source_value) "
                "DO UPDATE SET contract_value = EXCLUDED.contract_value",
                [table, column, str(source_value), str(contract_value)],
            )
    for (table, column), fmt in profile.dates.items():
        cursor.execute("INSERT INTO raw._date_formats VALUES (%s, %s, %s)", [table, column, fmt])
    return profile_id
