"""Import profiles: how one HR system's exports map onto the raw contract.

A profile is a small YAML file the user keeps beside their exports and names at import
(`hireloop import DIR --profile FILE`). Its parts act in two places:

- at import (hris.export_files): `encoding` (utf-8 with or without BOM, gb18030, ...) and
  `columns` (per table, export column -> contract column). Changing these needs a re-import.
- where staging reads (dbt, and the Great Expectations raw suites alike): `values` (per
  table.column, export value -> contract value) and `dates` (per table.column, a
  PostgreSQL `to_date` format such as `YYYY/MM/DD` or `YYYY年MM月DD日`). `raw` keeps what the
  HR system exported; a corrected mapping releases rows on the next build, no re-import.

Validation (`load_profile`, ProfileError naming the file and the key): only the four keys
above; known tables and contract columns; no two export columns renamed onto one; an
encoding of ENCODINGS (utf-8 with or without BOM, gb18030, gbk, gb2312, big5, cp1252,
iso8859-1: ASCII-compatible ones, so CSV punctuation stays single bytes); value mappings
only on categorical columns (a `vocab` or `bool` column of the rule spec, dbt vars
`raw_rules`, or gender / education / race_ethnicity) with targets in the column's
vocabulary where the spec has one; date patterns only on date columns, made of one year
(YYYY), one month (MM, or FMMM without a leading zero) and one day (DD, or FMDD) token and
the separators of DATE_SEPARATORS (`-` `/` `.` space `年` `月` `日`), which PostgreSQL's
to_date and to_char read as they are. Every scalar is read as text
(`yes`, `no` and `01` stay as written) and a key given twice is an error.

The profile in force is the one recorded last (`raw._profiles`); its value and date rules
are materialised in `raw._value_map` and `raw._date_formats`, which staging joins.
Value keys are matched case-insensitively on the trimmed text (`lower(trim(value))`).
An import records the profile it is given, in its own transaction, unless that profile is
in force already (so a re-import stays a no-op); `hireloop profile FILE` records one by
hand (`profile_change`, which says whether the data needs a re-import).

Example (docs/import-profile.example.yaml is the commented one)::

    encoding: gb18030
    columns:
      candidates: {性别: gender, 学历: education}
    values:
      candidates.gender: {男: male, 女: female}
      interviews.recommendation: {hire: "yes", 不录用: "no"}
    dates:
      candidates.application_date: YYYY/MM/DD
"""

from __future__ import annotations

import codecs
import difflib
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from hris.contract import RAW_TABLES
from hris.import_rules import ensure_date_parser
from hris.printable import printable
from hris.rules import load_rules

PROFILE_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._profiles (
    profile_id   bigserial PRIMARY KEY,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,
    sha256       text NOT NULL,
    profile      jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS raw._value_map (
    table_name     text NOT NULL,
    column_name    text NOT NULL,
    source_value   text NOT NULL,
    contract_value text NOT NULL,
    PRIMARY KEY (table_name, column_name, source_value)
);
CREATE TABLE IF NOT EXISTS raw._date_formats (
    table_name  text NOT NULL,
    column_name text NOT NULL,
    format      text NOT NULL,
    PRIMARY KEY (table_name, column_name)
);
"""


@dataclass(frozen=True)
class ImportProfile:
    """A parsed, validated profile (see the module docstring)."""

    encoding: str | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    dates: dict[tuple[str, str], str] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The profile as stored in `raw._profiles.profile` (keys as `table.column`)."""
        return {
            "encoding": self.encoding,
            "columns": self.columns,
            "values": {f"{t}.{c}": m for (t, c), m in sorted(self.values.items())},
            "dates": {f"{t}.{c}": f for (t, c), f in sorted(self.dates.items())},
        }

    def sha256(self) -> str:
        return hashlib.sha256(
            json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the key."""


TOP_LEVEL_KEYS = ("encoding", "columns", "values", "dates")

# Encodings an export may be read in (canonical Python codec names). All are ASCII
# compatible, so the CSV's commas, quotes and newlines stay single bytes whatever the text.
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "cp1252", "iso8859-1")

# Date patterns: PostgreSQL to_date patterns made of these tokens (each once) and separators.
# Tokens per part: YYYY; MM or FMMM (no leading zero: 3 for March); DD or FMDD. Staging
# parses strictly (the date must print back as written), so padding matters.
DATE_PARTS = {"year": ("YYYY",), "month": ("MM", "FMMM"), "day": ("DD", "FMDD")}
DATE_TOKENS = tuple(t for tokens in DATE_PARTS.values() for t in tokens)
DATE_SEPARATORS = "-/. 年月日"
_DATE_TOKEN = re.compile("|".join(sorted(DATE_TOKENS, key=len, reverse=True)))

BOOL_VALUES = ("true", "false")


@dataclass(frozen=True)
class ColumnRules:
    """What a profile may map: categorical columns (with their vocabulary, None when the
    spec names none) and date columns."""

    categorical: dict[tuple[str, str], tuple[str, ...] | None]
    dates: frozenset[tuple[str, str]]


@functools.cache
def column_rules() -> ColumnRules:
    """From the row-rule spec staging and the checks share (hris.rules): `vocab` columns,
    `types: bool` columns (true/false) and `types: date` columns."""
    categorical: dict[tuple[str, str], tuple[str, ...] | None] = {}
    dates: set[tuple[str, str]] = set()
    for table, rules in load_rules().tables.items():
        for column, kind in rules.types.items():
            if kind == "bool":
                categorical[(table, column)] = BOOL_VALUES
            elif kind == "date":
                dates.add((table, column))
        for column, vocabulary in rules.vocab.items():
            categorical[(table, column)] = tuple(str(v) for v in vocabulary)
    return ColumnRules(categorical, frozenset(dates))


class _TextLoader(yaml.SafeLoader):
    """YAML where every scalar stays text (`yes`, `no`, `1`, `2024-01-01` as written) and
    a key given twice is an error, not silently the last one."""

    yaml_implicit_resolvers: ClassVar[dict] = {}


def _construct_mapping(loader: _TextLoader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text", key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_profile(path: Path) -> ImportProfile:
    """Read and validate a profile file (YAML); raises ProfileError naming what is wrong."""
    path = Path(path)
    where = printable(str(path))
    data = _read_yaml(path, where)
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping with the keys "
                           f"{', '.join(TOP_LEVEL_KEYS)} (each optional)")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ProfileError(f"{where}: {printable(key)!r}: unknown key"
                               f"{_hint(key, TOP_LEVEL_KEYS)}; a profile has "
                               f"{', '.join(TOP_LEVEL_KEYS)}")
    rules = column_rules()
    return ImportProfile(
        encoding=_encoding(where, data.get("encoding")),
        columns=_columns(where, data.get("columns")),
        values=_values(where, data.get("values"), rules),
        dates=_dates(where, data.get("dates"), rules),
    )


def _read_yaml(path: Path, where: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"{where}: cannot read the profile ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileError(
            f"{where}: the profile itself must be saved as UTF-8 (the exports it describes "
            "may be in any encoding it names)") from None
    try:
        data = yaml.load(text, Loader=_TextLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        raise ProfileError(f"{where}: not valid YAML{at}"
                           + (f": {problem}" if problem else "")) from None
    if data is None:
        raise ProfileError(f"{where}: the profile is empty (write {{}} for one with no rules)")
    return data


def _hint(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _mapping(where: str, key: str, value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: {key}: expected a mapping of {what}")
    return value


def _text(where: str, key: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{where}: {key}: expected {what} (plain text, not blank)")
    return value.strip()


def _table(where: str, key: str, table: str) -> None:
    if table not in RAW_TABLES:
        raise ProfileError(f"{where}: {key}: unknown table {printable(table)!r}"
                           f"{_hint(table, RAW_TABLES)}; the contract has "
                           f"{', '.join(RAW_TABLES)}")


def _encoding(where: str, value: Any) -> str | None:
    if value is None:
        return None
    name = _text(where, "encoding", value, "an encoding name such as gb18030")
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise ProfileError(f"{where}: encoding: {printable(name)!r} is not an encoding Python "
                           f"knows; supported: {', '.join(ENCODINGS)}") from None
    if canonical not in ENCODINGS:
        raise ProfileError(f"{where}: encoding: {printable(name)!r} is not supported (exports "
                           f"are read in {', '.join(ENCODINGS)})")
    return canonical


def _columns(where: str, value: Any) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for table, renames in _mapping(where, "columns", value, "table: {export column: "
                                   "contract column}").items():
        key = f"columns.{printable(table)}"
        _table(where, key, table)
        contract = RAW_TABLES[table].columns
        targets: dict[str, str] = {}
        for export_name, target in _mapping(where, key, renames,
                                            "export column: contract column").items():
            export_name = _text(where, key, export_name, "an export column name")
            at = f"{key}.{printable(export_name)}"
            target = _text(where, at, target, "a contract column")
            if target not in contract:
                raise ProfileError(f"{where}: {at}: {printable(target)!r} is not a column of "
                                   f"{table}{_hint(target, contract)}; its columns: "
                                   f"{', '.join(contract)}")
            if target in targets:
                raise ProfileError(f"{where}: {key}: {printable(targets[target])!r} and "
                                   f"{printable(export_name)!r} both rename to {target!r}")
            targets[target] = export_name
        columns[table] = {export_name: target for target, export_name in targets.items()}
    return columns


def _table_column(where: str, section: str, key: str) -> tuple[str, str]:
    at = f"{section}.{printable(key)}"
    table, dot, column = key.partition(".")
    if not dot:
        raise ProfileError(f"{where}: {at}: write the column as table.column "
                           "(e.g. candidates.gender)")
    _table(where, at, table)
    if column not in RAW_TABLES[table].columns:
        raise ProfileError(f"{where}: {at}: {table} has no column {printable(column)!r}"
                           f"{_hint(column, RAW_TABLES[table].columns)}")
    return table, column


def _values(where: str, value: Any, rules: ColumnRules) -> dict[tuple[str, str], dict[str, str]]:
    values: dict[tuple[str, str], dict[str, str]] = {}
    for key, mapping in _mapping(where, "values", value,
                                 "table.column: {export value: contract value}").items():
        table, column = _table_column(where, "values", key)
        at = f"values.{key}"
        if (table, column) not in rules.categorical:
            mappable = sorted(f"{t}.{c}" for t, c in rules.categorical if t == table)
            also = " (a date column: give its format under `dates`)" if (
                table, column) in rules.dates else ""
            raise ProfileError(f"{where}: {at}: not a categorical column{also}; value mappings "
                               f"apply to {', '.join(mappable) or 'no column of ' + table}")
        vocabulary = rules.categorical[(table, column)]
        pairs = _mapping(where, at, mapping, "export value: contract value")
        if not pairs:
            raise ProfileError(f"{where}: {at}: an empty mapping (remove it, or map values)")
        seen: dict[str, str] = {}
        rule: dict[str, str] = {}
        for source, target in pairs.items():
            source = _text(where, at, source, "an export value")
            target = _text(where, f"{at}.{printable(source)}", target, "a contract value")
            if vocabulary is not None:
                if target.lower() not in vocabulary:
                    raise ProfileError(
                        f"{where}: {at}: {printable(source)!r} maps to {printable(target)!r}, "
                        f"not an allowed value of {column}; allowed: {', '.join(vocabulary)}")
                target = target.lower()
            folded = source.lower()  # staging matches lower(trim(value))
            if folded in seen:
                raise ProfileError(f"{where}: {at}: {printable(seen[folded])!r} and "
                                   f"{printable(source)!r} are the same export value "
                                   "(values are matched ignoring case and outer spaces)")
            seen[folded] = source
            rule[source] = target
        values[(table, column)] = rule
    return values


def date_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not a supported to_date pattern, or None when it is."""
    rest = _DATE_TOKEN.sub("", pattern)
    stray = [c for c in rest if c not in DATE_SEPARATORS]
    if stray:
        return (f"{printable(stray[0])!r} is neither a token ({', '.join(DATE_TOKENS)}, "
                f"upper case) nor a separator ({' '.join(repr(s) for s in DATE_SEPARATORS)})")
    found = _DATE_TOKEN.findall(pattern)
    for part, tokens in DATE_PARTS.items():
        if sum(t in tokens for t in found) != 1:
            return (f"needs the {part} exactly once ({' or '.join(tokens)}); a pattern is "
                    "one year, one month and one day token between separators")
    return None


def _dates(where: str, value: Any, rules: ColumnRules) -> dict[tuple[str, str], str]:
    dates: dict[tuple[str, str], str] = {}
    for key, pattern in _mapping(where, "dates", value, "table.column: pattern").items():
        table, column = _table_column(where, "dates", key)
        at = f"dates.{key}"
        if (table, column) not in rules.dates:
            dated = sorted(f"{t}.{c}" for t, c in rules.dates if t == table)
            raise ProfileError(f"{where}: {at}: not a date column; date formats apply to "
                               f"{', '.join(dated) or 'no column of ' + table}")
        pattern = _text(where, at, pattern, "a date pattern such as YYYY/MM/DD")
        problem = date_pattern_problem(pattern)
        if problem:
            raise ProfileError(f"{where}: {at}: {printable(pattern)!r}: {problem}")
        dates[(table, column)] = pattern
    return dates

def ensure_profile_tables(cursor) -> None:
    """Create the profile tables (idempotent; empty tables mean: no profile in force) and the
    strict date parser staging applies their formats with (hris.import_rules)."""
    cursor.execute(PROFILE_DDL)
    ensure_date_parser(cursor)


def record_profile(cursor, profile: ImportProfile, source: str) -> int:
    """Record `profile` as the one in force (caller's transaction); returns its id.

    Replaces the contents of `raw._value_map` and `raw._date_formats` with its rules, so the
    next build reads them.
    """
    ensure_profile_tables(cursor)
    from hris.raw_protect import age_formats, read_date_formats, rederive

    if age_formats(read_date_formats(cursor)) != age_formats(profile.dates):
        # Birth dates are ciphertext: staging reads the checks made at load, so a new
        # birth- or reference-date format judges the stored ones again now.
        rederive(cursor, profile.dates)
    cursor.execute(
        "INSERT INTO raw._profiles (source, sha256, profile) VALUES (%s, %s, %s) "
        "RETURNING profile_id",
        [source, profile.sha256(), json.dumps(profile.as_json(), ensure_ascii=False)],
    )
    profile_id = cursor.fetchone()[0]
    cursor.execute("DELETE FROM raw._value_map")
    cursor.execute("DELETE FROM raw._date_formats")
    for (table, column), mapping in profile.values.items():
        for source_value, contract_value in mapping.items():
            cursor.execute(
                "INSERT INTO raw._value_map VALUES (%s, %s, lower(trim(%s)), %s) "
                "ON CONFLICT (table_name, column_name, source_value) "
                "DO UPDATE SET contract_value = EXCLUDED.contract_value",
                [table, column, str(source_value), str(contract_value)],
            )
    for (table, column), fmt in profile.dates.items():
        cursor.execute("INSERT INTO raw._date_formats VALUES (%s, %s, %s)", [table, column, fmt])
    return profile_id


def profile_in_force(cursor) -> tuple[int, str, dict] | None:
    """(profile_id, sha256, stored profile) of the profile recorded last; None when none."""
    cursor.execute("SELECT to_regclass('raw._profiles')")
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute("SELECT profile_id, sha256, profile FROM raw._profiles "
                   "ORDER BY profile_id DESC LIMIT 1")
    row = cursor.fetchone()
    return None if row is None else (row[0], row[1], row[2])


@dataclass(frozen=True)
class ProfileChange:
    """What recording a profile by hand (`hireloop profile FILE`) did and what it needs."""

    profile_id: int
    recorded: bool  # False: the same profile was in force already
    source: str
    rules: tuple[int, int]  # value rules, date formats
    needs_reimport: tuple[str, ...]  # "encoding", "columns": import-side parts that changed

    @property
    def message(self) -> str:
        where = printable(self.source)
        if not self.recorded:
            return (f"import profile {self.profile_id} ({where}) is in force already: "
                    "nothing recorded")
        values, dates = self.rules
        text = (f"import profile {self.profile_id} recorded from {where}: {values} value "
                f"rule(s) and {dates} date format(s) act on the next build, without a re-import")
        if self.needs_reimport:
            parts = " and ".join("its encoding" if p == "encoding" else "its column renames"
                                 for p in self.needs_reimport)
            acts = "that acts" if len(self.needs_reimport) == 1 else "those act"
            text += (f". {parts[0].upper()}{parts[1:]} changed: {acts} only when the files "
                     "are read, so re-import the export with --profile FILE")
        return text


def profile_change(cursor, profile: ImportProfile, source: str) -> ProfileChange:
    """Record `profile` unless it is in force already, and say whether the data needs a
    re-import (its encoding or renames differ from the profile in force before)."""
    before = profile_in_force(cursor)
    rules = (sum(len(m) for m in profile.values.values()), len(profile.dates))
    if before is not None and before[1] == profile.sha256():
        return ProfileChange(before[0], False, source, rules, ())
    stored = before[2] if before is not None else {"encoding": None, "columns": {}}
    now = profile.as_json()
    changed = tuple(k for k in ("encoding", "columns")
                    if (stored.get(k) or None) != (now[k] or None))
    return ProfileChange(record_profile(cursor, profile, source), True, source, rules, changed)
