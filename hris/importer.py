"""Importing a real HR-system export into the raw store, and exporting the raw store back.

`import_export` reads and validates every file before it touches the database, then loads
all tables in one transaction: an import is kept whole or not at all. With `check=True`
the same load runs and is rolled back, so the report says exactly what an import would do.
`export_raw` writes the raw tables as an export the importer reads (round trips, handing
data to another system).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg2 import sql

from hris.contract import RAW_SCHEMA, RAW_TABLES
from hris.data_crypto import DataCipher
from hris.export_files import ImportRefused, read_export, read_export_files
from hris.printable import printable
from hris.profile import ImportProfile, profile_change, profile_in_force
from hris.raw_plain import read_plain
from hris.raw_protect import personal_columns
from hris.raw_store import LoadReport, load_raw
from hris.transaction import one_transaction

__all__ = ["ImportRefused", "ImportReport", "export_raw", "import_export", "read_export"]


@dataclass
class ImportReport:
    """What an import did (or, with check=True, would do)."""

    directory: Path
    source: str
    checked: bool
    load: LoadReport
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    profile_id: int | None = None  # the profile in force after the import (None: none)
    profile_recorded: bool = False  # this import recorded it (False: it was in force already)

    def __str__(self) -> str:
        verb = "check (nothing written)" if self.checked else "import"
        lines = [f"{verb} of {printable(str(self.directory))} as source '{self.source}'",
                 self.load.as_table()]
        if self.profile_id is not None:
            state = "recorded by this import" if self.profile_recorded else "in force, unchanged"
            lines.append(f"import profile {self.profile_id}: {state}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def import_export(
    conn,
    directory: Path,
    source: str | None = None,
    check: bool = False,
    *,
    profile: ImportProfile | None = None,
    profile_source: str | None = None,
    progress: bool = False,
    before_commit: Callable[[Any], None] | None = None,
    cipher: DataCipher | None = None,
) -> ImportReport:
    """Load the export in `directory` into schema `raw` in one transaction (commit or rollback).

    `conn` is a psycopg2 connection; its open transaction, if any, becomes part of the
    import. `profile` (hris.profile) decodes and renames the files, and is recorded as the
    profile in force (`profile_source`: where it came from) in the same transaction, unless
    the same profile is in force already (so a re-import stays a no-op).
    `before_commit(cursor)` runs inside the same transaction after the load and the profile
    (e.g. to register the export), so it is kept or rolled back with it; with `check` it
    runs too and is rolled back. Raises ImportRefused (nothing loaded) for a structurally
    bad export.
    """
    directory = Path(directory)
    export = read_export_files(directory, profile)
    # Stored as text: a folder name's control characters or undecodable bytes escaped.
    source = printable(source or directory.resolve().name)
    profile_id, recorded = None, False
    with one_transaction(conn):
        # Birth dates are judged at load with the date formats staging will apply: the
        # profile's (recorded below), else the one in force.
        load = load_raw(conn, export.frames, source, progress=progress, cipher=cipher,
                        date_formats=None if profile is None else profile.dates)
        with conn.cursor() as cur:
            if profile is not None:
                change = profile_change(cur, profile, profile_source or "(unnamed profile)")
                profile_id, recorded = change.profile_id, change.recorded
            elif (in_force := profile_in_force(cur)) is not None:
                profile_id = in_force[0]
                export.warnings.append(
                    f"import profile {profile_id} is in force: its value and date rules "
                    "apply to this export too, but its encoding and column renames were "
                    "not used (name it with --profile FILE if this export needs them)")
        if before_commit is not None:
            with conn.cursor() as cur:
                before_commit(cur)
        if check:
            conn.rollback()
        else:
            conn.commit()
    return ImportReport(directory, source, check, load, export.files, export.warnings,
                        profile_id, recorded)


def export_raw(
    conn, directory: Path, fmt: Literal["csv", "parquet"] = "csv"
) -> dict[str, Path]:
    """Write every existing raw table as `<table>.csv` / `<table>.parquet` in `directory`.

    Contract columns only, all rows (duplicates included) ordered by key and _dup_seq.
    Streams through a temporary CSV file, so memory stays flat on large tables.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with conn.cursor() as cur:
        for table in RAW_TABLES.values():
            cur.execute("SELECT to_regclass(%s)", [f"{RAW_SCHEMA}.{table.name}"])
            if cur.fetchone()[0] is None:
                continue
            query = sql.SQL(
                "COPY (SELECT {cols} FROM {t} ORDER BY {order}) TO STDOUT WITH (FORMAT csv, HEADER)"
            ).format(
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
                t=sql.Identifier(RAW_SCHEMA, table.name),
                order=sql.SQL(", ").join(
                    [*(sql.SQL('{} COLLATE "C"').format(sql.Identifier(c)) for c in table.key),
                     sql.SQL("_dup_seq")]
                ),
            )
            path = directory / f"{table.name}.{fmt}"
            if personal_columns(table):  # ciphertext in raw: decrypted (few rows: in memory)
                _write_plain(read_plain(cur, table, extra=()), path, fmt)
            elif fmt == "csv":
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    cur.copy_expert(query, fh)
            else:
                _copy_to_parquet(cur, query, path, table.columns)
            written[table.name] = path
    return written


def _write_plain(frame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
        return
    schema = pa.schema([(c, pa.string()) for c in frame.columns])
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


def _copy_to_parquet(cur, query: sql.Composable, path: Path, columns: tuple[str, ...]) -> None:
    schema = pa.schema([(c, pa.string()) for c in columns])
    with tempfile.NamedTemporaryFile("w+b", suffix=".csv") as tmp:
        cur.copy_expert(query, tmp)
        tmp.flush()
        tmp.seek(0)
        reader = pa_csv.open_csv(
            tmp,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict(zip(columns, schema.types, strict=True)),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
        with pq.ParquetWriter(path, schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
