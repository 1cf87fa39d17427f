"""The data-quality summary an HR data steward reads: what came in, what was held back, why.

Per raw table: rows in, rows clean, rows quarantined by reason, and whether every row is
accounted for (raw = clean + quarantined). The HTML page explains each reason in plain
words with what to fix in the HR system, shows a few quarantined rows (pseudonymised
keys; personal values are already redacted by staging), the failing Great Expectations
checks of the latest run, and links the Data Docs. Read from the built store only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hris.contract import RAW_TABLES
from ml.datasets import read_frame

# Plain words for each reject reason: what it means and what the HR system should fix.
REASONS: dict[str, tuple[str, str]] = {
    "missing_key": ("The row has no id.", "Fill in the record's id in the HR system."),
    "exact_duplicate": ("The same row was exported twice.",
                        "Nothing is lost; remove the repeat at the source if it recurs."),
    "duplicate_key": ("Two different rows share one id; the first is kept.",
                      "Correct the id of the later record."),
    "near_duplicate": ("The same interview (candidate, round, interviewer, date) is recorded "
                       "under two ids; the lowest id is kept.",
                       "Delete the duplicate interview record."),
    "missing_value": ("A required field is empty.", "Complete the field."),
    "unparseable_value": ("A date or number cannot be read (e.g. '31/02/2024', 'n/a').",
                          "Enter the value as an ISO date or a number."),
    "out_of_range": ("A value is outside its scale (a score of 11 on 0–10, a negative "
                     "KPI value, an end before a start).", "Correct the value."),
    "invalid_value": ("A value is not one of the allowed options.",
                      "Choose one of the allowed values."),
    "future_date": ("A date lies after the export's date.", "Correct the date."),
    "interview_after_hire": ("An interview is dated after the candidate's hire date.",
                             "Check the interview date or the hire date."),
    "review_before_hire": ("A performance review period starts before the hire date.",
                           "Check whether the review belongs to this employee."),
    "orphan": ("The row refers to a record that is not in the export (e.g. an interview "
               "of an unknown candidate).", "Export the missing record or fix the reference."),
    "parent_quarantined": ("The row belongs to a record that was itself quarantined; it is "
                           "released with it once that record is fixed.",
                           "Fix the parent record."),
}
SAMPLE_ROWS = 5


@dataclass
class DataQualitySummary:
    tables: pd.DataFrame  # table, rows_in, clean, quarantined, conserved, <reason>...
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)  # reason -> rows
    checks: pd.DataFrame | None = None  # failing expectations of the latest run, if any


def _exists(conn, relation: str) -> bool:
    return read_frame(conn, "SELECT to_regclass(%s) IS NOT NULL AS ok", [relation])["ok"].iloc[0]


def _key_text(key: tuple[str, ...]) -> str:
    return " || ' / ' || ".join(f"coalesce({k}::text, '∅')" for k in key)


def summarise_data_quality(conn) -> DataQualitySummary:
    """Counts per table and reason, samples per reason, failing checks (psycopg2 conn)."""
    rows, counts, samples = [], [], []
    for name, table in RAW_TABLES.items():
        raw = read_frame(conn, f"SELECT count(*) AS n FROM raw.{name}")["n"].iloc[0]
        clean = read_frame(conn, f"SELECT count(*) AS n FROM staging.stg_hris__{name}")["n"].iloc[0]
        q = f"quarantine.quarantine_{name}"
        by_reason = read_frame(conn, f"SELECT reject_reason AS reason, count(*) AS n FROM {q} "
                                 "GROUP BY 1")
        quarantined = int(by_reason["n"].sum())
        rows.append((name, int(raw), int(clean), quarantined, raw == clean + quarantined))
        counts += [(name, r.reason, int(r.n)) for r in by_reason.itertuples(index=False)]
        samples.append(read_frame(conn, f"""
            SELECT %s AS "table", reject_reason AS reason, {_key_text(table.key)} AS key,
                   reject_column AS "column", reject_value AS value
            FROM (SELECT *, row_number() OVER (PARTITION BY reject_reason
                                               ORDER BY _loaded_at, _dup_seq) AS k
                  FROM {q}) s
            WHERE k <= {SAMPLE_ROWS}""", [name]))
    tables = pd.DataFrame(rows, columns=["table", "rows_in", "clean", "quarantined",
                                         "conserved"])
    wide = pd.DataFrame(counts, columns=["table", "reason", "n"]).pivot_table(
        index="table", columns="reason", values="n", aggfunc="sum", fill_value=0)
    ordered = [r for r in REASONS if r in wide.columns]
    tables = tables.merge(wide[ordered].reset_index(), on="table", how="left")
    tables[ordered] = tables[ordered].fillna(0).astype(int)
    sample_frame = pd.concat(samples, ignore_index=True)
    return DataQualitySummary(
        tables=tables,
        samples={r: g.drop(columns="reason") for r, g in sample_frame.groupby("reason")},
        checks=_failing_checks(conn),
    )


def _failing_checks(conn) -> pd.DataFrame | None:
    """Failing expectations of the latest validation run in monitoring.dq_results."""
    if not _exists(conn, "monitoring.dq_results"):
        return None
    return read_frame(conn, """
        SELECT suite_kind AS checked, table_name AS "table", column_name AS "column",
               reason, expectation, unexpected_count AS rows_failing,
               element_count AS rows_checked
        FROM monitoring.dq_results
        WHERE run_id = (SELECT run_id FROM monitoring.dq_results
                        ORDER BY validated_at DESC LIMIT 1)
          AND NOT success
        ORDER BY suite_kind, table_name, reason, column_name""")


def format_data_quality(summary: DataQualitySummary) -> str:
    """Per table: rows in, quarantined by reason, clean (the terminal view)."""
    frame = summary.tables.copy()
    frame["conserved"] = frame["conserved"].map({True: "yes", False: "NO"})
    total_in, total_q = int(frame["rows_in"].sum()), int(frame["quarantined"].sum())
    return (f"== Data quality: {total_q} of {total_in} raw rows quarantined, "
            "none lost (raw = clean + quarantined) ==\n" + frame.to_string(index=False))


def _bars(tables: pd.DataFrame) -> str:
    """Inline SVG: share of each table's rows quarantined."""
    width, row_h = 420, 22
    parts = [f'<svg width="{width + 260}" height="{row_h * len(tables) + 4}" role="img">']
    for i, r in enumerate(tables.itertuples(index=False)):
        share = r.quarantined / r.rows_in if r.rows_in else 0.0
        y = i * row_h + 2
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{html.escape(r.table)}</text>'
            f'<rect x="150" y="{y}" width="{width}" height="16" fill="#e8f0e8"/>'
            f'<rect x="150" y="{y}" width="{max(share * width, 0.5 if share else 0):.1f}" '
            f'height="16" fill="#c0504d"/>'
            f'<text x="{150 + width + 8}" y="{y + 15}" font-size="13">{share:.1%} '
            f'({r.quarantined} of {r.rows_in})</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="t", escape=True)


def write_data_quality_report(summary: DataQualitySummary, path: Path,
                              data_docs: Path | None = None, as_of: str | None = None) -> Path:
    """Write the steward's HTML page; returns its path."""
    tables = summary.tables
    total_in, total_q = int(tables["rows_in"].sum()), int(tables["quarantined"].sum())
    lost = tables.loc[~tables["conserved"], "table"].tolist()
    head = (f"<p><b>{total_q:,}</b> of <b>{total_in:,}</b> rows from the HR system were held "
            "back in quarantine" + (f" (export of {html.escape(as_of)})" if as_of else "")
            + ". " + ("Every row is accounted for: rows in = clean + quarantined, in every "
                      "table." if not lost else
                      f"<b>Rows unaccounted for in: {html.escape(', '.join(lost))}</b>.")
            + " Quarantined rows never reach a model; they are released automatically once "
              "the HR system sends them corrected.</p>")
    seen = [r for r in REASONS if r in tables.columns and tables[r].sum() > 0]
    glossary = "".join(
        f"<tr><td><code>{r}</code></td><td>{int(tables[r].sum()):,}</td>"
        f"<td>{html.escape(REASONS[r][0])}</td><td>{html.escape(REASONS[r][1])}</td></tr>"
        for r in seen)
    sections = [
        f"<h1>hireloop data quality</h1>{head}",
        "<h2>Share of rows quarantined per table</h2>" + _bars(tables),
        "<h2>Per table</h2>" + _table_html(tables),
    ]
    if seen:
        sections.append(
            "<h2>Why rows were quarantined</h2><table class='t'><tr><th>reason</th>"
            "<th>rows</th><th>what it means</th><th>what to fix</th></tr>"
            f"{glossary}</table>")
        sections.append("<h2>Examples (ids are pseudonyms)</h2>" + "".join(
            f"<h3><code>{r}</code></h3>" + _table_html(summary.samples[r])
            for r in seen if r in summary.samples))
    if summary.checks is not None:
        sections.append("<h2>Great Expectations: failing checks of the latest run</h2>"
                        "<p>Checks on <code>raw</code> measure the defects above (those rows "
                        "are quarantined); a failing check on <code>staging</code> or the "
                        "<code>feature_store</code> is a real problem and stops training.</p>" + (
            _table_html(summary.checks) if len(summary.checks) else "<p>none</p>"))
    if data_docs is not None:
        sections.append(f"<p>Every check in detail: <a href='{data_docs.resolve().as_uri()}'>"
                        "Great Expectations Data Docs</a>.</p>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table.t{border-collapse:collapse;margin:.5em 0}"
             ".t td,.t th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>hireloop data "
                    f"quality</title><style>{style}</style></head><body>"
                    + "".join(sections) + "</body></html>", encoding="utf-8")
    return path
