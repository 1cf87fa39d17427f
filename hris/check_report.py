"""What `hireloop import --check` prints: the quarantine the build would produce, the invalid
values most seen beside the allowed ones, and a profile snippet for the unmapped values.

Pure: it formats what the check measured (orchestration.import_check builds the export in
a scratch database with the real dbt models and reads these numbers). No value of a
personal column and no value that looks like personal data (hris.personal_values) is ever
printed; such values are only counted as withheld.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hris.personal_values import REDACTED, looks_personal

TOP_VALUES = 5  # offending values shown per column
SNIPPET_VALUES = 25  # values per column in the profile snippet
TODO = "TODO"  # the placeholder the user replaces (a profile mapping to it is no contract value)
_GUESS_CUTOFF = 0.75


@dataclass(frozen=True)
class QuarantineCount:
    """Rows of one table the build would quarantine for one reason (its first rule broken)."""

    table: str
    reason: str
    rows: int
    from_export: int  # of those, rows this export inserts or changes


@dataclass(frozen=True)
class VoidedCount:
    """Fields of one descriptive column the build would void for one reason: the field is
    empty in staging, the defect recorded (quarantine.field_defects), the row kept unless
    another rule quarantines it."""

    table: str
    column: str
    reason: str
    rows: int
    rows_staged: int


@dataclass(frozen=True)
class OffendingValue:
    """A value of a vocabulary column that is not allowed (trimmed, as exported), and how
    many rows hold it."""

    table: str
    column: str
    value: str
    rows: int


@dataclass(frozen=True)
class DateShape:
    """How the values of a date column without a date format look, digits masked: the shape
    ('9999/99/99'), its rows, and the largest number in each of its first three digit groups
    (to tell DD/MM from MM/DD). Only shapes leave the database, never a value."""

    table: str
    column: str
    shape: str
    rows: int
    maxima: tuple[int | None, int | None, int | None] = (None, None, None)


@dataclass
class CheckReport:
    """Everything the check measured, ready to print."""

    source: str
    as_of: dt.date
    load: str  # the importer's own table: read / inserted / updated / unchanged / duplicates
    raw_rows: dict[str, int]  # per table, after the export (what the build reads)
    quarantine: list[QuarantineCount]
    offending: list[OffendingValue]
    allowed: Mapping[tuple[str, str], tuple[str, ...]]  # (table, column) -> allowed values
    personal: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # table -> columns
    reason_order: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    voided: list[VoidedCount] = field(default_factory=list)
    date_shapes: list[DateShape] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return sum(c.rows for c in self.quarantine)


def best_guess(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value `value` obviously means (another case or separator, a near spelling:
    'Customer Service' -> customer_service, 'strong_hire' -> strong_yes), else None."""
    allowed = list(allowed)
    text = value.strip().lower()
    for candidate in (text, text.replace(" ", "_").replace("-", "_")):
        if candidate in allowed:
            return candidate
    close = difflib.get_close_matches(text.replace(" ", "_").replace("-", "_"), allowed, n=1,
                                      cutoff=_GUESS_CUTOFF)
    return close[0] if close else None


ISO_SHAPE = "9999-99-99"
_YMD = re.compile(r"^9{4}(\D+)99(\D+)99(\D*)$")
_DMY = re.compile(r"^99(\D+)99(\D+)9{4}$")


# A shape is printed only if made of masked digits and date punctuation: any other text in
# a date column (a name typed there) is summarised, never shown.
_SAFE_SHAPE = re.compile(r"^[9\s\-/.:,+TZ年月日号]*9[9\s\-/.:,+TZ年月日号]*$")


def _printable_shape(shape: str) -> str:
    return shape if _SAFE_SHAPE.match(shape) else "(other text)"


def guess_date_format(shape: str, maxima: tuple[int | None, ...]) -> str | None:
    """The PostgreSQL to_date pattern that reads (and gives back) dates of this shape, where
    it is certain: 9999/99/99 -> YYYY/MM/DD, 99999999 -> YYYYMMDD, 9999年99月99日 ->
    YYYY年MM月DD日, 99.99.9999 -> DD.MM.YYYY or MM.DD.YYYY when a day above 12 tells."""
    if shape == "9" * 8:
        return "YYYYMMDD"
    if m := _YMD.match(shape):
        return f"YYYY{m[1]}MM{m[2]}DD{m[3]}"
    if m := _DMY.match(shape):
        first, second = maxima[0] or 0, maxima[1] or 0
        if first > 12 >= second:
            return f"DD{m[1]}MM{m[2]}YYYY"
        if second > 12 >= first:
            return f"MM{m[1]}DD{m[2]}YYYY"
    return None


def _date_suggestions(report: CheckReport) -> dict[tuple[str, str], tuple[str | None, int]]:
    """(table, column) -> (the one format all its non-ISO shapes share or None, rows)."""
    by_column: dict[tuple[str, str], list[DateShape]] = {}
    iso = set()
    for s in report.date_shapes:
        if s.shape == ISO_SHAPE:
            iso.add((s.table, s.column))
        else:
            by_column.setdefault((s.table, s.column), []).append(s)
    out = {}
    for col, shapes in sorted(by_column.items()):
        formats = {guess_date_format(s.shape, s.maxima) for s in shapes}
        # A format applies to every value of the column: no guess where some are ISO.
        certain = len(formats) == 1 and col not in iso
        out[col] = (formats.pop() if certain else None, sum(s.rows for s in shapes))
    return out


def _shown(report: CheckReport) -> tuple[dict[tuple[str, str], list[OffendingValue]],
                                          dict[tuple[str, str], int]]:
    """Offending values that may be printed, most seen first, and per column the number of
    rows whose value was withheld (personal column, or a value that looks personal)."""
    shown: dict[tuple[str, str], list[OffendingValue]] = {}
    withheld: dict[tuple[str, str], int] = {}
    for v in report.offending:
        col = (v.table, v.column)
        if (v.column in report.personal.get(v.table, ()) or v.value == REDACTED
                or looks_personal(v.value)):
            withheld[col] = withheld.get(col, 0) + v.rows
        else:
            shown.setdefault(col, []).append(v)
    for values in shown.values():
        values.sort(key=lambda v: (-v.rows, v.value))
    return shown, withheld


def _table(head: tuple[str, ...], rows: list[tuple], total: tuple | None = None) -> list[str]:
    body = [*rows, *([total] if total else [])]

    def cell(v) -> str:
        return f"{v:,}" if isinstance(v, int) else str(v)

    widths = [max(len(cell(r[i])) for r in [head, *body]) for i in range(len(head))]

    def fmt(row) -> str:
        return "  ".join(cell(v).rjust(w) if isinstance(v, int) else cell(v).ljust(w)
                         for v, w in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(head), rule, *map(fmt, rows)]
    return [*lines, rule, fmt(total)] if total else lines


def format_quarantine(report: CheckReport) -> str:
    """Per table and reason, the rows the build would quarantine."""
    total_raw = sum(report.raw_rows.values())
    if not report.quarantine:
        return f"== The build would quarantine no rows (of {total_raw:,} raw rows) =="
    order = {r: i for i, r in enumerate(report.reason_order)}
    tables = list(report.raw_rows)
    counts = sorted(report.quarantine, key=lambda c: (
        tables.index(c.table) if c.table in tables else len(tables), order.get(c.reason, 99)))
    rows, seen = [], set()
    for c in counts:  # the table and its raw rows on its first line only
        first = c.table not in seen
        seen.add(c.table)
        rows.append((c.table if first else "",
                     f"{report.raw_rows.get(c.table, 0):,}" if first else "",
                     c.reason, c.rows, c.from_export))
    total = ("total", f"{total_raw:,}", "", report.quarantined,
             sum(c.from_export for c in counts))
    lines = [f"== The build would quarantine {report.quarantined:,} of {total_raw:,} raw rows "
             "(each row under the first rule it breaks) =="]
    lines += _table(("table", "raw rows", "reason", "rows", "from this export"), rows, total)
    lines.append("'from this export': rows it adds or changes; the others were loaded before "
                 "(a parent quarantined there takes this export's children with it).")
    return "\n".join(lines)


def format_voided(report: CheckReport) -> str:
    """Per descriptive column and reason, the fields the build would void."""
    if not report.voided:
        return ""
    rows = [(v.table, v.column, v.reason, v.rows, v.rows_staged)
            for v in sorted(report.voided, key=lambda v: (v.table, v.column, v.reason))]
    lines = [f"== The build would void {sum(v.rows for v in report.voided):,} descriptive "
             "fields (the field left empty, the row kept; recorded in "
             "quarantine.field_defects) =="]
    lines += _table(("table", "column", "reason", "fields", "in rows staged"), rows)
    return "\n".join(lines)


def format_invalid_values(report: CheckReport) -> str:
    """Per vocabulary column with invalid values: the most seen beside the allowed ones."""
    shown, withheld = _shown(report)
    columns = sorted(set(shown) | set(withheld))
    if not columns:
        return ""
    lines = ["== Values not allowed, most seen first (rows quarantined or fields voided "
             "for them) =="]
    for col in columns:
        allowed = report.allowed.get(col, ())
        lines.append(f"{col[0]}.{col[1]}: allowed {', '.join(allowed) or '(see the contract)'}")
        values = shown.get(col, [])
        for v in values[:TOP_VALUES]:
            lines.append(f"    {v.rows:>9,} {'row ' if v.rows == 1 else 'rows'}  "
                         f"{json.dumps(v.value, ensure_ascii=False)}")
        rest = values[TOP_VALUES:]
        if rest:
            lines.append(f"    ... {len(rest):,} more values in {sum(v.rows for v in rest):,} rows")
        if col in withheld:
            lines.append(f"    (values of {withheld[col]:,} rows withheld: they look like "
                         "personal data; fix them in the HR system)")
    return "\n".join(lines)


def profile_snippet(report: CheckReport) -> str:
    """A `values:` block for the import profile mapping each unmapped value to a contract
    value, the obvious guess where there is one (say so), TODO otherwise; and a `dates:`
    block for date columns written otherwise than ISO."""
    shown, _ = _shown(report)
    lines = _values_block(report, shown)
    dates = _date_suggestions(report)
    if dates:
        lines.append("dates:")
        for (table, column), (fmt, rows) in dates.items():
            shapes = ", ".join(sorted({_printable_shape(s.shape) for s in report.date_shapes
                                       if (s.table, s.column) == (table, column)
                                       and s.shape != ISO_SHAPE}))
            if fmt is None:
                lines.append(f"  {table}.{column}: {json.dumps(TODO)}  # {rows:,} rows "
                             f"written {shapes} (9 = a digit): give its to_date pattern")
            else:
                lines.append(f"  {table}.{column}: {json.dumps(fmt, ensure_ascii=False)}  # "
                             f"{rows:,} rows written {shapes}")
    return "\n".join(lines)


def _values_block(report: CheckReport,
                  shown: dict[tuple[str, str], list[OffendingValue]]) -> list[str]:
    if not shown:
        return []
    lines = ["values:"]
    for col in sorted(shown):
        allowed = report.allowed.get(col, ())
        lines.append(f"  {col[0]}.{col[1]}:")
        for v in shown[col][:SNIPPET_VALUES]:
            key = json.dumps(v.value.strip(), ensure_ascii=False)
            guess = best_guess(v.value, allowed)
            if guess is None:
                lines.append(f"    {key}: {json.dumps(TODO)}  # one of: {', '.join(allowed)}")
            else:
                lines.append(f"    {key}: {json.dumps(guess)}  # a guess: check it")
        if len(shown[col]) > SNIPPET_VALUES:
            lines.append(f"    # ... {len(shown[col]) - SNIPPET_VALUES} more values")
    return lines


def format_check(report: CheckReport) -> str:
    """The whole printout of `hireloop import --check`."""
    parts = [
        f"check of {report.source} (nothing loaded into this installation): built with the "
        f"real dbt models in a scratch database holding what is loaded plus this export, "
        f"as of {report.as_of.isoformat()}",
        report.load,
        format_quarantine(report),
    ]
    voided = format_voided(report)
    if voided:
        parts.append(voided)
    invalid = format_invalid_values(report)
    if invalid:
        parts.append(invalid)
    snippet = profile_snippet(report)
    if snippet:
        parts.append(
            "== Suggested import profile for the unmapped values and dates ==\n"
            "Map each export value to a contract value, replace every TODO, keep the file "
            "beside your exports and check again with --profile FILE. Mappings and date "
            "formats act when staging reads: a corrected one releases rows on the next "
            "build, no re-import (a corrected encoding or column rename needs one).\n"
            + snippet)
    parts += [f"warning: {w}" for w in report.warnings]
    return "\n\n".join(parts)
