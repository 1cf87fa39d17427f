"""The safe casts that decide `unparseable_value`: dbt's macros (staging quarantine) and
monitoring.data_quality.sql (GX raw suites) are the same SQL, and they read exactly the
values the raw contract allows, on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import jinja2
import pytest

from monitoring.data_quality import sql
from orchestration.dbt import DBT_PROJECT_DIR


def _same(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", ["safe_date", "safe_number", "safe_bool"])
def test_dbt_macro_and_gx_sql_are_the_same_expression(name):
    source = (DBT_PROJECT_DIR / "macros" / "safe_casts.sql").read_text()
    macros = jinja2.Environment().from_string(source).module
    assert _same(str(getattr(macros, name)("b.x"))) == _same(getattr(sql, name)("b.x"))


DATES = {
    "2020-02-29": dt.date(2020, 2, 29), "1999-12-31T10:00:00": dt.date(1999, 12, 31),
    "2024-06-01 08:30": dt.date(2024, 6, 1), "0001-01-01": dt.date(1, 1, 1),
    "2021-02-29": None, "2020-04-31": None, "2020-13-01": None, "2020-00-10": None,
    "2020-01-00": None, "0000-01-01": None, "2020-1-01": None, "20-01-01": None,
    "12020-01-01": None, "+2020-01-01": None, "2020-01-01x": None, "01/02/2020": None,
    "today": None, "epoch": None, "2020-01-01T": dt.date(2020, 1, 1),
}
NUMBERS = {
    "7": 7.0, "-2.5": -2.5, "+3": 3.0, ".5": 0.5, "5.": 5.0, "1e3": 1000.0, "2.5E-1": 0.25,
    "007": 7.0, "NaN": None, "nan": None, "inf": None, "Infinity": None, "-infinity": None,
    "1e400": None, "1,5": None, "1 000": None, "\t1": None, "0x10": None, "n/a": None,
    ".": None, "e5": None, "1e": None, "--1": None, "1.2.3": None, "ten": None,
}


@pytest.mark.parametrize(("parse", "cases"), [(sql.safe_date, DATES),
                                             (sql.safe_number, NUMBERS)])
def test_safe_casts_read_what_the_contract_allows_and_null_the_rest(pg_server, parse, cases):
    conn = pg_server.endpoint.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(f"select v, {parse('v')} from unnest(%s::text[]) as t(v)",
                        [list(cases)])
            got = dict(cur.fetchall())
    finally:
        conn.close()
    assert got == cases
