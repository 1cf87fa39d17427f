"""What a raw table with personal columns stores instead of them: ciphertext, plus what
validation, modelling and audit need, derived at load in the clear (DESIGN.md).

Derived per row (text columns, NULL when the input is missing):
- `_birth_date_check`: NULL (no birth date, or a valid one), 'unparseable_value' or
  'out_of_range' (not before the reference date): the quarantine rules of birth_date;
- `_age_band` and `_age_40_plus` at the reference date (application date of a candidate,
  hire date of an employee): the bands cannot give 40+ (35-44 straddles it);
- `_full_name_key`: a keyed hash of the name's words in order, so staging can tell an
  export value that is a raw full name (macro is_raw_full_name) without the names;
- `_record_hash`: HMAC-SHA256 of the plaintext row (the same text form as the md5 of the
  tables without personal columns), so a re-import stays a no-op although the random GCM
  nonce makes every ciphertext new.

The parses and the hashes run in SQL over query parameters (nothing is stored in the
clear): the same expressions staging uses (macros safe_date, age_band, name_words, the
import profile's strict date parse), so a value is judged at load exactly as staging
would judge it. The hash key is random, made once per database in private.raw_hash_key
(HMAC pads, as hris.pseudonym keeps its key) and independent of the data key: a key
rotation leaves every row hash as it is.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import pandas as pd
from psycopg2 import sql

from hris.contract import PERSONAL_COLUMNS, RAW_SCHEMA, RAW_TABLES, RawTable
from hris.data_crypto import DataCipher
from hris.pseudonym import KEY_SCHEMA, hmac_pads

DERIVED = ("_birth_date_check", "_age_band", "_age_40_plus", "_full_name_key")
HASH_KEY_TABLE = f"{KEY_SCHEMA}.raw_hash_key"
# The date a birth date is checked against and an age is taken at (raw_rules order rules).
AGE_AT = {"candidates": "application_date", "employees": "hire_date"}


def personal_columns(table: RawTable) -> tuple[str, ...]:
    return tuple(c for c in table.columns if c in PERSONAL_COLUMNS)


def ensure_hash_key(cur) -> None:
    """private.raw_hash_key: one row of HMAC pads of a random key, made once (idempotent;
    once made, only read: no lock a concurrent reader would wait on)."""
    cur.execute(f"SELECT to_regclass('{HASH_KEY_TABLE}') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute(f"SELECT count(*) = 1 FROM {HASH_KEY_TABLE}")
        if cur.fetchone()[0]:
            return
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {KEY_SCHEMA}")
    cur.execute(f"REVOKE ALL ON SCHEMA {KEY_SCHEMA} FROM PUBLIC")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {HASH_KEY_TABLE} "
                "(ipad bytea NOT NULL, opad bytea NOT NULL)")
    cur.execute(f"REVOKE ALL ON {HASH_KEY_TABLE} FROM PUBLIC")
    cur.execute(f"LOCK TABLE {HASH_KEY_TABLE} IN SHARE ROW EXCLUSIVE MODE")
    cur.execute(f"SELECT count(*) FROM {HASH_KEY_TABLE}")
    if cur.fetchone()[0] == 0:
        ipad, opad = hmac_pads(secrets.token_bytes(32))
        cur.execute(f"INSERT INTO {HASH_KEY_TABLE} VALUES (%s, %s)", (ipad, opad))


def read_hash_key(cur) -> tuple[bytes, bytes] | None:
    """The (ipad, opad) of private.raw_hash_key, None when there is none yet."""
    cur.execute(f"SELECT to_regclass('{HASH_KEY_TABLE}') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute(f"SELECT ipad, opad FROM {HASH_KEY_TABLE}")
    row = cur.fetchone()
    return None if row is None else (bytes(row[0]), bytes(row[1]))


def install_hash_key(cur, pads: tuple[bytes, bytes]) -> None:
    """Make `pads` this database's row-hash key (a copy of another database's raw rows,
    e.g. the import check's scratch database, needs the key they were hashed with)."""
    ensure_hash_key(cur)
    cur.execute(f"DELETE FROM {HASH_KEY_TABLE}")
    cur.execute(f"INSERT INTO {HASH_KEY_TABLE} VALUES (%s, %s)", pads)


def keyed_hash_sql(expr: str) -> str:
    """HMAC-SHA256 (hex) of the text `expr` in core SQL (macro keyed_hash is the same)."""
    return (f"encode(sha256((SELECT opad FROM {HASH_KEY_TABLE}) || sha256((SELECT ipad FROM "
            f"{HASH_KEY_TABLE}) || convert_to({expr}, 'UTF8'))), 'hex')")


def _clean(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _parse_date(expr: str, fmt: str | None) -> str:
    """macros/safe_casts.sql safe_date, or the profile's strict parse with `fmt`."""
    if fmt is not None:
        quoted = "'" + fmt.replace("'", "''") + "'"
        return f"raw._to_date_strict({expr}, {quoted})"
    return (f"case when translate(left({expr}, 10), '0123456789', '0000000000') = '0000-00-00'"
            f" and (length({expr}) = 10 or substr({expr}, 11, 1) in ('T', ' '))"
            f" and pg_input_is_valid(left({expr}, 10), 'date') then left({expr}, 10)::date end")


def _years(at: str, born: str) -> str:
    return f"extract(year from age({at}, {born}))"


def _derive_sql(table: RawTable, formats: Mapping[tuple[str, str], str]) -> str:
    """One row per input row (in order): the row hash and the derived columns. The input
    is one text[] parameter per contract column."""
    cols = table.columns
    at = AGE_AT[table.name]
    born = _parse_date("c.b_text", formats.get((table.name, "birth_date")))
    ref = _parse_date("c.r_text", formats.get((table.name, at)))
    years = _years("p.ref", "p.born")
    nullif = ", ".join(f"nullif({c}, '')" for c in cols)
    words = ("(SELECT string_agg(_w, ' ' ORDER BY _w COLLATE \"C\") FROM "
             "regexp_split_to_table(lower(p.fn), '\\W+') AS _w WHERE _w <> '')")
    return (
        f"SELECT {keyed_hash_sql('p._row')}, "
        "CASE WHEN p.b_text IS NULL THEN NULL WHEN p.born IS NULL THEN 'unparseable_value' "
        "WHEN p.born >= p.ref THEN 'out_of_range' END, "
        f"CASE WHEN p.born IS NULL OR p.ref IS NULL THEN NULL WHEN {years} < 25 THEN '<25' "
        f"WHEN {years} < 35 THEN '25-34' WHEN {years} < 45 THEN '35-44' "
        f"WHEN {years} < 55 THEN '45-54' ELSE '55+' END, "
        f"CASE WHEN p.born IS NULL OR p.ref IS NULL THEN NULL ELSE ({years} >= 40)::text END, "
        f"CASE WHEN p.fn IS NOT NULL THEN {keyed_hash_sql(words)} END "
        f"FROM (SELECT c._i, c._row, c.b_text, c.fn, {born} AS born, {ref} AS ref FROM ("
        f"SELECT _i, ROW({nullif})::text AS _row, "
        f"{_clean('birth_date')} AS b_text, {_clean(at)} AS r_text, "
        f"{_clean('full_name')} AS fn "
        f"FROM unnest({', '.join('%s::text[]' for _ in cols)}) WITH ORDINALITY "
        f"AS u({', '.join(cols)}, _i)) c OFFSET 0) p ORDER BY p._i"
    )


def read_date_formats(cur) -> dict[tuple[str, str], str]:
    """The date formats of the import profile in force (raw._date_formats)."""
    cur.execute("SELECT table_name, column_name, format FROM raw._date_formats")
    return {(t, c): f for t, c, f in cur.fetchall()}


def protect(cur, table: RawTable, frame: pd.DataFrame, cipher: DataCipher,
            formats: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """`frame` (contract columns, str/None) as stored: derived columns and `_record_hash`
    added, personal columns encrypted. Needs ensure_hash_key and the raw schema."""
    values = [frame[c].astype(object).where(frame[c].notna(), None).tolist()
              if c in frame.columns else [None] * len(frame) for c in table.columns]
    cur.execute(_derive_sql(table, formats), values)
    derived = cur.fetchall()
    out = {c: v for c, v in zip(table.columns, values, strict=True)}
    for column in personal_columns(table):
        out[column] = [cipher.encrypt_text(column, v) for v in out[column]]
    names = ("_record_hash", *DERIVED)
    for i, name in enumerate(names):
        out[name] = [row[i] for row in derived]
    return pd.DataFrame(out, index=frame.index)


def age_formats(formats: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """The formats the derived columns depend on: the birth and reference dates'."""
    wanted = {(t, c) for t, at in AGE_AT.items() for c in ("birth_date", at)}
    return {k: v for k, v in formats.items() if k in wanted}


def rederive(cur, formats: Mapping[tuple[str, str], str], cipher: DataCipher | None = None
             ) -> int:
    """Judge every stored birth date again with `formats` (a new profile's): the derived
    columns of raw.candidates and raw.employees recomputed from the decrypted values; row
    hashes and load times untouched. Returns the rows whose derived columns changed."""
    changed = 0
    for name in AGE_AT:
        table = RAW_TABLES[name]
        cur.execute("SELECT to_regclass(%s)", [f"{RAW_SCHEMA}.{name}"])
        if cur.fetchone()[0] is None:
            continue
        target = sql.Identifier(RAW_SCHEMA, name)
        cols = [*table.columns, *DERIVED]
        cur.execute(sql.SQL("SELECT ctid::text, {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), target))
        rows = cur.fetchall()
        if not rows:
            continue
        cipher = cipher or DataCipher.from_env(create=False)
        frame = pd.DataFrame([r[1:len(table.columns) + 1] for r in rows],
                             columns=list(table.columns), dtype=object)
        for column in personal_columns(table):
            frame[column] = [cipher.decrypt_text(column, v) for v in frame[column]]
        cur.execute(_derive_sql(table, formats),
                    [frame[c].where(frame[c].notna(), None).tolist() for c in table.columns])
        new = [r[1:] for r in cur.fetchall()]
        updates = [(row[0], *d) for row, d in zip(rows, new, strict=True)
                   if tuple(row[len(table.columns) + 1:]) != tuple(d)]
        for ctid, *values in updates:
            cur.execute(sql.SQL("UPDATE {} SET {} WHERE ctid = %s::tid").format(
                target, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c))
                                           for c in DERIVED)), [*values, ctid])
        changed += len(updates)
    return changed
