"""The HR lead's monitoring page per quarter: drift share and the champion's quality by role
family, estimates marked as estimates; one page per as-of and model version, and an index.

`reports/monitoring/<as-of>_v<version>.html`, self-contained (monitoring.hr_page: inline
style, no outside address), in the page language of the catalog (monitoring.i18n). A re-run
for the same as-of and version replaces its page; a small JSON record (figures only) beside
each page feeds the index, newest first, so an index in another language is rebuilt from the
same files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from monitoring.hr_page import document, esc, heading, link, number, percent, share_bar, table
from monitoring.i18n import N_, Translator

PAGES_DIR = "monitoring"
INDEX_NAME = "index.html"
KIND_LABELS = {"realised": N_("realised"), "early": N_("early (reviews so far)"),
               "estimate": N_("ESTIMATE (no labels yet)")}


@dataclass(frozen=True)
class PageRecord:
    """What the index shows of one page (figures only)."""

    page: str
    as_of: str
    model_version: str
    max_drift_share: float | None
    newest_realised_cohort: str | None
    newest_realised_auc: float | None
    reference_auc: float | None


def page_name(as_of: str, model_version: str) -> str:
    return f"{as_of}_v{model_version}.html"


def _figure(value) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.3f}")


def _drift_section(drift: pd.DataFrame, t: Translator) -> str:
    _ = t.gettext
    if not len(drift):
        return f"<p>{esc(_('No drift run for this as-of date yet.'))}</p>"
    rows = [(esc(r["role_family"]), share_bar(float(r["drift_share"])),
             percent(float(r["drift_share"])), number(int(r["n_current"])),
             esc(_("yes") if r["prediction_drifted"] else _("no")),
             esc(_("alarm") if r["alarm"] else _("quiet")))
            for _i, r in drift.sort_values("role_family").iterrows()]
    return table([_("role family"), "", _("drift share"), _("applicants compared"),
                  _("score drifted"), _("verdict")], rows,
                 numeric=[False, False, True, True, False, False], raw_html=[True] * 6)


def _quality_section(quality: pd.DataFrame, t: Translator) -> str:
    _ = t.gettext
    if not len(quality):
        return f"<p>{esc(_('No cohort hired after the champion was trained yet.'))}</p>"
    order = {k: i for i, k in enumerate(KIND_LABELS)}
    out = []
    for family, g in quality.groupby("role_family", sort=True):
        g = g.assign(_o=g["kind"].map(order)).sort_values(["cohort_quarter", "_o"])
        rows = []
        for _i, r in g.iterrows():
            label = esc(_(KIND_LABELS[r["kind"]]))
            if r["kind"] == "estimate":
                label = f"<strong>{label}</strong>"
            rows.append((esc(r["cohort_quarter"]), label, number(int(r["n"])),
                         _figure(r["auc"]), _figure(r["reference_auc"]),
                         _figure(r["calibration_error"]), _figure(r["mean_predicted"]),
                         _figure(r["mean_observed"])))
        title = _("all role families") if family == "all" else str(family)
        out.append(heading(3, title) + table(
            [_("hire cohort"), _("figures"), _("hires"), _("AUC"), _("AUC at training"),
             _("calibration error"), _("expected"), _("observed")], rows,
            numeric=[False, False, True, True, True, True, True, True], raw_html=[True] * 8))
    return "".join(out)


def render_page(as_of: str, model_version: str, drift: pd.DataFrame, quality: pd.DataFrame,
                t: Translator, generated_at: dt.datetime) -> str:
    """The page of one as-of date and champion version."""
    _ = t.gettext
    title = _("hireloop monitoring as of {as_of}").format(as_of=as_of)
    notes = [_("Realised figures come from hires whose first year of reviews is complete. "
               "Early figures compare the KPI attainment of the reviews so far with the "
               "attainment the model expected. Estimates are computed from the model's own "
               "probabilities, before any label exists: they are estimates, not results, "
               "and they assume the world has not changed."),
             _("Expected and observed: the met-KPI rate (realised), the attainment so far "
               "(early) and the expected met-KPI rate (estimate).")]
    version = _("Champion version {version}").format(version=model_version)
    body = (heading(1, title) + f'<p class="meta">{esc(version)}</p>'
            + heading(2, _("Feature drift of the newest decided quarter"))
            + _drift_section(drift, t)
            + heading(2, _("The champion's quality by role family and hire cohort"))
            + "".join(f'<p class="note">{esc(n)}</p>' for n in notes)
            + _quality_section(quality, t))
    return document(t, title, body, generated_at)


def record_for(as_of: str, model_version: str, drift: pd.DataFrame, quality: pd.DataFrame
               ) -> PageRecord:
    realised = quality[(quality["kind"] == "realised") & (quality["role_family"] == "all")] \
        if len(quality) else quality
    newest = realised.sort_values("cohort_quarter").iloc[-1] if len(realised) else None

    def plain(value):
        return None if value is None or pd.isna(value) else float(value)

    return PageRecord(page_name(as_of, model_version), as_of, model_version,
                      plain(drift["drift_share"].max()) if len(drift) else None,
                      None if newest is None else str(newest["cohort_quarter"]),
                      None if newest is None else plain(newest["auc"]),
                      None if newest is None else plain(newest["reference_auc"]))


def read_records(folder: Path) -> list[PageRecord]:
    """Every page's record under `folder`, by as-of then version (unreadable ones skipped)."""
    records = []
    for path in sorted(Path(folder).glob("*_v*.json")):
        try:
            records.append(PageRecord(**json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, TypeError):
            continue
    return sorted(records, key=lambda r: (r.as_of, r.model_version))


def render_index(records: list[PageRecord], t: Translator, generated_at: dt.datetime) -> str:
    _ = t.gettext
    rows = [(link(r.page, r.as_of), esc(r.model_version),
             "—" if r.max_drift_share is None else percent(r.max_drift_share),
             esc(r.newest_realised_cohort or "—"), _figure(r.newest_realised_auc),
             _figure(r.reference_auc)) for r in reversed(records)]
    title = _("hireloop monitoring: every quarter")
    body = (heading(1, title)
            + f"<p>{esc(_('One page per as-of date and champion version; the newest first.'))}</p>"
            + table([_("as-of date"), _("champion version"), _("highest drift share"),
                     _("newest realised cohort"), _("its AUC"), _("AUC at training")], rows,
                    numeric=[False, False, True, False, True, True], raw_html=[True] * 6))
    return document(t, title, body, generated_at)


def write_page(reports_dir: Path, as_of: str, model_version: str, drift: pd.DataFrame,
               quality: pd.DataFrame, t: Translator, generated_at: dt.datetime) -> Path:
    """Write (or replace) the page of this as-of and version, its record and the index."""
    folder = Path(reports_dir) / PAGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / page_name(as_of, model_version)
    path.write_text(render_page(as_of, model_version, drift, quality, t, generated_at),
                    encoding="utf-8")
    record = record_for(as_of, model_version, drift, quality)
    path.with_suffix(".json").write_text(json.dumps(asdict(record), indent=1),
                                         encoding="utf-8")
    (folder / INDEX_NAME).write_text(render_index(read_records(folder), t, generated_at),
                                     encoding="utf-8")
    return path


def read_drift_summary(cursor, as_of: str, model_version: str) -> pd.DataFrame:
    """This as-of/version's rows of monitoring.feature_drift_summary (none: empty)."""
    from monitoring.drift_store import ensure_schema

    ensure_schema(cursor)
    cursor.execute("SELECT role_family, drift_share, n_current, prediction_drifted, alarm "
                   "FROM monitoring.feature_drift_summary WHERE as_of = %s AND "
                   "model_version = %s ORDER BY role_family", [as_of, model_version])
    return pd.DataFrame(cursor.fetchall(), columns=["role_family", "drift_share", "n_current",
                                                    "prediction_drifted", "alarm"])
