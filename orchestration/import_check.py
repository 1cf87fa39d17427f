"""`hireloop import --check`: what the build would quarantine, measured by the build itself.

The installation's raw schema (tables and bookkeeping: exports, profiles, value maps, date
formats; the `__replaced` history tables without their rows) is copied into a scratch
database on the same server, the export is imported there through the real import path
(hris.ingest.ingest_export: load rules, profile, registration with its as-of), and the
real dbt models run on it: the validated base models and the quarantine models, nothing
else. So the counts have the build's own semantics by construction (first rule broken,
parent_quarantined, orphans judged against what is loaded plus this export). The scratch
database is dropped whatever happens; the installation is only read.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from psycopg2 import sql

from hris.check_report import (
    CheckReport,
    DateShape,
    OffendingValue,
    QuarantineCount,
    VoidedCount,
)
from hris.contract import PERSONAL_COLUMNS, RAW_SCHEMA, RAW_TABLES
from hris.data_crypto import DataCipher
from hris.exports import required_as_of
from hris.ingest import ingest_export
from hris.profile import ImportProfile
from hris.pseudonym import install_pseudonym_key
from hris.raw_protect import install_hash_key, read_hash_key
from hris.raw_store import ensure_raw_schema
from monitoring.data_quality.rules import RuleSpec, load_rules
from orchestration.dbt import run_dbt_models
from orchestration.runtime import PgEndpoint
from orchestration.scratch_db import copy_schema, scratch_database

# What the quarantine depends on, and nothing more (no intermediate models, marts, tests).
CHECK_MODELS = ["path:models/staging/hris/base", "path:models/quarantine"]
QUARANTINE_SCHEMA = "quarantine"
FIELD_DEFECTS = "field_defects"  # voided descriptive fields, where the project voids any


def check_export(
    endpoint: PgEndpoint,
    database: str,
    directory: Path,
    key: bytes,
    as_of: dt.date | None,
    *,
    profile: ImportProfile | None = None,
    profile_source: str | None = None,
    correct_as_of: str | None = None,
    progress: bool = False,
) -> CheckReport:
    """Predict the build's quarantine for importing `directory` into `database`.

    `key` is the installation's pseudonym key (dbt needs one; the counts do not depend on
    it). `as_of`, `profile`, `profile_source` and `correct_as_of` are the import's own
    (hris.ingest.ingest_export). Raises hris.importer.ImportRefused for a structurally bad
    export, hris.exports.LoadRefused for one the load rules refuse, RuntimeError when dbt
    fails; `database` is never written to.
    """
    directory = Path(directory)
    rules = load_rules()
    with scratch_database(endpoint) as scratch:
        installation = endpoint.connect(database)
        work = endpoint.connect(scratch)
        try:
            # One snapshot of the installation for every table copied, and read only.
            installation.set_session(isolation_level="REPEATABLE READ", readonly=True)
            if _schema_exists(installation, RAW_SCHEMA):
                # Replaced versions are history: no model the check runs reads them.
                copy_schema(installation, work, RAW_SCHEMA,
                            with_rows=lambda table: not table.endswith("__replaced"))
            installation.rollback()
            with installation.cursor() as cur:  # the row hashes copied need their key
                hash_key = read_hash_key(cur)
            installation.rollback()
            with work.cursor() as cur:
                if hash_key is not None:
                    install_hash_key(cur, hash_key)
                ensure_raw_schema(cur)
                install_pseudonym_key(cur, key)
            work.commit()
            # The real import path: its admission rules (as-of, sandbox or real) refuse
            # here what they would refuse there, and it registers the export as it would.
            imported = ingest_export(work, directory, as_of, progress=progress,
                                     correct_as_of=correct_as_of, profile=profile,
                                     profile_source=profile_source)
            with work.cursor() as cur:
                in_force = required_as_of(cur)  # the as-of the build that follows reads
            work.commit()
            with tempfile.TemporaryDirectory(prefix="hireloop-check-dbt-") as target:
                run_dbt_models(endpoint.dbt_env(scratch), in_force.isoformat(), CHECK_MODELS,
                               target_path=target)
            raw_rows = _raw_rows(work)
            quarantine = quarantine_counts(work, imported.source)
            offending = _offending_values(work, rules)
            voided = field_defect_counts(work)
            date_shapes = _date_shapes(work, rules)
        finally:
            work.close()
            installation.close()
    return CheckReport(
        source=imported.source, as_of=in_force, load=imported.load.as_table(),
        raw_rows=raw_rows,
        quarantine=quarantine, offending=offending,
        allowed={(t, c): v for t, r in rules.tables.items() for c, v in r.vocab.items()},
        personal={t: r.personal for t, r in rules.tables.items()},
        reason_order=rules.reject_reasons, warnings=list(imported.warnings), voided=voided,
        date_shapes=date_shapes)


def _schema_exists(conn, schema: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        return cur.fetchone() is not None


def _quarantine(table: str) -> sql.Identifier:
    return sql.Identifier(QUARANTINE_SCHEMA, f"quarantine_{table}")


def _raw_rows(conn) -> dict[str, int]:
    counts = {}
    with conn.cursor() as cur:
        for table in RAW_TABLES:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(RAW_SCHEMA, table)))
            counts[table] = int(cur.fetchone()[0])
    return counts


def quarantine_counts(conn, source: str | None = None) -> list[QuarantineCount]:
    """Rows per table and reason in the built quarantine models (also what a test compares
    a real build with); `from_export` counts the rows whose raw version came from `source`."""
    counts = []
    with conn.cursor() as cur:
        for table in RAW_TABLES:
            cur.execute(sql.SQL(
                "SELECT reject_reason, count(*), count(*) FILTER (WHERE _source = %s) "
                "FROM {} GROUP BY 1 ORDER BY 1").format(_quarantine(table)), [source])
            counts += [QuarantineCount(table, reason, int(n), int(new))
                       for reason, n, new in cur.fetchall()]
    return counts



def _field_defects_built(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [f"{QUARANTINE_SCHEMA}.{FIELD_DEFECTS}"])
        return cur.fetchone()[0] is not None


def field_defect_counts(conn) -> list[VoidedCount]:
    """Voided fields per table, column and reason in the built quarantine.field_defects
    (none where the project voids no field)."""
    if not _field_defects_built(conn):
        return []
    with conn.cursor() as cur:
        cur.execute(sql.SQL(
            "SELECT table_name, column_name, reason, count(*), count(*) FILTER "
            "(WHERE row_staged) FROM {} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").format(
            sql.Identifier(QUARANTINE_SCHEMA, FIELD_DEFECTS)))
        return [VoidedCount(t, c, r, int(n), int(staged)) for t, c, r, n, staged in
                cur.fetchall()]


def _offending_values(conn, rules: RuleSpec) -> list[OffendingValue]:
    """Values of vocabulary columns that are not allowed, with row counts: those that
    quarantine rows (invalid_value) and those that void a descriptive field.

    Read from what the build wrote (the trimmed value as exported), so they are exactly the
    build's; personal columns come redacted from staging anyway."""
    counts: dict[tuple[str, str, str], int] = {}
    with conn.cursor() as cur:
        for table, spec in rules.tables.items():
            if not spec.vocab:
                continue
            cur.execute(sql.SQL(
                "SELECT reject_column, reject_value, count(*) FROM {} "
                "WHERE reject_reason = 'invalid_value' GROUP BY 1, 2").format(
                _quarantine(table)))
            for column, value, n in cur.fetchall():
                counts[(table, column, value)] = counts.get((table, column, value), 0) + n
        if _field_defects_built(conn):
            cur.execute(sql.SQL(
                "SELECT table_name, column_name, value, count(*) FROM {} "
                "WHERE reason = 'invalid_value' GROUP BY 1, 2, 3").format(
                sql.Identifier(QUARANTINE_SCHEMA, FIELD_DEFECTS)))
            for table, column, value, n in cur.fetchall():
                counts[(table, column, value)] = counts.get((table, column, value), 0) + n
    return [OffendingValue(t, c, v, int(n)) for (t, c, v), n in counts.items()
            if v is not None]


def _date_shapes(conn, rules: RuleSpec) -> list[DateShape]:
    """Per date column without a date format in force, how its values look with digits
    masked (only shapes and digit-group maxima leave the database: birth dates are
    personal). The input of the profile snippet's `dates:` suggestion."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw._date_formats') IS NOT NULL")
        dated: set[tuple[str, str]] = set()
        if cur.fetchone()[0]:
            cur.execute("SELECT table_name, column_name FROM raw._date_formats")
            dated = {(t, c) for t, c in cur.fetchall()}
        shapes, cipher = [], None
        for table, spec in rules.tables.items():
            for column in (c for c, kind in spec.types.items() if kind == "date"):
                if (table, column) in dated:
                    continue
                source, args = sql.SQL("SELECT nullif(trim({c}), '') AS v FROM {t}").format(
                    c=sql.Identifier(column), t=sql.Identifier(RAW_SCHEMA, table)), None
                if column in PERSONAL_COLUMNS:  # ciphertext: shaped from the clear values
                    cur.execute(sql.SQL("SELECT {c} FROM {t}").format(
                        c=sql.Identifier(column), t=sql.Identifier(RAW_SCHEMA, table)))
                    cipher = cipher or DataCipher.from_env(create=False)
                    args = [[cipher.decrypt_text(column, v) for (v,) in cur.fetchall()]]
                    source = sql.SQL("SELECT nullif(trim(x), '') AS v "
                                     "FROM unnest(%s::text[]) AS u(x)")
                cur.execute(sql.SQL(
                    "SELECT shape, count(*), max(g[1]::int), max(g[2]::int), max(g[3]::int) "
                    "FROM (SELECT translate(v, '0123456789', '9999999999') AS shape, "
                    r"regexp_match(v, '^(\d{{1,4}})\D+(\d{{1,4}})\D+(\d{{1,4}})') AS g "
                    "FROM ({source}) r "
                    "WHERE v IS NOT NULL) s GROUP BY shape").format(source=source), args)
                shapes += [DateShape(table, column, shape, int(n), (a, b, c))
                           for shape, n, a, b, c in cur.fetchall()]
    return shapes
