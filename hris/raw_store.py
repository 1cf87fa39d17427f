"""The raw store: HR-system exports loaded, as text and with their history, into schema `raw`.

One table `raw.<table>` per contract table: every contract column is `text` (values as
exported; an empty value is stored as NULL, the same as an empty CSV cell), plus
`_dup_seq` (the occurrence number of the row's source key within one export, in file
order: duplicates are kept for staging to quarantine), `_record_hash` (md5 of the row's
contract values), `_source` and `_loaded_at`. Rows are identified by (key..., _dup_seq).
The personal columns (candidates, employees) hold AES-256-GCM ciphertext (hris.data_crypto)
and those tables carry what staging needs of them, derived at load, and a keyed row hash
of the plaintext instead of the md5 (hris.raw_protect).

Loading an export:
- a new row is inserted;
- a row whose values changed replaces its old version, and the old version is copied to
  `raw.<table>__replaced` with `_replaced_at` (the history staging snapshots);
- an unchanged row is left alone (same `_loaded_at`): re-importing an export is a no-op;
- a row absent from the export is kept: exports may be incremental, so absence is not
  deletion.

`load_raw` never commits: the caller owns the transaction, so one import is one
transaction and a failed import leaves nothing behind. Needs PostgreSQL 15 or later
(unique index NULLS NOT DISTINCT).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from psycopg2 import sql

from hris.contract import RAW_SCHEMA, RAW_TABLES, RawTable
from hris.data_crypto import DataCipher
from hris.pg_copy import copy_text_frame
from hris.profile import ensure_profile_tables
from hris.raw_protect import DERIVED, ensure_hash_key, personal_columns, protect, read_date_formats

_IN = "_hireloop_raw_in"
_STAGED = "_hireloop_raw_staged"
# The sort behind _dup_seq and the join with the existing rows run in memory at this size.
_WORK_MEM = "256MB"


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _cols(columns: tuple[str, ...] | list[str], prefix: str | None = None) -> sql.Composed:
    if prefix is None:
        return sql.SQL(", ").join(_ident(c) for c in columns)
    return sql.SQL(", ").join(_ident(prefix, c) for c in columns)


def _row_hash(columns: tuple[str, ...]) -> sql.Composed:
    """md5 of the row's text form: NULL and '' differ, separators are quoted, so it is exact."""
    return sql.SQL("md5(ROW({})::text)").format(_cols(columns))


def stored_columns(table: RawTable) -> tuple[str, ...]:
    """The contract columns and, for a table with personal columns, the derived ones."""
    return (*table.columns, *DERIVED) if personal_columns(table) else table.columns


def _key_index_ddl(table: RawTable) -> sql.Composed:
    """The row identity: NULLS NOT DISTINCT, so rows with a missing id are keyed too."""
    return sql.SQL(
        "CREATE UNIQUE INDEX IF NOT EXISTS {ix} ON {t} ({key}, _dup_seq) NULLS NOT DISTINCT"
    ).format(
        ix=_ident(f"{table.name}__key"), t=_ident(RAW_SCHEMA, table.name), key=_cols(table.key)
    )


def ensure_raw_schema(cursor) -> None:
    """Create schema `raw`, its tables, their key indexes and `__replaced` tables (idempotent)."""
    cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(RAW_SCHEMA)))
    ensure_profile_tables(cursor)
    ensure_hash_key(cursor)
    for table in RAW_TABLES.values():
        cursor.execute("SELECT to_regclass(%s)", [f"{RAW_SCHEMA}.{table.name}"])
        is_new = cursor.fetchone()[0] is None
        contract_cols = sql.SQL(", ").join(
            sql.SQL("{} text").format(_ident(c)) for c in stored_columns(table)
        )
        cursor.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ({cols}, _dup_seq integer NOT NULL, "
                "_record_hash text NOT NULL, _source text, "
                "_loaded_at timestamptz NOT NULL DEFAULT now())"
            ).format(t=_ident(RAW_SCHEMA, table.name), cols=contract_cols)
        )
        cursor.execute(_key_index_ddl(table))
        cursor.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ({cols}, _dup_seq integer NOT NULL, "
                "_record_hash text NOT NULL, _source text, _loaded_at timestamptz NOT NULL, "
                "_replaced_at timestamptz NOT NULL DEFAULT now())"
            ).format(t=_ident(RAW_SCHEMA, f"{table.name}__replaced"), cols=contract_cols)
        )
        cursor.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {ix} ON {t} ({key}, _dup_seq)").format(
                ix=_ident(f"{table.name}__replaced__key"),
                t=_ident(RAW_SCHEMA, f"{table.name}__replaced"),
                key=_cols(table.key),
            )
        )
        derived = stored_columns(table)[len(table.columns):]
        if derived and not is_new:  # a table made before them (ALTER locks: only if needed)
            for name in (table.name, f"{table.name}__replaced"):
                cursor.execute(
                    "SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = "
                    "%s::regclass AND attnum > 0 AND NOT attisdropped",
                    [f"{RAW_SCHEMA}.{name}"])
                have = set(cursor.fetchone()[0])
                for c in derived:
                    if c not in have:
                        cursor.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(
                            _ident(RAW_SCHEMA, name), _ident(c)))
        if is_new:
            cursor.execute(
                sql.SQL("COMMENT ON TABLE {} IS {}").format(
                    _ident(RAW_SCHEMA, table.name),
                    sql.Literal(
                        f"HR export table {table.name!r} as exported (text). Key: "
                        f"({', '.join(table.key)}, _dup_seq). Rows absent from a later export "
                        "are kept; replaced versions are in the __replaced table."
                    ),
                )
            )


@dataclass
class TableLoad:
    """What loading one table did."""

    table: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # rows whose key already occurred earlier in the same export


@dataclass
class LoadReport:
    """What `load_raw` did (or, inside a rolled-back transaction, would do), per table."""

    source: str
    tables: dict[str, TableLoad] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(t.updated for t in self.tables.values())

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.tables.values())

    def as_table(self) -> str:
        head = ("table", "read", "inserted", "updated", "unchanged", "duplicates")
        rows = [
            (t.table, t.rows_read, t.inserted, t.updated, t.unchanged, t.duplicates)
            for t in self.tables.values()
        ]
        rows.append(
            ("total", self.rows_read, self.inserted, self.updated, self.unchanged,
             sum(t.duplicates for t in self.tables.values()))
        )
        widths = [max(len(f"{r[i]:,}" if isinstance(r[i], int) else r[i]) for r in [head, *rows])
                  for i in range(len(head))]

        def fmt(row) -> str:
            cells = [
                f"{v:,}".rjust(w) if isinstance(v, int) else str(v).ljust(w)
                for v, w in zip(row, widths, strict=True)
            ]
            return "  ".join(cells)

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(head), rule, *map(fmt, rows[:-1]), rule, fmt(rows[-1])])

    def __str__(self) -> str:
        rate = self.rows_read / self.seconds if self.seconds > 0 else 0.0
        return (
            f"raw load from {self.source!r}: {self.rows_read:,} rows in {self.seconds:.1f} s "
            f"({rate:,.0f} rows/s)\n{self.as_table()}"
        )


def load_raw(
    conn,
    frames: Mapping[str, pd.DataFrame],
    source: str,
    progress: bool = False,
    *,
    cipher: DataCipher | None = None,
    date_formats: Mapping[tuple[str, str], str] | None = None,
) -> LoadReport:
    """Merge export frames (str/None values) into the raw tables; does NOT commit.

    Frames are keyed by contract table name; missing optional columns load as NULL and
    columns outside the contract are ignored. Raises ValueError for an unknown table or a
    missing required column (the importer refuses those earlier, with file names).
    Personal columns are encrypted with `cipher` (default: the installation's data key);
    birth dates are judged with `date_formats` ((table, column) -> to_date pattern;
    default: the import profile in force), as staging will judge them.
    """
    for name, frame in frames.items():
        if name not in RAW_TABLES:
            raise ValueError(f"unknown raw table {name!r}")
        missing = [c for c in RAW_TABLES[name].required if c not in frame.columns]
        if missing:
            raise ValueError(f"table {name!r} lacks required column(s) {missing}")

    started = time.perf_counter()
    report = LoadReport(source=source)
    ordered = [n for n in RAW_TABLES if n in frames]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(len(frames[n]) for n in ordered), unit="row", unit_scale=True)
    try:
        with conn.cursor() as cur:
            ensure_raw_schema(cur)
            cur.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(_WORK_MEM)))
            if any(personal_columns(RAW_TABLES[n]) for n in ordered):
                cipher = cipher or DataCipher.from_env()
                if date_formats is None:
                    date_formats = read_date_formats(cur)
            for name in ordered:
                if bar is not None:
                    bar.set_description(f"raw.{name}")
                report.tables[name] = load = _load_table(cur, RAW_TABLES[name], frames[name],
                                                         source, cipher, date_formats or {})
                if load.inserted or load.updated:
                    # Statistics now: dbt and the raw checks plan their joins right after
                    # the load, before autovacuum would get to it (and compete for the CPU).
                    cur.execute(sql.SQL("ANALYZE {}").format(_ident(RAW_SCHEMA, name)))
                if bar is not None:
                    bar.update(len(frames[name]))
    finally:
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _load_table(cur, table: RawTable, frame: pd.DataFrame, source: str,
                cipher: DataCipher | None, formats: Mapping[tuple[str, str], str]) -> TableLoad:
    target = _ident(RAW_SCHEMA, table.name)
    cols = stored_columns(table)
    hashed = cipher is not None and cols != table.columns
    # Imports of the same table serialise; readers are not blocked.
    cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(target))

    # 1. The export as it came, numbered: _dup_seq counts each key's occurrences in file
    # order (pandas does this faster than a window sort; '' and None are one key, NULL).
    # Keys are compared as staging reads them, spaces trimmed: " C1" repeats "C1" (both
    # would be pseudonym(C1) in staging), so the later one is a duplicate, not a 2nd key.
    key_text = pd.DataFrame({k: frame[k].fillna("").str.strip(" ") for k in table.key})
    dup_seq = key_text.groupby(list(table.key), sort=False).cumcount().to_numpy() + 1
    if hashed:
        frame = protect(cur, table, frame, cipher, formats)
    present = [c for c in (*cols, "_record_hash") if c in frame.columns]
    numbered = pd.DataFrame({**{c: frame[c] for c in present}, "_dup_seq": dup_seq.astype(str)})
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(_ident(_IN), _ident(_STAGED)))
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}, _record_hash text, _dup_seq integer) "
                "ON COMMIT DROP").format(
            _ident(_IN),
            sql.SQL(", ").join(sql.SQL("{} text").format(_ident(c)) for c in cols),
        )
    )
    copy_text_frame(cur, _IN, numbered)
    del numbered, key_text
    normalised = sql.SQL(
        "SELECT {cols}, _dup_seq, {hash} AS _record_hash "
        "FROM (SELECT {nullif}, _dup_seq, _record_hash FROM {inp}) n"
    ).format(
        cols=_cols(cols),
        hash=sql.SQL("_record_hash") if hashed else _row_hash(cols),
        nullif=sql.SQL(", ").join(
            sql.SQL("nullif({c}, '') AS {c}").format(c=_ident(c)) for c in cols
        ),
        inp=_ident(_IN),
    )

    cur.execute(
        sql.SQL(
            "SELECT NOT EXISTS (SELECT 1 FROM {t}), "
            "(SELECT xmin = pg_current_xact_id()::xid FROM pg_class WHERE oid = {name}::regclass)"
        ).format(t=target, name=sql.Literal(f"{RAW_SCHEMA}.{table.name}"))
    )
    empty, created_now = cur.fetchone()
    if empty:
        # First load of this table: everything is new, no join and no conflicts possible.
        # A table created in this transaction is invisible to everyone else, so its key
        # index can be built once after the insert instead of row by row (faster at scale).
        # An existing table keeps its index: dropping it would block readers until commit.
        if created_now:
            cur.execute(
                sql.SQL("DROP INDEX {}").format(_ident(RAW_SCHEMA, f"{table.name}__key"))
            )
        cur.execute(
            sql.SQL(
                "INSERT INTO {} ({}, _dup_seq, _record_hash, _source) SELECT n.*, {} FROM ({}) n"
            ).format(target, _cols(cols), sql.Literal(source), normalised)
        )
        rows = cur.rowcount
        if created_now:
            cur.execute(_key_index_ddl(table))
        cur.execute(sql.SQL("DROP TABLE {}").format(_ident(_IN)))
        return TableLoad(table.name, rows, rows, 0, 0, int((dup_seq > 1).sum()))

    # 2. Each row with its existing version (hash and ctid). The ctid is stable here: the
    # table lock keeps other writers out until the transaction ends.
    key_join = sql.SQL(" AND ").join(
        sql.SQL("r.{c} = s.{c}").format(c=_ident(c)) for c in (*table.key, "_dup_seq")
    )
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
            "SELECT s.*, r._record_hash AS _old_hash, r.ctid AS _old_ctid "
            "FROM ({normalised}) s LEFT JOIN {target} r ON {key_join}"
        ).format(
            staged=_ident(_STAGED), normalised=normalised, target=target, key_join=key_join
        )
    )
    cur.execute(sql.SQL("DROP TABLE {}").format(_ident(_IN)))

    any_null_key = sql.SQL(" OR ").join(
        sql.SQL("s.{} IS NULL").format(_ident(c)) for c in table.key
    )
    counts = _counts(cur, any_null_key)
    if counts[-1]:
        # Rows with a NULL key column: '=' never matches them, so match them null-safely.
        # Only these few rows take the slow path; the index treats NULLs as equal too.
        cur.execute(
            sql.SQL(
                "UPDATE {staged} s SET _old_hash = r._record_hash, _old_ctid = r.ctid "
                "FROM {target} r WHERE ({s_null}) AND ({r_null}) AND {match}"
            ).format(
                staged=_ident(_STAGED),
                target=target,
                s_null=any_null_key,
                r_null=sql.SQL(" OR ").join(
                    sql.SQL("r.{} IS NULL").format(_ident(c)) for c in table.key
                ),
                match=sql.SQL(" AND ").join(
                    sql.SQL("r.{c} IS NOT DISTINCT FROM s.{c}").format(c=_ident(c))
                    for c in (*table.key, "_dup_seq")
                ),
            )
        )
        counts = _counts(cur, any_null_key)
    rows_read, inserted, updated, unchanged, duplicates, _ = counts

    # 3. Old versions of changed rows go to the history table first.
    meta = ("_dup_seq", "_record_hash", "_source", "_loaded_at")
    if updated:
        cur.execute(
            sql.SQL(
                "INSERT INTO {hist} ({cols}) SELECT {cols} FROM {target} "
                "WHERE ctid = ANY (ARRAY(SELECT _old_ctid FROM {staged} "
                "WHERE _old_hash <> _record_hash))"
            ).format(
                hist=_ident(RAW_SCHEMA, f"{table.name}__replaced"),
                cols=_cols((*cols, *meta)),
                target=target,
                staged=_ident(_STAGED),
            )
        )

    # 4. New and changed rows; unchanged rows are not touched at all.
    if inserted or updated:
        cur.execute(
            sql.SQL(
                "INSERT INTO {target} AS t ({cols}, _dup_seq, _record_hash, _source) "
                "SELECT {cols}, _dup_seq, _record_hash, {source} FROM {staged} "
                "WHERE _old_hash IS DISTINCT FROM _record_hash "
                "ON CONFLICT ({key}, _dup_seq) DO UPDATE SET {sets}, "
                "_record_hash = EXCLUDED._record_hash, _source = EXCLUDED._source, "
                "_loaded_at = now() "
                "WHERE t._record_hash IS DISTINCT FROM EXCLUDED._record_hash"
            ).format(
                target=target,
                cols=_cols(cols),
                source=sql.Literal(source),
                staged=_ident(_STAGED),
                key=_cols(table.key),
                sets=sql.SQL(", ").join(
                    sql.SQL("{c} = EXCLUDED.{c}").format(c=_ident(c)) for c in cols
                ),
            )
        )
        if cur.rowcount != inserted + updated:
            raise RuntimeError(
                f"raw.{table.name}: wrote {cur.rowcount} rows, expected {inserted + updated}"
            )
    cur.execute(sql.SQL("DROP TABLE {}").format(_ident(_STAGED)))
    return TableLoad(table.name, rows_read, inserted, updated, unchanged, duplicates)


def _counts(cur, any_null_key: sql.Composable) -> tuple[int, int, int, int, int, int]:
    cur.execute(
        sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE _old_hash IS NULL), "
            "count(*) FILTER (WHERE _old_hash <> _record_hash), "
            "count(*) FILTER (WHERE _old_hash = _record_hash), "
            "count(*) FILTER (WHERE _dup_seq > 1), count(*) FILTER (WHERE {}) FROM {} s"
        ).format(any_null_key, _ident(_STAGED))
    )
    return tuple(int(v) for v in cur.fetchone())  # type: ignore[return-value]
