"""The import profile's rules where staging reads: value mappings and date formats.

`raw._value_map` and `raw._date_formats` (hris.profile) hold the profile in force. Staging
(dbt, macros/hris_validation.sql) and the Great Expectations raw suites apply them alike:

- a vocabulary or boolean column reads the contract value the map gives its
  `lower(trim(text))`, else `lower(trim(text))`;
- a date column with a format parses strictly with it (`raw._to_date_strict`: `to_date`,
  then `to_char` must give the text back, so `2024/02/31` or `2024/2/3` for `YYYY/MM/DD` do
  not parse), else as ISO.

Both read which columns have a mapping or a format when they build their SQL (each `dbt
build`, each validation), then join the tables at run time: a corrected mapping releases
rows on the next build, with no re-import, and columns without one cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Strict parse with a PostgreSQL to_date pattern; NULL (never an error) for text that does
# not round-trip. to_date raises on bad input, so the parse is caught (a plpgsql exception
# block per call: only columns with a format pay for it).
DATE_PARSER_DDL = """
CREATE OR REPLACE FUNCTION raw._to_date_strict(value text, format text) RETURNS date
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    parsed date;
BEGIN
    IF value IS NULL OR format IS NULL THEN
        RETURN NULL;
    END IF;
    parsed := to_date(value, format);
    IF to_char(parsed, format) = value THEN
        RETURN parsed;
    END IF;
    RETURN NULL;
EXCEPTION WHEN data_exception OR syntax_error THEN
    RETURN NULL;
END
$fn$;
"""


def ensure_date_parser(cursor) -> None:
    """Create (or replace) `raw._to_date_strict` (idempotent; schema raw must exist)."""
    cursor.execute(DATE_PARSER_DDL)


@dataclass(frozen=True)
class ImportRules:
    """Which columns the profile in force maps or dates: table -> columns."""

    mapped: dict[str, frozenset[str]] = field(default_factory=dict)
    dated: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_mapped(self, table: str, column: str) -> bool:
        return column in self.mapped.get(table, frozenset())

    def is_dated(self, table: str, column: str) -> bool:
        return column in self.dated.get(table, frozenset())


NO_IMPORT_RULES = ImportRules()


def read_import_rules(cursor) -> ImportRules:
    """The columns with a value mapping or a date format in force (none when the tables are
    missing: a database loaded before import profiles existed)."""
    cursor.execute("SELECT to_regclass('raw._value_map') IS NOT NULL "
                   "AND to_regclass('raw._date_formats') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return NO_IMPORT_RULES
    cursor.execute("SELECT 'value', table_name, column_name FROM raw._value_map "
                   "GROUP BY table_name, column_name UNION ALL "
                   "SELECT 'date', table_name, column_name FROM raw._date_formats")
    mapped: dict[str, set[str]] = {}
    dated: dict[str, set[str]] = {}
    for kind, table, column in cursor.fetchall():
        (mapped if kind == "value" else dated).setdefault(table, set()).add(column)
    return ImportRules({t: frozenset(c) for t, c in mapped.items()},
                       {t: frozenset(c) for t, c in dated.items()})
