"""A throwaway database on the installation's server, and a schema copied into it.

`hireloop import --check` builds in one of these so that nothing it does can reach the
installation: the database is created under a fresh name and dropped whatever happens.
`copy_schema` copies one schema's tables (columns, defaults, constraints, indexes, the
sequences behind serial columns, and every row) between two databases of any server,
without pg_dump (whose version must match the server's) and without writing rows to disk:
they stream from one COPY into the other through a pipe.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql

from orchestration.runtime import PgEndpoint


@contextmanager
def scratch_database(endpoint: PgEndpoint, prefix: str = "hireloop_check") -> Iterator[str]:
    """Create an empty database `<prefix>_<random>`; drop it on exit, even after an error.

    Its comment names the creating process (host and pid); scratch databases left behind by
    a killed process of this host are dropped first, so a kill -9 leaves no lasting trace.
    """
    sweep_scratch_databases(endpoint, prefix)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        _admin(endpoint, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        raise RuntimeError(
            f"cannot create a scratch database on {endpoint.describe()} "
            f"({(exc.pgerror or str(exc)).strip().splitlines()[0]}): the check needs the "
            "right to create databases (CREATEDB) there") from None
    _admin(endpoint, sql.SQL("COMMENT ON DATABASE {} IS {}").format(
        sql.Identifier(name), sql.Literal(_owner_tag(os.getpid()))))
    try:
        yield name
    finally:
        # FORCE: a dbt or psycopg2 connection left behind by a failure must not keep it.
        _admin(endpoint, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _owner_tag(pid: int) -> str:
    return f"hireloop scratch database of {socket.gethostname()} pid {pid}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def sweep_scratch_databases(endpoint: PgEndpoint, prefix: str = "hireloop_check") -> list[str]:
    """Drop the `<prefix>_*` databases whose creating process (on this host) is gone and
    that nobody is connected to; returns their names."""
    conn = endpoint.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
                "WHERE d.datname LIKE %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
                [prefix.replace("_", r"\_") + r"\_%"])
            rows = cur.fetchall()
    finally:
        conn.close()
    host_tag = _owner_tag(0).rsplit(" ", 1)[0] + " "
    dropped = []
    for name, comment in rows:
        if not comment or not comment.startswith(host_tag):
            continue  # another host's (or not ours): leave it
        pid = comment[len(host_tag):]
        if pid.isdigit() and not _pid_alive(int(pid)):
            _admin(endpoint, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            dropped.append(name)
    return dropped


def _admin(endpoint: PgEndpoint, statement: sql.Composable) -> None:
    conn = endpoint.connect("postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def copy_schema(source, target, schema: str,
                with_rows: Callable[[str], bool] = lambda table: True) -> list[str]:
    """Copy every table of `schema` from connection `source` into `target` (which must not
    have them yet), with its rows where `with_rows(table)`; returns the tables copied.
    Commits `target`; only reads `source`. Tables only: functions and views of the schema
    are their owners' to create (e.g. hris.raw_store.ensure_raw_schema)."""
    with source.cursor() as src, target.cursor() as dst:
        dst.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        _copy_sequences(src, dst, schema)
        src.execute(
            "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname", [schema])
        tables = src.fetchall()
        for oid, table in tables:
            columns = _create_table(src, dst, oid, schema, table)
            if with_rows(table):
                _copy_rows(source, target, schema, table, columns)
        for oid, _table in tables:
            _copy_constraints_and_indexes(src, dst, oid)
    target.commit()
    return [t for _, t in tables]


def _copy_sequences(src, dst, schema: str) -> None:
    src.execute(
        "SELECT sequencename, data_type::text, start_value, min_value, max_value, "
        "increment_by, cycle, last_value FROM pg_sequences WHERE schemaname = %s", [schema])
    for name, dtype, start, lo, hi, step, cycle, last in src.fetchall():
        dst.execute(sql.SQL(
            "CREATE SEQUENCE {} AS {} INCREMENT {} MINVALUE {} MAXVALUE {} START {} {}").format(
            sql.Identifier(schema, name), sql.SQL(dtype), sql.Literal(step), sql.Literal(lo),
            sql.Literal(hi), sql.Literal(start), sql.SQL("CYCLE" if cycle else "NO CYCLE")))
        if last is not None:
            dst.execute("SELECT setval(%s, %s)", [f'"{schema}"."{name}"', last])


def _create_table(src, dst, oid: int, schema: str, table: str) -> list[str]:
    """Create the table in `dst` as it is in `src`; returns the columns rows are copied by
    (generated columns are computed again, not copied)."""
    src.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated "
        "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
        "AND d.adnum = a.attnum WHERE a.attrelid = %s AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum", [oid])
    definitions, copied = [], []
    for name, dtype, not_null, default, identity, generated in src.fetchall():
        parts = [sql.Identifier(name), sql.SQL(dtype)]
        if generated:
            parts.append(sql.SQL("GENERATED ALWAYS AS ({}) STORED").format(sql.SQL(default)))
        elif identity:
            parts.append(sql.SQL("GENERATED BY DEFAULT AS IDENTITY"))
        elif default is not None:
            parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(default)))
        if not_null:
            parts.append(sql.SQL("NOT NULL"))
        definitions.append(sql.SQL(" ").join(parts))
        if not generated:
            copied.append(name)
    dst.execute(sql.SQL("CREATE TABLE {} ({})").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(definitions)))
    return copied


def _copy_rows(source, target, schema: str, table: str, columns: list[str]) -> None:
    """COPY out of `source` into `target` through a pipe (rows never touch the disk)."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    out = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(
        cols, sql.Identifier(schema, table)).as_string(source)
    into = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table), cols).as_string(target)
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe, source.cursor() as cur:
                cur.copy_expert(out, pipe)
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as pipe, target.cursor() as cur:
            cur.copy_expert(into, pipe)
    finally:
        producer.join()
    if failure:
        raise failure[0]
    with target.cursor() as cur:  # identity columns continue after the copied ids
        cur.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attidentity <> ''",
            [f'"{schema}"."{table}"'])
        for (column,) in cur.fetchall():
            cur.execute(sql.SQL(
                "SELECT setval(pg_get_serial_sequence({t}, {c}), max({ci})) FROM {ti} "
                "HAVING max({ci}) IS NOT NULL").format(
                t=sql.Literal(f'"{schema}"."{table}"'), c=sql.Literal(column),
                ci=sql.Identifier(column), ti=sql.Identifier(schema, table)))


def _copy_constraints_and_indexes(src, dst, oid: int) -> None:
    """Primary keys, unique and check constraints, then the other indexes (after the rows:
    building an index once is faster than keeping it up to date row by row)."""
    src.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s AND contype IN ('p', 'u', 'c', 'x') ORDER BY contype, conname", [oid])
    for table, name, definition in src.fetchall():
        dst.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.SQL(table), sql.Identifier(name), sql.SQL(definition)))
    src.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s AND NOT "
        "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [oid])
    for (definition,) in src.fetchall():
        dst.execute(definition)
