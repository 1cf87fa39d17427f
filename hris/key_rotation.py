"""Data key rotation: every personal value of schema `raw` re-encrypted under a new key, in
one transaction (all rows or none), history tables included.

Only the ciphertext changes: the row hashes (keyed by private.raw_hash_key, not by the
data key), `_loaded_at` and the row counts stay, so an import after a rotation is still a
no-op. Values already under the new key are left as they are, so a rotation interrupted
before its commit just runs again. The pseudonym key is not rotated by this (it would
change every pseudonym and every model's frozen rater offsets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from psycopg2 import sql

from hris.contract import RAW_SCHEMA, RAW_TABLES
from hris.data_crypto import (
    KEY_ENV,
    OLD_KEY_ENV,
    DataCipher,
    create_secret_file,
    key_file,
    new_key_hex,
    parse_key,
)
from hris.pg_copy import copy_text_frame
from hris.raw_protect import personal_columns
from hris.transaction import one_transaction

_TMP = "_hireloop_rekeyed"


@dataclass
class RotationReport:
    old_key_id: str
    new_key_id: str
    rows: dict[str, int] = field(default_factory=dict)  # rows per raw table
    values: int = 0  # values re-encrypted

    def __str__(self) -> str:
        tables = ", ".join(f"raw.{t}: {n:,} rows" for t, n in self.rows.items())
        return (f"data key {self.old_key_id} -> {self.new_key_id}: {self.values:,} values "
                f"re-encrypted ({tables or 'no raw tables'})")


def rotate_data_key(conn, old_key: bytes, new_key: bytes) -> RotationReport:
    """Re-encrypt every personal value under `new_key`; commits (or rolls back on error).

    Values may be under either key; one under any other key raises DataKeyError and
    nothing changes."""
    cipher = DataCipher(new_key, [old_key])
    report = RotationReport(DataCipher(old_key).current_id, cipher.current_id)
    with one_transaction(conn), conn.cursor() as cur:
        for table in RAW_TABLES.values():
            columns = personal_columns(table)
            if not columns:
                continue
            for name in (table.name, f"{table.name}__replaced"):
                cur.execute("SELECT to_regclass(%s)", [f"{RAW_SCHEMA}.{name}"])
                if cur.fetchone()[0] is None:
                    continue
                rows, values = _rotate_table(cur, name, columns, cipher)
                report.rows[name] = rows
                report.values += values
        conn.commit()
    return report


def _rotate_table(cur, name: str, columns: tuple[str, ...], cipher: DataCipher
                  ) -> tuple[int, int]:
    target = sql.Identifier(RAW_SCHEMA, name)
    # Loads wait until the rotation commits; readers are not blocked.
    cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(target))
    cur.execute(sql.SQL("SELECT ctid::text, {} FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), target))
    rows = cur.fetchall()
    changed, values = [], 0
    mine = f"v1:{cipher.current_id}:"
    for ctid, *old in rows:
        new = []
        for column, value in zip(columns, old, strict=True):
            if value is not None and value.strip(" ") and not value.startswith(mine):
                value = cipher.encrypt(column, cipher.decrypt(column, value))
                values += 1
            new.append(value)
        if new != old:
            changed.append((ctid, *new))
    if changed:
        cur.execute(sql.SQL("CREATE TEMP TABLE {} (_ctid text, {}) ON COMMIT DROP").format(
            sql.Identifier(_TMP),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)))
        copy_text_frame(cur, _TMP, pd.DataFrame(changed, columns=["_ctid", *columns]))
        cur.execute(sql.SQL("UPDATE {t} AS t SET {sets} FROM {tmp} AS n "
                            "WHERE t.ctid = n._ctid::tid").format(
            t=target, tmp=sql.Identifier(_TMP),
            sets=sql.SQL(", ").join(sql.SQL("{c} = n.{c}").format(c=sql.Identifier(c))
                                    for c in columns)))
        if cur.rowcount != len(changed):
            raise RuntimeError(f"raw.{name}: re-encrypted {cur.rowcount} rows, "
                               f"expected {len(changed)}")
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(_TMP)))
    return len(rows), values


@dataclass(frozen=True)
class RotationKeys:
    """Which keys a rotation uses, and where the new one goes (None: the environment)."""

    old: bytes
    new: bytes
    new_file: Path | None


def rotation_keys() -> RotationKeys:
    """From the environment: HIRELOOP_DATA_KEY_OLD (the current key) with HIRELOOP_DATA_KEY
    (the new one), the operator's keys; else the key file's key and a new random key,
    which `install_new_key` writes as the key file after the rotation commits."""
    if os.environ.get(KEY_ENV):
        if not os.environ.get(OLD_KEY_ENV):
            raise ValueError(f"{KEY_ENV} is set: set {OLD_KEY_ENV} to the key the data is "
                             f"under now and {KEY_ENV} to the new key")
        old = parse_key(os.environ[OLD_KEY_ENV], OLD_KEY_ENV)
        new = parse_key(os.environ[KEY_ENV], KEY_ENV)
        if old == new:
            raise ValueError(f"{OLD_KEY_ENV} and {KEY_ENV} are the same key")
        return RotationKeys(old, new, None)
    path = key_file()
    if os.environ.get(OLD_KEY_ENV):
        old = parse_key(os.environ[OLD_KEY_ENV], OLD_KEY_ENV)
    elif path.exists():
        old = parse_key(path.read_text(), str(path))
    else:
        raise ValueError(f"no data key to rotate: {KEY_ENV} is unset and {path} is missing")
    pending = path.with_name(path.name + ".new")
    if not pending.exists():  # kept across a failed run: the same new key the next time
        create_secret_file(pending, new_key_hex())
    return RotationKeys(old, parse_key(pending.read_text(), str(pending)), pending)


def install_new_key(keys: RotationKeys) -> Path | None:
    """After the commit: data.key becomes data.key.old and data.key.new becomes data.key
    (both 0600). Returns the old key's file, for the operator to remove once a backup of
    the database under the new key exists."""
    if keys.new_file is None:
        return None
    path = key_file()
    old = path.with_name(path.name + ".old")
    if path.exists():
        os.replace(path, old)
    os.replace(keys.new_file, path)
    return old if old.exists() else None
