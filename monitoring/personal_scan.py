"""Is any raw personal value anywhere it must not be? A content scan, not a column-name check.

The needles are the raw tables' own names, national ids, emails and phones (hris.
personal_values.PersonalNeedles: exact, normalised), plus the email and phone shapes of
`looks_personal` for text columns. Searched: every non-raw schema of the store (tables and
materialised views; plain views only re-read those tables), every table of the MLflow and
Dagster databases (params, tags, run and event bodies), and every file under the folders
given (MLflow artifacts, Evidently snapshots, HTML reports, the inference log). A hit says
where and what kind, with the value masked: the scan never prints what it looks for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hris.contract import RAW_TABLES
from hris.data_crypto import DataCipher
from hris.personal_values import PersonalNeedles, looks_personal, mask
from hris.raw_plain import decrypt_columns

RAW_SCHEMA = "raw"
# Never scanned: the raw tables themselves, PostgreSQL's catalogs, and `private` (the
# pseudonym key's pads, bytes only).
SKIPPED_SCHEMAS = (RAW_SCHEMA, "private", "pg_catalog", "information_schema", "pg_toast")
_TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
_NUMBER_TYPES = ("numeric", "bigint", "integer", "double precision", "real")
# Pattern checks apply where a value is free text; an id-like code (a pseudonym, a run id)
# is expected there, so only the email and phone shapes are flagged by pattern.
_EMAIL_SHAPE = re.compile(r"[^\s@<>()\[\],;:\"'/=]+@[^\s@<>()\[\],;:\"'/=]+\.[A-Za-z]{2,}")
_PHONE_SHAPE = re.compile(r"(?<![\w.\-])\+\d{1,3}[ \-]\d[\d \-]{6,}\d(?![\w.])")
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """One personal value found: where, what kind, its shape (never the value)."""

    location: str  # e.g. "hireloop:staging.stg_hris__candidates.education" or a file path
    kind: str  # full_name | national_id | email | phone | email-shape | phone-shape
    masked: str


@dataclass
class ScanResult:
    hits: list[Hit] = field(default_factory=list)
    columns: int = 0  # database columns scanned
    files: int = 0  # files scanned
    needles: int = 0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.hits


def read_needles(conn, cipher: DataCipher | None = None) -> PersonalNeedles:
    """The personal values of raw.candidates and raw.employees (psycopg2 conn), decrypted
    with `cipher` (default: the installation's data key; a wrong key raises DataKeyError)."""
    kinds = ("full_name", "national_id", "email", "phone")
    values: dict[str, list] = {k: [] for k in kinds}
    with conn.cursor() as cur:
        for table in ("candidates", "employees"):
            cur.execute(f"SELECT to_regclass('{RAW_SCHEMA}.{table}') IS NOT NULL")
            if not cur.fetchone()[0]:
                continue
            cur.execute(f"SELECT {', '.join(kinds)} FROM {RAW_SCHEMA}.{table}")
            rows = cur.fetchall()
            if rows:
                cipher = cipher or DataCipher.from_env(create=False)
                rows = decrypt_columns(RAW_TABLES[table], list(kinds), rows, cipher)
            for row in rows:
                for kind, value in zip(kinds, row, strict=True):
                    values[kind].append(value)
    return PersonalNeedles(values)


def find_in_text(text: str, needles: PersonalNeedles, shapes: bool = True
                 ) -> list[tuple[str, str]]:
    """(kind, value found) in `text`: the needles, and with `shapes` the email and phone
    shapes that looks_personal also flags (a shape already matched as a needle is one hit)."""
    hits = needles.find(text)
    if shapes:
        found = {v for _, v in hits}
        for kind, pattern in (("email-shape", _EMAIL_SHAPE), ("phone-shape", _PHONE_SHAPE)):
            for m in pattern.finditer(text):
                if m.group(0) not in found and looks_personal(m.group(0)):
                    hits.append((kind, m.group(0)))
    return hits


def _columns(conn, skipped: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(schema, table, column, data_type) of every scannable column, tables and matviews."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, NULL)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm', 'p') AND a.attnum > 0 AND NOT a.attisdropped
              AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%'
              AND n.nspname NOT LIKE 'pg_toast%%'
            ORDER BY 1, 2, a.attnum""", (list(skipped),))
        return [r for r in cur.fetchall() if r[3] in _TEXT_TYPES + _NUMBER_TYPES]


def scan_database(conn, label: str, needles: PersonalNeedles,
                  skipped: Iterable[str] = SKIPPED_SCHEMAS) -> tuple[list[Hit], int]:
    """Every distinct value of every text or number column outside `skipped`."""
    hits: list[Hit] = []
    columns = _columns(conn, skipped)
    with conn.cursor() as cur:
        for schema, table, column, dtype in columns:
            text_column = dtype in _TEXT_TYPES
            cur.execute(f'SELECT DISTINCT "{column}"::text FROM "{schema}"."{table}" '
                        f'WHERE "{column}" IS NOT NULL')
            where = f"{label}:{schema}.{table}.{column}"
            for (value,) in cur:
                for kind, found in find_in_text(value, needles, shapes=text_column):
                    hits.append(Hit(where, kind, mask(found)))
    conn.rollback()
    return hits, len(columns)


def scan_files(roots: Iterable[Path], needles: PersonalNeedles) -> tuple[list[Hit], int]:
    """Every file under `roots` (text or not: a pickle or a parquet holds its strings as
    bytes), read as UTF-8 with undecodable bytes dropped."""
    hits: list[Hit] = []
    n = 0
    for root in roots:
        root = Path(root)
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if path.stat().st_size > MAX_FILE_BYTES:
                hits.append(Hit(str(path), "unscanned (too large)", ""))
                continue
            n += 1
            text = path.read_bytes().decode("utf-8", errors="ignore")
            # shipped third-party assets (Data Docs' vendored licences hold their authors'
            # emails): the exact needles still apply there, the shapes do not
            shapes = "vendor" not in path.parts and path.suffix.lower() in {
                ".html", ".json", ".jsonl", ".txt", ".yaml", ".yml", ".csv", ".md", ".log"}
            hits += [Hit(str(path), kind, mask(found))
                     for kind, found in find_in_text(text, needles, shapes=shapes)]
    return hits, n


def scan_personal_data(connect: Callable[[str], object], store: str = "hireloop",
                       other_databases: Iterable[str] = ("mlflow", "dagster"),
                       folders: Iterable[Path] = (),
                       cipher: DataCipher | None = None) -> ScanResult:
    """Scan the store's non-raw schemas, `other_databases` whole and `folders` for the raw
    personal values of `store` (connect(database) -> psycopg2 connection). Folders that do
    not exist are skipped (nothing there yet)."""
    started = time.perf_counter()
    result = ScanResult()
    conn = connect(store)
    try:
        needles = read_needles(conn, cipher)
        result.needles = len(needles)
        hits, n = scan_database(conn, store, needles)
        result.hits += hits
        result.columns += n
    finally:
        conn.close()
    for database in other_databases:
        if database == store:
            continue
        conn = connect(database)
        try:
            hits, n = scan_database(conn, database, needles, skipped=SKIPPED_SCHEMAS[1:])
            result.hits += hits
            result.columns += n
        finally:
            conn.close()
    hits, n = scan_files([Path(f) for f in folders if Path(f).exists()], needles)
    result.hits += hits
    result.files = n
    result.seconds = time.perf_counter() - started
    return result


def format_scan(result: ScanResult, limit: int = 50) -> str:
    """Hits grouped by location (masked values), or the all-clear with what was scanned."""
    scanned = (f"{result.columns} columns and {result.files} files scanned for "
               f"{result.needles} personal values of raw in {result.seconds:.1f} s")
    if result.clean:
        return f"No personal data outside raw: {scanned}."
    by_place: dict[tuple[str, str], list[str]] = {}
    for h in result.hits:
        by_place.setdefault((h.location, h.kind), []).append(h.masked)
    lines = [f"PERSONAL DATA FOUND outside raw: {len(result.hits)} hits in "
             f"{len({h.location for h in result.hits})} places ({scanned})"]
    for (where, kind), masked in list(by_place.items())[:limit]:
        lines.append(f"  {where}  {kind} x{len(masked)}  e.g. {masked[0]}")
    if len(by_place) > limit:
        lines.append(f"  ... and {len(by_place) - limit} more places")
    return "\n".join(lines)
