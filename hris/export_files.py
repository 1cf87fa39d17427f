"""Reading an HR-system export directory: one file per contract table, CSV or Parquet.

Everything is read as text, values as exported: staging, not the importer, judges values.
Only what is structurally wrong is refused (`ImportRefused`, naming the file): a file for
an unknown table, a missing required column, an unreadable file, no export files at all,
one table given twice. Columns outside the contract are ignored and reported as warnings.
"""

from __future__ import annotations

import csv
import difflib
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from hris.contract import RAW_TABLES

SUFFIXES = (".csv", ".csv.gz", ".parquet")


class ImportRefused(Exception):
    """An export that cannot be loaded as it stands; the message names the file (and column)."""


@dataclass
class ExportFiles:
    """A read export: frames of str/None per table, the files they came from, warnings."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _split_name(path: Path) -> tuple[str, str] | None:
    """(table, suffix) for an export file name, None for any other file."""
    for suffix in SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)], suffix
    return None


def read_export_files(directory: Path) -> ExportFiles:
    """Read and validate every export file in `directory` (see the module docstring)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportRefused(f"{directory}: not a directory")
    export = ExportFiles()
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        parsed = _split_name(path) if path.is_file() else None
        if parsed is None:
            export.warnings.append(
                f"{path.name}: not an export file (.csv, .csv.gz, .parquet); ignored"
            )
            continue
        table, suffix = parsed
        if table not in RAW_TABLES:
            hint = difflib.get_close_matches(table, RAW_TABLES, n=1)
            raise ImportRefused(
                f"{path.name}: unknown table {table!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; the contract has {', '.join(RAW_TABLES)}"
            )
        if table in export.files:
            raise ImportRefused(
                f"{path.name}: table {table!r} is given twice (also {export.files[table].name})"
            )
        read = _read_parquet if suffix == ".parquet" else _read_csv
        frame, ignored = read(path, table)
        export.frames[table] = frame
        export.files[table] = path
        if ignored:
            export.warnings.append(
                f"{path.name}: column(s) not in the contract ignored: {', '.join(ignored)}"
            )
    if not export.frames:
        raise ImportRefused(
            f"{directory}: no export files (<table>.csv, .csv.gz or .parquet for a contract table)"
        )
    return export


def read_export(directory: Path) -> dict[str, pd.DataFrame]:
    """The export's frames (str/None values, contract column order); see `read_export_files`."""
    return read_export_files(directory).frames


def _check_header(path: Path, table: str, header: list[str]) -> tuple[list[str], list[str]]:
    """(contract columns present, ignored extra columns); refuses duplicates and gaps."""
    seen: set[str] = set()
    for name in header:
        if name in seen and name:  # blank names (trailing commas) are just ignored
            raise ImportRefused(f"{path.name}: column {name!r} appears more than once")
        seen.add(name)
    contract = RAW_TABLES[table]
    extra = [c or "(blank)" for c in header if c not in contract.columns]
    missing = [c for c in contract.required if c not in seen]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, extra, n=1, cutoff=0.6)
            hints.append(f"{name!r}" + (f" (found {close[0]!r})" if close else ""))
        raise ImportRefused(
            f"{path.name}: missing required column(s) {', '.join(hints)} for table {table!r}"
        )
    return [c for c in contract.columns if c in seen], extra


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
        raise ImportRefused(f"{path.name}: unreadable CSV ({_reason(exc)})") from exc
    if not header:
        raise ImportRefused(f"{path.name}: empty file, no header row")
    return [h.strip() for h in header]


def _read_csv(path: Path, table: str) -> tuple[pd.DataFrame, list[str]]:
    header = _csv_header(path)
    present, extra = _check_header(path, table, header)
    try:
        arrow = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                include_columns=present,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise ImportRefused(f"{path.name}: unreadable CSV ({_reason(exc)})") from exc
    return _to_frame(path, table, arrow), extra


def _read_parquet(path: Path, table: str) -> tuple[pd.DataFrame, list[str]]:
    try:
        parquet = pq.ParquetFile(path)
        header = [f.name for f in parquet.schema_arrow]
        present, extra = _check_header(path, table, header)
        arrow = parquet.read(columns=present)
    except (pa.ArrowException, OSError) as exc:
        raise ImportRefused(f"{path.name}: unreadable Parquet ({_reason(exc)})") from exc
    columns = {name: _as_text(path, name, arrow.column(name)) for name in present}
    return _to_frame(path, table, pa.table(columns)), extra


def _as_text(path: Path, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as the text an export would show: ints "7", dates ISO, bools "true"."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
        kind = kind.value_type
    try:
        if pa.types.is_timestamp(kind):
            text = pc.replace_substring(pc.cast(column, pa.string()), " ", "T", max_replacements=1)
            # Trim a zero fraction ("10:00:00.000000" -> "10:00:00"), keep the zone ("Z").
            text = pc.replace_substring_regex(text, r"(\.\d*?)0+(Z?)$", r"\1\2")
            return pc.replace_substring_regex(text, r"\.(Z?)$", r"\1")
        if (
            pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind)
            or pa.types.is_decimal(kind) or pa.types.is_boolean(kind)
            or pa.types.is_date(kind) or pa.types.is_time(kind) or pa.types.is_null(kind)
        ):
            return pc.cast(column, pa.string())
    except pa.ArrowException as exc:
        raise ImportRefused(f"{path.name}: column {name!r} unreadable ({_reason(exc)})") from exc
    raise ImportRefused(f"{path.name}: column {name!r} has type {kind}, not a plain value")


def _to_frame(path: Path, table: str, arrow: pa.Table) -> pd.DataFrame:
    """Contract-ordered frame of str/None; NUL characters mean binary junk, not text."""
    for name in arrow.column_names:
        if pc.any(pc.match_substring(arrow.column(name), "\x00")).as_py():
            raise ImportRefused(f"{path.name}: column {name!r} holds NUL bytes (binary data?)")
    columns = [c for c in RAW_TABLES[table].columns if c in arrow.column_names]
    # Arrow strings become Python str, nulls None.
    return arrow.select(columns).to_pandas(split_blocks=True, self_destruct=True)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]

