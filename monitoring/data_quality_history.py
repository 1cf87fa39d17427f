"""The steward's pages kept per build: one dated page per build and export, and an index.

Every build writes `data_quality/<generated-at>_export-<id>.html` (never overwritten) with a
small JSON record of its counts beside it; the index page lists every record, newest first,
with the quarantined share of each build as a bar and a trend line, in the page language.
Records hold numbers only, so an index in another language is rebuilt from the same files.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from monitoring.data_quality_report import DataQualitySummary
from monitoring.hr_page import document, esc, heading, link, number, percent, share_bar, table
from monitoring.i18n import Translator

HISTORY_DIR = "data_quality"
INDEX_NAME = "index.html"


@dataclass(frozen=True)
class BuildRecord:
    """What the index shows of one build (counts only)."""

    page: str  # file name of the build's page, beside the record
    generated_at: str  # ISO 8601, UTC
    as_of: str | None
    export_ids: list[int]
    rows_in: int
    quarantined: int

    @property
    def share(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0


def page_name(generated_at: dt.datetime, export_ids: list[int]) -> str:
    """`<UTC time to the microsecond>_export-<latest id>.html`: sorts by time, never reused."""
    stamp = generated_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}_export-{max(export_ids) if export_ids else 'none'}.html"


def record_for(summary: DataQualitySummary, page: str, generated_at: dt.datetime,
               as_of: str | None) -> BuildRecord:
    tables = summary.tables
    return BuildRecord(page=page, generated_at=generated_at.astimezone(dt.UTC).isoformat(),
                       as_of=as_of, export_ids=summary.export_ids,
                       rows_in=int(tables["rows_in"].sum()),
                       quarantined=int(tables["quarantined"].sum()))


def write_record(folder: Path, record: BuildRecord) -> Path:
    path = folder / Path(record.page).with_suffix(".json").name
    path.write_text(json.dumps(asdict(record), indent=1), encoding="utf-8")
    return path


def read_records(folder: Path) -> list[BuildRecord]:
    """Every build's record under `folder`, oldest first (an unreadable one is skipped)."""
    records = []
    for path in sorted(Path(folder).glob("*_export-*.json")):
        try:
            records.append(BuildRecord(**json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, TypeError):
            continue
    return sorted(records, key=lambda r: r.generated_at)


def _trend(records: list[BuildRecord], t: Translator) -> str:
    """Inline SVG line of the quarantined share, build by build (no text inside to clip:
    its values are in the table below; each point has a tooltip)."""
    if len(records) < 2:
        return ""
    width, height, pad = 640, 120, 8
    top = max(max(r.share for r in records), 0.01)
    step = (width - 2 * pad) / (len(records) - 1)
    points = [(pad + i * step, height - pad - (r.share / top) * (height - 2 * pad))
              for i, r in enumerate(records)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#c0504d"><title>'
        f"{esc(r.generated_at[:19].replace('T', ' '))} · {percent(r.share)}</title></circle>"
        for (x, y), r in zip(points, records, strict=True))
    label = t.gettext("Quarantined share per build, oldest on the left (highest: {top}).").format(
        top=percent(max(r.share for r in records)))
    return (f'<figure><svg viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px" role="img" aria-label="{esc(label)}">'
            f'<rect width="{width}" height="{height}" fill="#f6f8fa"/>'
            f'<polyline points="{line}" fill="none" stroke="#c0504d" stroke-width="2"/>'
            f"{dots}</svg><figcaption>{esc(label)}</figcaption></figure>")


def render_index(records: list[BuildRecord], t: Translator, generated_at: dt.datetime) -> str:
    _ = t.gettext
    rows = [(link(r.page, r.generated_at[:19].replace("T", " ") + " UTC"),
             esc(r.as_of or "—"), esc(", ".join(f"#{i}" for i in r.export_ids) or "—"),
             number(r.rows_in), number(r.quarantined), share_bar(r.share), percent(r.share))
            for r in reversed(records)]
    intro = _("One page per build, kept; the newest is listed first.")
    body = (heading(1, _("hireloop data quality: every build"))
            + f"<p>{esc(intro)}</p>"
            + _trend(records, t)
            + table([_("generated at"), _("as-of date"), _("exports covered"), _("rows in"),
                     _("quarantined"), "", _("share")], rows,
                    numeric=[False, False, False, True, True, False, True],
                    raw_html=[True] * 7))
    return document(t, _("hireloop data quality: every build"), body, generated_at)


def write_index(folder: Path, t: Translator, generated_at: dt.datetime) -> Path:
    path = Path(folder) / INDEX_NAME
    path.write_text(render_index(read_records(folder), t, generated_at), encoding="utf-8")
    return path
