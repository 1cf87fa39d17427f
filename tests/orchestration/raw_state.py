"""What a check must leave untouched in `raw`: no HR table, no load recorded. The set-up of an
installation (orchestration.pg_roles) makes the raw schema and an empty load register, so
their existence says nothing about a load."""

from __future__ import annotations

from orchestration.pg_roles import REGISTER_TABLE


def hr_tables_and_loads(cur) -> int:
    """Tables in `raw` other than the load register, plus the loads it records."""
    schema, table = REGISTER_TABLE.split(".")
    cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename <> %s",
                (schema, table))
    tables = int(cur.fetchone()[0])
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (REGISTER_TABLE,))
    if not cur.fetchone()[0]:
        return tables
    cur.execute(f"SELECT count(*) FROM {REGISTER_TABLE}")
    return tables + int(cur.fetchone()[0])
