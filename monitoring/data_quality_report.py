"""The data-quality summary an HR data steward reads: what came in, what was held back, why.

Per raw table: rows in, rows clean, rows quarantined by reason, whether every row is
accounted for (raw = clean + quarantined), and the descriptive fields voided in rows that
were kept (quarantine.field_defects: the field emptied, the row staged). The HTML page names
the exports it covers and their as-of date, explains each reason in plain words with what to
fix in the HR system (for `invalid_value`, the allowed values of each column), lists the
voided fields per column and reason beside what the column accepts, shows a few quarantined
rows (pseudonymised keys; values of personal columns are redacted by staging, values that
look personal here), the failing Great Expectations checks of the latest run with what each
rule does to its rows, and links the Data Docs. Its words come from the message catalog
(monitoring.i18n), in English or Chinese. Read from the built store only.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hris.contract import RAW_TABLES
from hris.exports import latest_as_of
from hris.personal_values import REDACTED, looks_personal
from ml.datasets import read_frame
from monitoring.data_quality.rules import QUARANTINE, VOID, VOID_REASONS, RuleSpec, load_rules
from monitoring.hr_page import (
    document,
    esc,
    generated_line,
    heading,
    link,
    number,
    percent,
    share_bar,
    table,
)
from monitoring.i18n import N_, Translator, translator

# Plain words for each reject reason: what it means and what the HR system should fix
# (msgids of the catalog: translated where they are shown).
REASONS: dict[str, tuple[str, str]] = {
    "missing_key": (N_("The row has no id."), N_("Fill in the record's id in the HR system.")),
    "exact_duplicate": (N_("The same row was exported twice."),
                        N_("Nothing is lost; remove the repeat at the source if it recurs.")),
    "duplicate_key": (N_("Two different rows share one id; the first is kept."),
                      N_("Correct the id of the later record.")),
    "near_duplicate": (N_("The same interview (candidate, round, interviewer, date) is "
                          "recorded under two ids; the lowest id is kept."),
                       N_("Delete the duplicate interview record.")),
    "missing_value": (N_("A required field is empty."), N_("Complete the field.")),
    "unparseable_value": (N_("A date, number or yes/no value the row needs cannot be read "
                             "(e.g. '31/02/2024', 'n/a')."),
                          N_("Enter the value as an ISO date or a number.")),
    "out_of_range": (N_("A value is outside its scale (a score of 11 on 0–10, a negative "
                        "KPI value, an end before a start)."), N_("Correct the value.")),
    "invalid_value": (N_("A value is not one of the allowed options."),
                      N_("Choose one of the allowed values listed below, or map the HR "
                         "system's own value to one of them in an import profile.")),
    "future_date": (N_("A date lies after the export's date."), N_("Correct the date.")),
    "interview_after_hire": (N_("An interview is dated after the hire date of the employee "
                                "the candidate became (one on the hire date is allowed). An "
                                "application made after the hire date, such as a "
                                "re-application while employed, is not checked."),
                             N_("Check the interview date, the candidate's employee link or "
                                "the hire date.")),
    "review_before_hire": (N_("A performance review period starts before the hire date."),
                           N_("Check whether the review belongs to this employee.")),
    "orphan": (N_("The row refers to a record that is not in the export (e.g. an interview "
                  "of an unknown candidate)."),
               N_("Export the missing record or fix the reference.")),
    "parent_quarantined": (N_("The row belongs to a record that was itself quarantined; it "
                              "is released with it once that record is fixed."),
                           N_("Fix the parent record.")),
}
# raw._exports.kind, as the page names it
KINDS = {"import": N_("HR system export"), "simulator": N_("simulated (sandbox)")}
# monitoring.dq_results.policy: what a failing raw rule does to the rows it counts
POLICIES = {QUARANTINE: N_("row quarantined"), VOID: N_("field voided, row kept")}
SAMPLE_ROWS = 5
TOP_VALUES = 5


@dataclass
class DataQualitySummary:
    tables: pd.DataFrame  # table, rows_in, clean, quarantined, conserved, <reason>...
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)  # reason -> rows
    checks: pd.DataFrame | None = None  # failing expectations of the latest run, if any
    # raw._exports: export_id, kind, as_of_date, loaded_at (every export the store holds)
    exports: pd.DataFrame | None = None
    as_of: dt.date | None = None  # the as-of date in force
    # invalid_value rows per table, column and value (most seen first)
    invalid_values: pd.DataFrame | None = None
    # quarantine.field_defects per table, column, reason and value (value only for
    # vocabulary columns): fields = defects recorded, kept = of them in rows staged
    field_defects: pd.DataFrame | None = None

    @property
    def export_ids(self) -> list[int]:
        if self.exports is None or not len(self.exports):
            return []
        return [int(i) for i in self.exports["export_id"]]

    @property
    def voided(self) -> int:
        """Fields voided, every table (each a field of a raw row, recorded once)."""
        return int(self.tables["voided"].sum()) if "voided" in self.tables else 0

    @property
    def quarantined_share(self) -> float:
        rows_in = int(self.tables["rows_in"].sum())
        return int(self.tables["quarantined"].sum()) / rows_in if rows_in else 0.0


def _exists(conn, relation: str) -> bool:
    return read_frame(conn, "SELECT to_regclass(%s) IS NOT NULL AS ok", [relation])["ok"].iloc[0]


def _key_text(key: tuple[str, ...]) -> str:
    return " || ' / ' || ".join(f"coalesce({k}::text, '∅')" for k in key)


def summarise_data_quality(conn) -> DataQualitySummary:
    """Counts per table and reason, samples per reason, failing checks, the exports covered
    and their as-of (psycopg2 conn)."""
    rows, counts, samples, invalid = [], [], [], []
    for name, table_spec in RAW_TABLES.items():
        raw = read_frame(conn, f"SELECT count(*) AS n FROM raw.{name}")["n"].iloc[0]
        clean = read_frame(conn, f"SELECT count(*) AS n FROM staging.stg_hris__{name}")["n"].iloc[0]
        q = f"quarantine.quarantine_{name}"
        by_reason = read_frame(conn, f"SELECT reject_reason AS reason, count(*) AS n FROM {q} "
                                 "GROUP BY 1")
        quarantined = int(by_reason["n"].sum())
        rows.append((name, int(raw), int(clean), quarantined, raw == clean + quarantined))
        counts += [(name, r.reason, int(r.n)) for r in by_reason.itertuples(index=False)]
        samples.append(read_frame(conn, f"""
            SELECT %s AS "table", reject_reason AS reason, {_key_text(table_spec.key)} AS key,
                   reject_column AS "column", reject_value AS value
            FROM (SELECT *, row_number() OVER (PARTITION BY reject_reason
                                               ORDER BY _loaded_at, _dup_seq) AS k
                  FROM {q}) s
            WHERE k <= {SAMPLE_ROWS}""", [name]))
        invalid.append(read_frame(conn, f"""
            SELECT %s AS "table", reject_column AS "column", reject_value AS value,
                   count(*) AS rows
            FROM {q} WHERE reject_reason = 'invalid_value'
            GROUP BY 1, 2, 3""", [name]))
    tables = pd.DataFrame(rows, columns=["table", "rows_in", "clean", "quarantined",
                                         "conserved"])
    wide = pd.DataFrame(counts, columns=["table", "reason", "n"]).pivot_table(
        index="table", columns="reason", values="n", aggfunc="sum", fill_value=0)
    ordered = [r for r in REASONS if r in wide.columns]
    tables = tables.merge(wide[ordered].reset_index(), on="table", how="left")
    tables[ordered] = tables[ordered].fillna(0).astype(int)
    defects = _field_defects(conn)
    per_table = (defects.groupby("table")["fields"].sum() if defects is not None
                 else pd.Series(dtype=int))
    tables.insert(tables.columns.get_loc("conserved") + 1, "voided",
                  [int(per_table.get(n, 0)) for n in tables["table"]])
    sample_frame = pd.concat(samples, ignore_index=True)
    invalid_frame = pd.concat(invalid, ignore_index=True).sort_values(
        ["table", "column", "rows"], ascending=[True, True, False], ignore_index=True)
    return DataQualitySummary(
        tables=tables,
        samples={r: g.drop(columns="reason") for r, g in sample_frame.groupby("reason")},
        checks=failing_checks(conn),
        exports=_exports(conn),
        as_of=_as_of(conn),
        invalid_values=invalid_frame,
        field_defects=defects,
    )


def _field_defects(conn) -> pd.DataFrame | None:
    """quarantine.field_defects counted per table, column, reason and value, most seen
    first (None on a store built before field defects existed)."""
    if not _exists(conn, "quarantine.field_defects"):
        return None
    frame = read_frame(conn, """
        SELECT table_name AS "table", column_name AS "column", reason, value,
               count(*) AS fields, count(*) FILTER (WHERE row_staged) AS kept
        FROM quarantine.field_defects GROUP BY 1, 2, 3, 4""")
    order = {name: i for i, name in enumerate(RAW_TABLES)}
    frame["_t"] = frame["table"].map(order)
    return frame.sort_values(["_t", "column", "reason", "fields", "value"],
                             ascending=[True, True, True, False, True],
                             ignore_index=True).drop(columns="_t")


def _exports(conn) -> pd.DataFrame | None:
    """Every export the store holds (raw._exports), oldest first; no source path (it may
    name a person's folder)."""
    if not _exists(conn, "raw._exports"):
        return None
    return read_frame(conn, "SELECT export_id, kind, as_of_date, loaded_at FROM raw._exports "
                            "ORDER BY export_id")


def _as_of(conn) -> dt.date | None:
    with conn.cursor() as cur:
        return latest_as_of(cur)


def failing_checks(conn) -> pd.DataFrame | None:
    """Failing expectations of the latest validation run in monitoring.dq_results, with
    what each rule does to its rows (policy; NULL on a table made before the column)."""
    if not _exists(conn, "monitoring.dq_results"):
        return None
    has_policy = read_frame(conn, """
        SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'monitoring'
          AND table_name = 'dq_results' AND column_name = 'policy'""")["n"].iloc[0] > 0
    policy = "policy" if has_policy else "NULL::text"
    return read_frame(conn, f"""
        SELECT suite_kind AS checked, table_name AS "table", column_name AS "column",
               reason, {policy} AS policy, expectation, unexpected_count AS rows_failing,
               element_count AS rows_checked
        FROM monitoring.dq_results
        WHERE run_id = (SELECT run_id FROM monitoring.dq_results
                        ORDER BY validated_at DESC LIMIT 1)
          AND NOT success
        ORDER BY suite_kind, table_name, reason, column_name""")


def format_data_quality(summary: DataQualitySummary) -> str:
    """Per table: rows in, quarantined by reason, clean, fields voided; then the voided
    fields per table, column and reason (the terminal view; no value from the data)."""
    frame = summary.tables.copy()
    frame["conserved"] = frame["conserved"].map({True: "yes", False: "NO"})
    total_in, total_q = int(frame["rows_in"].sum()), int(frame["quarantined"].sum())
    text = (f"== Data quality: {total_q} of {total_in} raw rows quarantined, "
            "none lost (raw = clean + quarantined) ==\n" + frame.to_string(index=False))
    voided = voided_fields(summary)
    if len(voided):
        text += (f"\n\n== Fields voided (rows kept): {summary.voided} descriptive fields "
                 "emptied, their rows staged (quarantine.field_defects) ==\n"
                 + voided.to_string(index=False))
    return text


def voided_fields(summary: DataQualitySummary) -> pd.DataFrame:
    """Per table, column and reason: fields voided, and of them in rows kept (staged; a
    row another rule quarantined keeps its defect on record)."""
    frame = summary.field_defects
    columns = ["table", "column", "reason", "fields", "rows_kept"]
    if frame is None or not len(frame):
        return pd.DataFrame(columns=columns)
    out = (frame.groupby(["table", "column", "reason"], sort=False)[["fields", "kept"]]
           .sum().reset_index().rename(columns={"kept": "rows_kept"}))
    return out[columns].astype({"fields": int, "rows_kept": int})


def shown_value(value: object, t: Translator) -> str:
    """A value from the export as the page may show it: never one that looks personal."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "∅"
    if str(value) == REDACTED or looks_personal(value):
        return t.gettext("(hidden: personal data)")
    return str(value)


def _as_of_text(summary: DataQualitySummary, as_of: str | None) -> str:
    if as_of:
        return str(as_of)
    return summary.as_of.isoformat() if summary.as_of else "—"


def _header(summary: DataQualitySummary, t: Translator, as_of: str | None,
            generated_at: dt.datetime) -> str:
    _ = t.gettext
    ids = summary.export_ids
    covered = (_("Exports covered: {ids} (export ids of raw._exports).").format(
        ids=", ".join(f"#{i}" for i in ids)) if ids else _("No export is recorded yet."))
    as_of_line = _("As-of date: {date}").format(date=_as_of_text(summary, as_of))
    return (heading(1, _("hireloop data quality"))
            + f'<p class="meta">{generated_line(t, generated_at)} · {esc(as_of_line)} · '
              f"{esc(covered)}</p>")


def _headline(summary: DataQualitySummary, t: Translator) -> str:
    _ = t.gettext
    tables = summary.tables
    total_in, total_q = int(tables["rows_in"].sum()), int(tables["quarantined"].sum())
    lost = tables.loc[~tables["conserved"], "table"].tolist()
    parts = [_("{quarantined} of {rows} rows from the HR system were held back in "
               "quarantine ({share}).").format(quarantined=number(total_q),
                                               rows=number(total_in),
                                               share=percent(summary.quarantined_share))]
    parts.append(_("Every row is accounted for: rows in = clean + quarantined, in every table.")
                 if not lost else _("Rows unaccounted for in: {tables}.").format(
                     tables=", ".join(lost)))
    parts.append(_("Quarantined rows never reach a model; they are released automatically "
                   "once the HR system sends them corrected."))
    if summary.voided:
        parts.append(_("Besides, {fields} descriptive fields were voided: such a field is "
                       "left empty and its row kept (see “Fields voided (rows kept)”).").format(
                           fields=number(summary.voided)))
    return f"<p>{esc(' '.join(parts))}</p>"


def _exports_section(summary: DataQualitySummary, t: Translator) -> str:
    _ = t.gettext
    if summary.exports is None or not len(summary.exports):
        return ""
    rows = [(f"#{int(r.export_id)}", _(KINDS[r.kind]) if r.kind in KINDS else r.kind,
             r.as_of_date,
             pd.Timestamp(r.loaded_at).strftime("%Y-%m-%d %H:%M UTC")
             if pd.notna(r.loaded_at) else "—")
            for r in summary.exports.itertuples(index=False)]
    return (heading(2, _("Exports this page covers"))
            + table([_("export id"), _("kind"), _("as-of date"), _("loaded at")], rows))


def _bars(summary: DataQualitySummary, t: Translator) -> str:
    """Share of each table's rows quarantined: CSS bars with their labels as text beside
    them (nothing to clip, whatever the length of a name or a number)."""
    _ = t.gettext
    rows = []
    for r in summary.tables.itertuples(index=False):
        share = r.quarantined / r.rows_in if r.rows_in else 0.0
        rows.append((r.table, share_bar(share), percent(share),
                     _("{quarantined} of {rows}").format(quarantined=number(r.quarantined),
                                                         rows=number(r.rows_in))))
    return (heading(2, _("Share of rows quarantined per table"))
            + table([_("table"), "", _("share"), _("rows quarantined")], rows,
                    numeric=[False, False, True, True], raw_html=[False, True, False, False]))


def _counting_note(t: Translator) -> str:
    _ = t.gettext
    note = _("How the counts are made: the quarantine counts each row once, under the first "
             "rule it breaks (rules are tried in the order of the reasons below). The Great "
             "Expectations checks count every rule a row breaks, so a row with a bad date and "
             "a bad score is one quarantined row but two failing checks. The checks' totals "
             "can therefore be larger than the quarantine's; for each rule, the check counts "
             "at least the rows quarantined under it (parent_quarantined is a consequence, "
             "not a check). A voided field does not quarantine its row: the row counts as "
             "clean, and the field is counted under “fields voided”.")
    return f'<p class="note">{esc(note)}</p>'


def _per_table(summary: DataQualitySummary, t: Translator) -> str:
    _ = t.gettext
    tables = summary.tables
    reasons = [c for c in tables.columns if c in REASONS]
    headers = [_("table"), _("rows in"), _("clean"), _("quarantined"), _("accounted for"),
               _("fields voided"), *reasons]
    rows = [(r["table"], int(r["rows_in"]), int(r["clean"]), int(r["quarantined"]),
             _("yes") if r["conserved"] else _("NO"), int(r.get("voided", 0)),
             *(int(r[c]) for c in reasons))
            for _i, r in tables.iterrows()]
    numeric = [False, True, True, True, False, True, *([True] * len(reasons))]
    return (heading(2, _("Per table (each quarantined row counted once)"))
            + table(headers, rows, numeric=numeric))


def void_columns(rules: RuleSpec, reason: str) -> list[str]:
    """`table.column` of every void column a bad value voids for `reason` (from the spec:
    types -> unparseable_value, ranges -> out_of_range, vocab -> invalid_value)."""
    out = []
    for name, spec in rules.tables.items():
        for column in spec.void:
            carries = {"unparseable_value": column in spec.types,
                       "out_of_range": any(r.column == column for r in spec.ranges),
                       "invalid_value": column in spec.vocab}
            if carries.get(reason):
                out.append(f"{name}.{column}")
    return out


def accepted_text(rules: RuleSpec, table_name: str, column: str, reason: str,
                  t: Translator) -> str:
    """What `table.column` accepts, as the rule behind `reason` reads it (the spec's)."""
    _ = t.gettext
    spec = rules.tables.get(table_name)
    if spec is None:
        return "—"
    if reason == "invalid_value":
        return ", ".join(spec.allowed_values(column) or ()) or "—"
    if reason == "out_of_range":
        bounds = [r for r in spec.ranges if r.column == column]
        return "; ".join(_range_text(r.min, r.max) for r in bounds) or "—"
    kinds = {"number": N_("a number"), "date": N_("a date (YYYY-MM-DD)"),
             "bool": N_("yes or no")}
    kind = spec.types.get(column)
    return _(kinds[kind]) if kind in kinds else "—"


def _range_text(low: float | None, high: float | None) -> str:
    """A range rule as the page writes it: `0 – 10`, `≥ 0`, `≤ 5`."""
    if low is not None and high is not None:
        return f"{low:g} – {high:g}"
    if low is not None:
        return f"≥ {low:g}"
    return f"≤ {high:g}" if high is not None else "—"


def _voided_section(summary: DataQualitySummary, t: Translator, rules: RuleSpec) -> str:
    """Per table, column and reason: the fields voided, what the column accepts and the
    values found most often (vocabulary columns only; none that is or looks personal)."""
    _ = t.gettext
    frame = summary.field_defects
    if frame is None or not len(frame):
        return ""
    rows = []
    for (table_name, column, reason), group in frame.groupby(["table", "column", "reason"],
                                                            sort=False):
        values = group[group["value"].notna()]
        found = "; ".join(f"{shown_value(v.value, t)} ({number(int(v.fields))})"
                          for v in values.head(TOP_VALUES).itertuples(index=False))
        rows.append((f"{table_name}.{column}", f"<code>{esc(reason)}</code>",
                     int(group["fields"].sum()), int(group["kept"].sum()),
                     esc(accepted_text(rules, table_name, column, reason, t)),
                     esc(found or "—")))
    intro = _("A bad value in a descriptive field (one no label or required feature depends "
              "on) does not quarantine its row: only that field is left empty and the row is "
              "kept, with its scores and answers. Each voided field is recorded in "
              "quarantine.field_defects. A value listed here can be mapped to an allowed one "
              "in an import profile: the next build reads the mapping, with no re-import. "
              "Values of personal columns, and values that look personal, are never shown.")
    note = _("A defect in a row that another rule quarantined is counted too; that row is "
             "in quarantine, not kept (hence “in rows kept”).")
    headers = [_("column"), _("reason"), _("fields voided"), _("in rows kept"),
               _("what the column accepts"), _("values found (fields), most seen first")]
    return (heading(2, _("Fields voided (rows kept)")) + f"<p>{esc(intro)}</p>"
            + table(headers, rows, numeric=[False, False, True, True, False, False],
                    raw_html=[False, True, False, False, True, True])
            + f'<p class="note">{esc(note)}</p>')


def _invalid_values(summary: DataQualitySummary, t: Translator, rules: RuleSpec) -> str:
    """Per column with invalid values: its allowed values and the values found."""
    _ = t.gettext
    frame = summary.invalid_values
    if frame is None or not len(frame):
        return ""
    rows = []
    for (table_name, column), group in frame.groupby(["table", "column"], sort=True):
        allowed = rules.allowed_values(table_name, column) or ()
        found = "; ".join(f"{shown_value(v.value, t)} ({number(int(v.rows))})"
                          for v in group.head(TOP_VALUES).itertuples(index=False))
        rows.append((f"{table_name}.{column}", ", ".join(allowed) or "—", found,
                     int(group["rows"].sum())))
    title = _("invalid_value: allowed values per column")
    return (heading(3, title)
            + table([_("column"), _("allowed values"), _("values found (rows), most seen first"),
                     _("rows")], rows, numeric=[False, False, False, True]))


def _reasons(summary: DataQualitySummary, t: Translator, rules: RuleSpec,
             seen: list[str]) -> str:
    _ = t.gettext
    tables = summary.tables
    rows = [(f"<code>{esc(r)}</code>", number(int(tables[r].sum())),
             esc(_reason_text(rules, r, t)), esc(_(REASONS[r][1]))) for r in seen]
    return (heading(2, _("Why rows were quarantined"))
            + table([_("reason"), _("rows"), _("what it means"), _("what to fix")], rows,
                    numeric=[False, True, False, False], raw_html=[True] * 4)
            + (_invalid_values(summary, t, rules) if "invalid_value" in seen else ""))


def _reason_text(rules: RuleSpec, reason: str, t: Translator) -> str:
    """What a reason means; for the reasons a descriptive field voids instead, the fields
    it does not quarantine (from the spec's `void`)."""
    _ = t.gettext
    text = _(REASONS[reason][0])
    columns = void_columns(rules, reason) if reason in VOID_REASONS else []
    if columns:
        text += " " + _("Not in descriptive fields ({columns}): there a bad value voids only "
                        "the field and keeps the row.").format(columns=", ".join(columns))
    return text


def _examples(summary: DataQualitySummary, t: Translator, seen: list[str]) -> str:
    _ = t.gettext
    parts = [heading(2, _("Examples (ids are pseudonyms)"))]
    for reason in seen:
        if reason not in summary.samples:
            continue
        sample = summary.samples[reason]
        rows = [(r.table, r.key, r.column if isinstance(r.column, str) else "—",
                 shown_value(r.value, t)) for r in sample.itertuples(index=False)]
        parts.append(f"<h3><code>{esc(reason)}</code></h3>"
                     + table([_("table"), _("key"), _("column"), _("value")], rows))
    return "".join(parts)


def _checks(summary: DataQualitySummary, t: Translator) -> str:
    _ = t.gettext
    if summary.checks is None:
        return ""
    intro = _("Checks on raw measure the defects above: the rows a rule counts are "
              "quarantined, or, for a descriptive field, only the field is voided and the row "
              "kept (column “policy”). A failing check on staging or the feature_store is a "
              "real problem and stops training. Each check counts every row that breaks its "
              "rule, including rows quarantined under an earlier rule.")
    headers = [_("checked"), _("table"), _("column"), _("reason"), _("policy"),
               _("expectation"), _("rows failing"), _("rows checked")]
    rows = []
    for r in summary.checks.itertuples(index=False):
        cells = [None if pd.isna(v) else (int(v) if isinstance(v, int | float) else v)
                 for v in r]
        cells[4] = _(POLICIES[r.policy]) if r.policy in POLICIES else "—"
        rows.append(tuple(cells))
    none = _("none")
    return (heading(2, _("Great Expectations: failing checks of the latest run"))
            + f"<p>{esc(intro)}</p>"
            + (table(headers, rows, numeric=[False] * 6 + [True, True]) if rows
               else f"<p>{esc(none)}</p>"))


def render_data_quality_page(summary: DataQualitySummary, t: Translator,
                             generated_at: dt.datetime, page_dir: Path,
                             data_docs: Path | None = None, as_of: str | None = None,
                             history_index: Path | None = None,
                             rules: RuleSpec | None = None) -> str:
    """The steward's page as HTML (links relative to `page_dir`, where it will be written)."""
    _ = t.gettext
    rules = rules or load_rules()
    tables = summary.tables
    seen = [r for r in REASONS if r in tables.columns and tables[r].sum() > 0]
    sections = [_header(summary, t, as_of, generated_at), _headline(summary, t),
                _exports_section(summary, t), _bars(summary, t), _counting_note(t),
                _per_table(summary, t)]
    if seen:
        sections.append(_reasons(summary, t, rules, seen))
    sections.append(_voided_section(summary, t, rules))
    if seen:
        sections.append(_examples(summary, t, seen))
    sections.append(_checks(summary, t))
    links = []
    if history_index is not None:
        links.append(link(_relative(history_index, page_dir),
                          _("Every build, with the trend of the quarantined share")))
    if data_docs is not None:
        links.append(link(_relative(data_docs, page_dir),
                          _("Every check in detail: Great Expectations Data Docs"))
                     + " " + esc(_("(a tool page, in English)")))
    if links:
        sections.append("<p>" + "<br>".join(links) + "</p>")
    return document(t, _("hireloop data quality"), "".join(sections), generated_at)


def _relative(target: Path, page_dir: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), Path(page_dir).resolve())).as_posix()


def write_data_quality_report(summary: DataQualitySummary, path: Path,
                              data_docs: Path | None = None, as_of: str | None = None,
                              language: str = "en", generated_at: dt.datetime | None = None,
                              history_index: Path | None = None) -> Path:
    """Write the steward's HTML page in `language` (en | zh); returns its path."""
    path = Path(path)
    page = render_data_quality_page(
        summary, translator(language), generated_at or dt.datetime.now(dt.UTC), path.parent,
        data_docs=data_docs, as_of=as_of, history_index=history_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
