"""Reading an HR-system export directory: one file per contract table, CSV or Parquet.

Everything is read as text, values as exported: staging, not the importer, judges values.
Only what is structurally wrong is refused (`ImportRefused`, naming the file): a file for
an unknown table, a missing required column, an unreadable file, no export files at all,
one table given twice, a folder or a link out of the export folder inside it. Columns
outside the contract are ignored and reported as warnings; nothing is skipped silently.

An import profile (hris.profile) acts here with its `encoding` (how CSV text is decoded)
and `columns` (export column -> contract column, applied before the header is checked).
Without one, CSV is UTF-8, with or without a byte-order mark.

Refusals name the file, the line and the column, never a value: the parser's own error
texts quote whole rows (names, national ids), so none is passed on, not even as the cause
of the refusal (Dagster's event log records causes).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from hris.contract import RAW_TABLES
from hris.printable import printable
from hris.profile import ENCODINGS, ImportProfile

SUFFIXES = (".csv.gz", ".csv", ".parquet")  # matched ignoring case, longest first
PROFILE_EXAMPLE = "docs/import-profile.example.yaml"

# pyarrow parses CSV in blocks, and with newlines in values a row must fit in one block:
# start at pyarrow's default (1 MiB, parallel parsing of ordinary files) and, on
# "straddling object" (a row longer than a block: an answer text of megabytes), read again
# with blocks 16 times larger.
_FIRST_BLOCK = 1 << 20
_MAX_BLOCK = (1 << 31) - 1
_SCAN_CHUNK = 1 << 20


class ImportRefused(Exception):
    """An export that cannot be loaded as it stands; the message names the file (and column)."""


@dataclass
class ExportFiles:
    """A read export: frames of str/None per table, the files they came from, warnings."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _split_name(name: str) -> tuple[str, str] | None:
    """(table, suffix) of an export file name (any case: `Candidates.CSV`), None otherwise."""
    lowered = name.lower()
    for suffix in SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return lowered[: -len(suffix)], suffix
    return None


def read_export_files(directory: Path, profile: ImportProfile | None = None) -> ExportFiles:
    """Read and validate every export file in `directory` (see the module docstring)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportRefused(f"{printable(str(directory))}: not a directory")
    export = ExportFiles()
    for path in _entries(directory, export.warnings):
        name = printable(path.name)
        parsed = _split_name(path.name)
        if parsed is None:
            export.warnings.append(
                f"{name}: not an export file (.csv, .csv.gz, .parquet); ignored")
            continue
        table, suffix = parsed
        if table not in RAW_TABLES:
            hint = difflib.get_close_matches(table, RAW_TABLES, n=1)
            raise ImportRefused(
                f"{name}: unknown table {printable(table)!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; the contract has {', '.join(RAW_TABLES)}"
            )
        if not path.is_file():
            raise ImportRefused(f"{name}: not a regular file; an export file must be one")
        if table in export.files:
            raise ImportRefused(f"{name}: table {table!r} is given twice (also "
                                f"{printable(export.files[table].name)})")
        read = _read_parquet if suffix == ".parquet" else _read_csv
        frame, ignored, unused = read(path, table, profile)
        export.frames[table] = frame
        export.files[table] = path
        if ignored:
            export.warnings.append(f"{name}: column(s) not in the contract ignored: "
                                   f"{', '.join(repr(printable(c)) for c in ignored)}")
        if unused:
            export.warnings.append(f"{name}: the profile renames column(s) the file does not "
                                   f"have: {', '.join(repr(printable(c)) for c in unused)}")
    if not export.frames:
        raise ImportRefused(f"{printable(str(directory))}: no export files (<table>.csv, "
                            ".csv.gz or .parquet for a contract table)")
    return export


def read_export(directory: Path, profile: ImportProfile | None = None) -> dict[str, pd.DataFrame]:
    """The export's frames (str/None values, contract column order); see `read_export_files`."""
    return read_export_files(directory, profile).frames


def _entries(directory: Path, warnings: list[str]) -> list[Path]:
    """The folder's entries to read, hidden ones (`.DS_Store`, `.git`) aside.

    Refuses what would otherwise be skipped or followed out of the folder: a subfolder
    (its files would be silently missing from the import), a link to nothing, a link to
    a file outside the folder (the import would read what the folder does not hold).
    """
    root = directory.resolve()
    where = printable(str(directory))
    entries = []
    for path in sorted(directory.iterdir()):
        name = printable(path.name)
        if path.name.startswith("."):
            if _split_name(path.name.lstrip(".")):
                warnings.append(f"{name}: a hidden file; ignored (rename it without the "
                                "leading dot to import it)")
            continue
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise ImportRefused(f"{name}: a link to nothing (broken symbolic link): "
                                    "remove it, or put the file itself in its place") from None
            if not target.is_relative_to(root):
                raise ImportRefused(
                    f"{name}: a link to {printable(str(target))}, outside the export folder: "
                    "an import reads only what the folder holds; copy the file in instead of "
                    "linking it")
        if path.is_dir():
            raise ImportRefused(
                f"{name}: a folder inside the export folder {where}; an export is the files "
                "directly in one folder, and none is skipped: move its files up if they "
                f"belong to this export, import it on its own (hireloop import {where}/{name}), "
                "or move it out")
        entries.append(path)
    return entries


# ---------------------------------------------------------------------------------- header


def _renames(profile: ImportProfile | None, table: str) -> dict[str, str]:
    return dict(profile.columns.get(table, {})) if profile is not None else {}


def _check_header(
    path: Path, table: str, header: list[str], renames: dict[str, str]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(contract columns present, ignored extra columns, the header as renamed, renames of
    columns the file does not have).

    Refuses a column given twice (also by a rename) and a missing required column, with a
    hint at the profile rename that would fix it.
    """
    name = printable(path.name)
    renamed = [renames.get(h, h) for h in header]
    seen: dict[str, str] = {}
    for original, column in zip(header, renamed, strict=True):
        if column in seen and column:  # blank names (trailing commas) are just ignored
            via = [repr(printable(o)) for o in (seen[column], original) if o != column]
            raise ImportRefused(
                f"{name}: column {printable(column)!r} appears more than once"
                + (f" (the profile renames {' and '.join(via)} to it)" if via else ""))
        seen[column] = original
    contract = RAW_TABLES[table]
    extra = [o or "(blank)" for o, c in zip(header, renamed, strict=True)
             if c not in contract.columns]
    missing = [c for c in contract.required if c not in seen]
    if missing:
        raise ImportRefused(_missing_message(name, table, missing, seen, extra, renames))
    unused = [s for s in renames if s not in header]
    return [c for c in contract.columns if c in seen], extra, renamed, unused


def _missing_message(name: str, table: str, missing: list[str], seen: dict[str, str],
                     extra: list[str], renames: dict[str, str]) -> str:
    contract = RAW_TABLES[table]
    if not any(c in contract.columns for c in seen):
        # No contract column at all: a header row missing (then the "header" is a row of
        # values, never to be printed) or every column named otherwise.
        return (f"{name}: the first line names none of the columns of table {table!r}: is "
                "the header row missing, or are the columns named otherwise? Rename them in "
                f"an import profile (columns: {{{table}: {{<export column>: <contract "
                f"column>}}}}, see {PROFILE_EXAMPLE}) and import with --profile FILE")
    hints, suggested = [], []
    for column in missing:
        sources = [s for s, t in renames.items() if t == column]
        close = difflib.get_close_matches(column, [e for e in extra if e not in renames],
                                          n=1, cutoff=0.6)
        if sources:
            hints.append(f"{column!r} (the profile renames {printable(sources[0])!r} to it, "
                         "but the file has no such column)")
        elif close:
            hints.append(f"{column!r} (found {printable(close[0])!r})")
            suggested.append(f"{printable(close[0])}: {column}")
        else:
            hints.append(repr(column))
    text = f"{name}: missing required column(s) {', '.join(hints)} for table {table!r}"
    if suggested:
        text += (f"; if those are the same columns, rename them in an import profile "
                 f"(columns: {{{table}: {{{', '.join(suggested)}}}}}) and import with "
                 "--profile FILE")
    return text


# ------------------------------------------------------------------------------------- CSV


def _encoding(profile: ImportProfile | None) -> str:
    return (profile.encoding if profile is not None and profile.encoding else None) or "utf-8"


def _python_codec(encoding: str) -> str:
    """The codec for Python-side reading: UTF-8 accepts a byte-order mark, with or without."""
    return "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding


def _arrow_codec(encoding: str) -> str:
    """pyarrow's own UTF-8 reader (fast, skips a BOM) for UTF-8; Python's codec otherwise."""
    return "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding


@contextmanager
def _binary(path: Path) -> Iterator:
    """The file's bytes, gzip-decompressed for `.csv.gz` (any case)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        yield fh


def _text(raw, encoding: str) -> io.TextIOWrapper:
    """Decoded text for the csv module: newline="" so only CR/LF end records (U+2028 or
    form feeds inside a value do not)."""
    return io.TextIOWrapper(raw, encoding=_python_codec(encoding), newline="")


def _refuse_utf8_under(path: Path, encoding: str) -> None:
    """Refuse a UTF-8 file the profile says is in another encoding: any of them would
    decode it, into garbled text. (Non-ASCII text that is valid UTF-8 by chance is
    practically never GB18030 or Latin-1.)"""
    try:
        with _binary(path) as raw:
            sample = raw.read(64 << 10)
    except (OSError, EOFError):
        return  # the read that follows says what is wrong with the file
    if max(sample, default=0) >= 0x80 and _decodes(sample, "utf-8"):
        raise ImportRefused(
            f"{printable(path.name)}: valid UTF-8 text, not {encoding} as the profile says: "
            "read as that, its text would be garbled. Remove `encoding` from the profile "
            "(or write `encoding: utf-8`) for this export")


def _csv_header(path: Path, encoding: str) -> list[str]:
    try:
        with _binary(path) as raw:
            header = next(csv.reader(_text(raw, encoding)), None)
    except (UnicodeDecodeError, csv.Error):
        raise _diagnose(path, encoding, None) from None
    except (OSError, EOFError):
        raise ImportRefused(f"{printable(path.name)}: unreadable file "
                            f"({_io_problem(path)})") from None
    if not header:
        raise ImportRefused(f"{printable(path.name)}: empty file, no header row")
    header = [h.strip() for h in header]
    header[0] = header[0].lstrip("\ufeff")  # a BOM in another encoding (GB18030 has one)
    return header


def _read_csv(
    path: Path, table: str, profile: ImportProfile | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    encoding = _encoding(profile)
    if _python_codec(encoding) != "utf-8-sig":
        _refuse_utf8_under(path, encoding)
    header = _csv_header(path, encoding)
    present, extra, names, unused = _check_header(path, table, header,
                                                  _renames(profile, table))
    block = _FIRST_BLOCK
    while True:
        try:
            with _binary(path) as raw:
                arrow = pa_csv.read_csv(
                    raw,
                    read_options=pa_csv.ReadOptions(
                        column_names=names, skip_rows=1, block_size=block,
                        encoding=_arrow_codec(encoding)),
                    parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                    convert_options=pa_csv.ConvertOptions(
                        column_types={c: pa.string() for c in present},
                        include_columns=present,
                        strings_can_be_null=True,
                        null_values=[""],
                    ),
                )
            break
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block < _MAX_BLOCK:
                block = min(block * 16, _MAX_BLOCK)  # one row longer than a block
                continue
        except (pa.ArrowException, UnicodeError, OSError, EOFError):
            pass
        # Outside the except clauses: the parser's text (it quotes rows) is not chained.
        raise _diagnose(path, encoding, len(header))
    _refuse_unclosed_quote(path, encoding)
    return _to_frame(path, table, arrow), extra, unused


def _refuse_unclosed_quote(path: Path, encoding: str) -> None:
    """The parser takes a quote opened in a row's last value and never closed as a value
    running to the end of the file: the rows after it would vanish into it, silently.
    Quotes in well-formed CSV come in pairs (0x22 is no part of a multibyte character in
    any supported encoding), so only a file with an odd count is read again to find one."""
    count = 0
    with _binary(path) as raw:
        while chunk := raw.read(_SCAN_CHUNK):
            count += chunk.count(b'"')
    if count % 2 == 0:
        return
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with _binary(path) as raw:
            reader = csv.reader(_text(raw, encoding), strict=True)
            start = 1
            while True:
                try:
                    next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "unexpected end of data" in str(exc):  # csv's own words, no value
                        break
                start = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)
    raise ImportRefused(
        f"{printable(path.name)}: line {start}: a quoted value that is never closed (every "
        "row after it would be read into it); close the quote in the export (its values "
        "are not shown here)")


# ------------------------------------------------------------------------ why a CSV failed


def _diagnose(path: Path, encoding: str, n_fields: int | None) -> ImportRefused:
    """Name the line (and what is wrong with it) where a CSV file cannot be read, without
    quoting it: the decoding first, then the rows' field counts."""
    name = printable(path.name)
    try:
        bad_line, sample = _first_undecodable_line(path, _python_codec(encoding))
        if bad_line is not None:
            return ImportRefused(_encoding_message(name, encoding, bad_line, sample))
        if n_fields is not None:
            ragged = _first_ragged_record(path, encoding, n_fields)
            if ragged is not None:
                line, got = ragged
                return ImportRefused(
                    f"{name}: line {line}: a row of {got} field(s) where the header has "
                    f"{n_fields} (a stray or missing delimiter, or an unclosed quote); fix "
                    "that row in the export (its values are not shown here)")
    except (OSError, EOFError):
        return ImportRefused(f"{name}: unreadable file ({_io_problem(path)})")
    return ImportRefused(f"{name}: unreadable CSV (the CSV parser stopped and no line could "
                         "be pinned down; open the file in a spreadsheet and save it as CSV)")


def _io_problem(path: Path) -> str:
    if path.name.lower().endswith(".gz"):
        return "not a complete gzip file: corrupt or truncated"
    return "cannot be read"


def _first_undecodable_line(path: Path, codec: str) -> tuple[int | None, bytes]:
    """(line of the first bytes `codec` cannot decode, bytes from that line on), or
    (None, b"") when the whole file decodes. Lines end in b"\\n" in every supported
    encoding, so whole lines are decoded at a time."""
    line = 1
    pending = b""
    with _binary(path) as raw:
        while True:
            chunk = raw.read(_SCAN_CHUNK)
            data = pending + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            block, pending = data[:cut], data[cut:]
            try:
                block.decode(codec)
            except UnicodeDecodeError as exc:
                start = block.rfind(b"\n", 0, exc.start) + 1
                return line + block.count(b"\n", 0, exc.start), block[start:start + (64 << 10)]
            line += block.count(b"\n")
            if not chunk:
                return None, b""


def _looks_chinese(sample: bytes) -> bool:
    """Does `sample` read as GB18030 text made of common Chinese characters? Latin-1
    bytes often decode as GB18030 too, but rarely as GB2312's common characters."""
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return False
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(wide)


def _encoding_message(name: str, encoding: str, line: int, sample: bytes) -> str:
    profile_hint = f"see {PROFILE_EXAMPLE}"
    if _looks_chinese(sample):
        guess = ("It reads as Chinese GB18030/GBK: add the line `encoding: gb18030` to an "
                 f"import profile and import with --profile FILE ({profile_hint})")
    else:
        guess = (f"Save it as UTF-8, or name its encoding in an import profile (`encoding: "
                 f"...`, one of {', '.join(ENCODINGS)}) and import with --profile FILE "
                 f"({profile_hint})")
    if encoding == "utf-8":
        return f"{name}: not UTF-8 text (line {line} holds bytes UTF-8 cannot decode). {guess}"
    return (f"{name}: not {encoding} text, the profile's encoding (line {line} holds bytes "
            f"{encoding} cannot decode): check the profile's `encoding`. "
            + ("The file is valid UTF-8: remove `encoding` or write `encoding: utf-8`."
               if _decodes(sample, "utf-8") else guess))


def _decodes(sample: bytes, codec: str) -> bool:
    try:
        codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _first_ragged_record(path: Path, encoding: str, n_fields: int) -> tuple[int, int] | None:
    """(first line, field count) of the first record whose field count is not the header's,
    as Python's csv module splits records (quoted newlines included); None when all fit."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with _binary(path) as raw:
            reader = csv.reader(_text(raw, encoding))
            next(reader, None)
            start = reader.line_num + 1
            for record in reader:
                if record and len(record) != n_fields:
                    return start, len(record)
                start = reader.line_num + 1
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return None


# --------------------------------------------------------------------------------- Parquet


def _read_parquet(
    path: Path, table: str, profile: ImportProfile | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    name = printable(path.name)
    try:
        parquet = pq.ParquetFile(path)
        header = [f.name for f in parquet.schema_arrow]
    except (pa.ArrowException, OSError):
        raise ImportRefused(f"{name}: unreadable Parquet (not a Parquet file, or corrupt or "
                            "truncated)") from None
    present, extra, renamed, unused = _check_header(path, table, header,
                                                    _renames(profile, table))
    source = {c: h for h, c in zip(header, renamed, strict=True) if c in present}
    try:
        arrow = parquet.read(columns=[source[c] for c in present])
    except (pa.ArrowException, OSError):
        raise ImportRefused(f"{name}: unreadable Parquet (corrupt or truncated data)") from None
    columns = {c: _as_text(path, c, arrow.column(source[c])) for c in present}
    return _to_frame(path, table, pa.table(columns)), extra, unused


def _as_text(path: Path, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as the text an export would show: ints "7", dates ISO, bools "true"."""
    kind = column.type
    failed = False
    try:
        if pa.types.is_dictionary(kind):
            column = pc.cast(column, kind.value_type)
            kind = kind.value_type
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
    except pa.ArrowException:
        failed = True  # e.g. binary that is not UTF-8; arrow's text may quote the value
    if failed:
        raise ImportRefused(f"{printable(path.name)}: column {name!r} cannot be read as text "
                            "(binary data that is not UTF-8?)")
    raise ImportRefused(f"{printable(path.name)}: column {name!r} has type {kind}, "
                        "not a plain value")


def _to_frame(path: Path, table: str, arrow: pa.Table) -> pd.DataFrame:
    """Contract-ordered frame of str/None; NUL characters mean binary junk, not text."""
    for name in arrow.column_names:
        nul = pc.match_substring(arrow.column(name), "\x00")
        if pc.any(nul).as_py():
            row = pc.index(nul, True).as_py() + 1
            raise ImportRefused(f"{printable(path.name)}: column {name!r} holds NUL bytes "
                                f"(binary data?), first in data row {row}")
    columns = [c for c in RAW_TABLES[table].columns if c in arrow.column_names]
    # Arrow strings become Python str, nulls None.
    return arrow.select(columns).to_pandas(split_blocks=True, self_destruct=True)
