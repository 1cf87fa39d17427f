"""The HR leads' feedback page, one per quarter, kept, with an index of every one.

`write_feedback_report` renders monitoring.feedback's tables for every role family into one
self-contained page (inline style and SVG, nothing loaded from anywhere), in the platform's
language, dated, under `<reports>/feedback/<quarter>_<generated-at>.html`; a JSON record of
its headline figures goes beside it, and `index.html` lists every page, newest first, rebuilt
from the records (so earlier pages stay listed, whatever language wrote them).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hris.calendar import quarter_of
from monitoring.feedback import (
    MIN_GROUP,
    FamilyFeedback,
    FeedbackData,
    KeyQuestion,
    families_of,
    family_feedback,
)
from monitoring.hr_page import document, esc, heading, link, number, percent, table
from monitoring.i18n import N_, Translator, translator
from monitoring.intervals import newcombe_difference
from monitoring.score_bands import BAND_LABELS
from monitoring.svg_charts import Bar, hbar_chart

FEEDBACK_DIR = "feedback"
INDEX_NAME = "index.html"
FAMILY_LABELS = {"sales": N_("sales"), "customer_service": N_("customer service"),
                 "rnd": N_("R&D"), "manufacturing": N_("manufacturing")}


def _family(t: Translator, family: str) -> str:
    return t.gettext(FAMILY_LABELS.get(family, family))


def _label(t: Translator, name: str) -> str:
    """A dimension or driver in the page language (the reasons' labels, monitoring.reason_text)."""
    return t.gettext(name.replace("_", " "))


def _points(share: float) -> str:
    return f"{share * 100:.1f}"


def _signed_points(share: float) -> str:
    return f"{share * 100:+.1f}"


def _p(text: str, css: str | None = None) -> str:
    """A paragraph of (escaped) text, of class `css` (hr_page's note, warn)."""
    return f'<p class="{css}">{esc(text)}</p>' if css else f"<p>{esc(text)}</p>"


def _share_or_dash(value: float | None) -> str:
    return "—" if value is None or value != value else percent(value)


# -- sections -------------------------------------------------------------------------------


def _key_question_section(t: Translator, questions: list[KeyQuestion]) -> str:
    _ = t.gettext
    out = [heading(3, _("Key questions: answered fully or not"))]
    if not questions:
        return out[0] + _p(_("No key question was asked of these hires."), "note")
    for q in questions:
        title = q.prompt_text or q.question_id
        out.append(f"<p><b>“{esc(title)}”</b> <span class=\"meta\">"
                   f"({esc(_label(t, q.dimension or ''))})</span></p>")
        out.append(_p(_key_question_sentence(t, q)))
        bars = []
        for name, rate, n in ((_("answered fully"), q.rate_full, q.n_full),
                              (_("not fully"), q.rate_not, q.n_not)):
            if rate is None:
                bars.append((name, [Bar(None, "—")]))
            else:
                bars.append((name, [Bar(rate.estimate, f"{percent(rate.estimate)} · n {n}",
                                        rate.low, rate.high)]))
        out.append(hbar_chart(bars, [_("met the KPI")],
                              _("Share meeting the KPI, with its 95 % interval.")))
        rows = [(name, number(n), _share_or_dash(r.estimate if r else None),
                 f"{percent(r.low)} – {percent(r.high)}" if r else "—",
                 _share_or_dash(att))
                for name, n, r, att in (
                    (_("answered fully"), q.n_full, q.rate_full, q.attainment_full),
                    (_("not fully"), q.n_not, q.rate_not, q.attainment_not))]
        out.append(table([_("answer"), _("hires"), _("met the KPI"), _("95 % interval"),
                          _("mean attainment")], rows, numeric=[False, True, True, True, True]))
    return "".join(out)


def _key_question_sentence(t: Translator, q: KeyQuestion) -> str:
    _ = t.gettext
    if not q.enough or q.difference is None:
        return _("Fewer than {n} hires on one side: no comparison yet.").format(n=MIN_GROUP)
    rates = _("Answered fully: {full} met the KPI (n = {n_full}, 95 % interval {full_low}–"
              "{full_high}); not fully: {not_} (n = {n_not}, {not_low}–{not_high}).").format(
        full=percent(q.rate_full.estimate), n_full=q.n_full, full_low=percent(q.rate_full.low),
        full_high=percent(q.rate_full.high), not_=percent(q.rate_not.estimate), n_not=q.n_not,
        not_low=percent(q.rate_not.low), not_high=percent(q.rate_not.high))
    d = q.difference
    bounds = {"low": _signed_points(d.low), "high": _signed_points(d.high)}
    if not q.claim:
        verdict = _("The 95 % interval of the difference, {low} to {high} percentage points, "
                    "includes zero: no claim either way.").format(**bounds)
    elif d.estimate > 0:
        lift = q.relative_lift
        verdict = _("Those who answered fully met the KPI {points} percentage points more "
                    "often (95 % interval {low} to {high}): {lift} more often.").format(
            points=_points(d.estimate), lift=percent(lift) if lift is not None else "—",
            **bounds)
    else:
        verdict = _("Those who answered fully met the KPI {points} percentage points less "
                    "often (95 % interval {low} to {high}).").format(
            points=_points(-d.estimate), **bounds)
    return f"{rates} {verdict}"


def _band_section(t: Translator, ff: FamilyFeedback) -> str:
    _ = t.gettext
    out = [heading(3, _("KPI attainment by the interviewer's score")),
           _p(_("Share of hires meeting the KPI by band of the interviewer's score of each "
                "dimension (0–10; bands ≥ 8, 6–8, < 6), hires in brackets. The last column "
                "compares the top band with the bottom one; where its interval includes "
                "zero the bands do not differ beyond chance."))]
    if ff.bands.empty:
        return "".join(out) + _p(_("No dimension scores for these hires."), "note")
    rows, chart = [], []
    for dim, g in ff.bands.groupby("dimension", sort=False):
        g = g.set_index("band").reindex(list(BAND_LABELS))
        cells = []
        for band in BAND_LABELS:
            hires = int(g.at[band, "hires"])
            cells.append("—" if hires == 0 else
                         f"{percent(g.at[band, 'met_kpi_rate'])} ({hires})")
        top, bottom = g.loc[BAND_LABELS[0]], g.loc[BAND_LABELS[-1]]
        diff = newcombe_difference(int(top["met"]), int(top["hires"]), int(bottom["met"]),
                                   int(bottom["hires"]))
        cells.append("—" if diff is None else
                     f"{_signed_points(diff.estimate)} ({_signed_points(diff.low)} … "
                     f"{_signed_points(diff.high)})")
        rows.append((_label(t, dim), *cells))
        chart.append((_label(t, dim), [
            Bar(None if int(g.at[b, "hires"]) == 0 else float(g.at[b, "met_kpi_rate"]),
                "—" if int(g.at[b, "hires"]) == 0 else
                f"{percent(g.at[b, 'met_kpi_rate'])} · n {int(g.at[b, 'hires'])}")
            for b in BAND_LABELS]))
    out.append(hbar_chart(chart, list(BAND_LABELS),
                          _("Share meeting the KPI by the interviewer's score band.")))
    out.append(table([_("dimension"), *BAND_LABELS,
                      _("top minus bottom band, points (95 % interval)")], rows,
                     numeric=[False, True, True, True, True]))
    return "".join(out)


def _decile_section(t: Translator, ff: FamilyFeedback, champion: str | None) -> str:
    _ = t.gettext
    out = [heading(3, _("KPI attainment by decile of the model's score"))]
    if ff.deciles is None:
        why = (_("No champion model knows this role family yet.") if champion is None or
               ff.drivers is None else _("Too few hires for deciles."))
        return out[0] + _p(why, "note")
    out.append(_p(_("Hires ranked by the score of the champion (version {version}): decile "
                    "10 holds the tenth it rated highest. The champion learnt from many of "
                    "these hires, so this shows how it orders them, not how well it predicts "
                    "new ones (the monitoring report has that).").format(version=champion)))
    d = ff.deciles
    out.append(hbar_chart(
        [(_("decile {n}").format(n=int(r.decile)),
          [Bar(float(r.met_kpi_rate), f"{percent(r.met_kpi_rate)} · n {int(r.hires)}"),
           Bar(float(r.mean_score), percent(r.mean_score))])
         for r in d.itertuples()],
        [_("met the KPI"), _("mean score")],
        _("Share meeting the KPI and the model's mean score, by decile.")))
    rows = [(int(r.decile), number(int(r.hires)),
             f"{percent(r.score_low)} – {percent(r.score_high)}", percent(r.mean_score),
             percent(r.met_kpi_rate), percent(r.mean_attainment)) for r in d.itertuples()]
    out.append(table([_("decile"), _("hires"), _("score range"), _("mean score"),
                      _("met the KPI"), _("mean attainment")], rows,
                     numeric=[True] * 6))
    return "".join(out)


def _driver_section(t: Translator, ff: FamilyFeedback, champion: str | None,
                    previous: str | None) -> str:
    _ = t.gettext
    out = [heading(3, _("How the drivers' weights moved between champion versions")),
           _p(_("Each driver's share of the model's explanations (mean absolute SHAP value "
                "of its inputs), both versions explaining the same hires."))]
    if ff.drivers is None:
        return "".join(out) + _p(_("No champion model knows this role family yet."), "note")
    if ff.shift is None:
        why = (_("Only one champion version so far (version {version}): nothing to compare "
                 "yet. Its drivers:") if previous is None else
               _("The previous champion (version {previous}) has no model for this role "
                 "family. The champion's drivers:"))
        out.append(_p(why.format(version=champion, previous=previous), "note"))
        out.append(hbar_chart([(_label(t, k), [Bar(float(v), percent(v))])
                               for k, v in ff.drivers.items()],
                              [_("version {version}").format(version=champion)],
                              _("Share of mean |SHAP| per driver."), scale=_scale(ff.drivers)))
        return "".join(out)
    s = ff.shift
    up, down = s.biggest_moves()
    moves = []
    if up is not None:
        moves.append(_("{driver} up {points} points").format(
            driver=_label(t, up["driver"]), points=_points(up["change"])))
    if down is not None:
        moves.append(_("{driver} down {points} points").format(
            driver=_label(t, down["driver"]), points=_points(-down["change"])))
    versions = _("From version {old} to version {new}:").format(old=s.old_version,
                                                                 new=s.new_version)
    moved = "; ".join(moves) or _("no driver moved.")
    out.append(f"<p><b>{esc(versions)}</b> {esc(moved)}</p>")
    old_name = _("version {version}").format(version=s.old_version)
    new_name = _("version {version}").format(version=s.new_version)
    top = max(float(s.table["old_share"].max()), float(s.table["new_share"].max()))
    out.append(hbar_chart(
        [(_label(t, r.driver), [Bar(float(r.old_share), percent(r.old_share)),
                                Bar(float(r.new_share), percent(r.new_share))])
         for r in s.table.itertuples()],
        [old_name, new_name], _("Share of mean |SHAP| per driver, old and new champion."),
        scale=_nice_scale(top)))
    rows = [(_label(t, r.driver), percent(r.old_share), percent(r.new_share),
             _signed_points(r.change)) for r in s.table.itertuples()]
    out.append(table([_("driver"), old_name, new_name, _("change, points")], rows,
                     numeric=[False, True, True, True]))
    return "".join(out)


def _scale(shares) -> float:
    return _nice_scale(float(max(shares.max(), 0.0)) if len(shares) else 1.0)


def _nice_scale(top: float) -> float:
    for step in (0.25, 0.5, 0.75, 1.0):
        if top <= step:
            return step
    return 1.0


def _cohort_section(t: Translator, ff: FamilyFeedback) -> str:
    _ = t.gettext
    rows = [(r.cohort_quarter if r.complete else
             _("{quarter} (incomplete)").format(quarter=r.cohort_quarter),
             number(int(r.hires)), percent(r.met_kpi_rate),
             f"{percent(r.met_low)} – {percent(r.met_high)}", percent(r.mean_attainment))
            for r in ff.cohorts.itertuples()]
    out = heading(3, _("By hire quarter")) + table(
        [_("hire quarter"), _("hires"), _("met the KPI"), _("95 % interval"),
         _("mean attainment")], rows, numeric=[False, True, True, True, True])
    if not ff.cohorts["complete"].all():
        out += _p(_("An incomplete quarter's hires are still in their first year: only those "
                    "who left early have a label so far. Such quarters are left out of the "
                    "tables above."), "note")
    return out


def _family_section(t: Translator, ff: FamilyFeedback, champion: str | None,
                    previous: str | None) -> str:
    _ = t.gettext
    head = heading(2, _family(t, ff.role_family))
    if ff.met_kpi is None:
        return head + _p(_("No mature hire yet."), "note")
    line = _("{hires} mature hires; {rate} met the KPI (95 % interval {low}–{high}); mean "
             "attainment {attainment}.").format(
        hires=number(ff.hires), rate=percent(ff.met_kpi.estimate),
        low=percent(ff.met_kpi.low), high=percent(ff.met_kpi.high),
        attainment=percent(ff.mean_attainment))
    return "".join([head, _p(line), _key_question_section(t, ff.key_questions),
                    _band_section(t, ff), _decile_section(t, ff, champion),
                    _driver_section(t, ff, champion, previous), _cohort_section(t, ff)])


# -- the page, its record, the index --------------------------------------------------------


@dataclass
class FeedbackReport:
    quarter: str
    as_of: str
    champion: str | None
    previous: str | None
    families: dict[str, FamilyFeedback]
    page: Path | None = None
    index: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)


def analyse(data: FeedbackData, as_of: dt.date, champion: tuple[str, Any] | None = None,
            previous: tuple[str, Any] | None = None) -> FeedbackReport:
    """Every family's tables (monitoring.feedback) for the quarter of `as_of`."""
    families = {f: family_feedback(f, data, champion, previous) for f in families_of(data)}
    return FeedbackReport(quarter_of(as_of), as_of.isoformat(),
                          str(champion[0]) if champion else None,
                          str(previous[0]) if previous else None, families)


def render_page(report: FeedbackReport, t: Translator, generated_at: dt.datetime) -> str:
    _ = t.gettext
    title = _("hireloop feedback for HR leads: {quarter}").format(quarter=report.quarter)
    meta = [_("As of {date}").format(date=report.as_of),
            _("champion version {version}").format(version=report.champion)
            if report.champion else _("no champion yet"),
            _("previous champion version {version}").format(version=report.previous)
            if report.previous else _("no previous champion")]
    intro = _("KPI attainment is the share of a hire's first four quarterly reviews in which "
              "the KPI met its target; a hire meets the KPI with at least 50 % and still "
              "employed after a year. Only hire quarters whose first year is complete "
              "count. 95 % "
              "intervals: Wilson for a share, Newcombe for a difference; a difference is "
              "claimed only where its interval excludes zero.")
    body = [heading(1, title), _p(" · ".join(meta), "meta"), _p(intro, "note"),
            "<p>" + link(INDEX_NAME, _("Every quarter")) + "</p>"]
    if not report.families:
        body.append(_p(_("No mature hire yet."), "note warn"))
    body += [_family_section(t, ff, report.champion, report.previous)
             for ff in report.families.values()]
    return document(t, title, "".join(body), generated_at)


def page_name(quarter: str, generated_at: dt.datetime) -> str:
    """`<quarter>_<UTC time to the microsecond>.html`: sorts by quarter, never reused."""
    return f"{quarter}_{generated_at.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%S%fZ')}.html"


def record_of(report: FeedbackReport, page: str, generated_at: dt.datetime) -> dict[str, Any]:
    """The page's headline figures (numbers and pseudonymous ids only), for the index."""
    families = {}
    for name, ff in report.families.items():
        families[name] = {
            "hires": ff.hires, "met_kpi_rate": ff.met_kpi.estimate if ff.met_kpi else None,
            "key_questions": [
                {"question_id": q.question_id, "n_full": q.n_full, "n_not": q.n_not,
                 **({"difference": asdict(q.difference)} if q.difference else {}),
                 "claim": q.claim} for q in ff.key_questions]}
    return {"page": page, "quarter": report.quarter, "as_of": report.as_of,
            "generated_at": generated_at.astimezone(dt.UTC).isoformat(),
            "champion": report.champion, "previous": report.previous, "families": families}


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every page's record under `folder`, oldest first (an unreadable one is skipped)."""
    records = []
    for path in Path(folder).glob("*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict) and {"page", "quarter", "generated_at"} <= set(record):
            records.append(record)
    return sorted(records, key=lambda r: (r["quarter"], r["generated_at"]))


def render_index(records: list[dict[str, Any]], t: Translator, generated_at: dt.datetime) -> str:
    _ = t.gettext
    rows = []
    for r in reversed(records):
        fams = r.get("families") or {}
        claims = sum(q.get("claim", False) for f in fams.values()
                     for q in f.get("key_questions", []))
        rows.append((link(r["page"], r["quarter"]), esc(r.get("as_of") or "—"),
                     esc(r["generated_at"][:19].replace("T", " ") + " UTC"),
                     esc(r.get("champion") or "—"),
                     esc(number(sum(int(f.get("hires", 0)) for f in fams.values()))),
                     esc(number(claims))))
    title = _("hireloop feedback: every quarter")
    body = (heading(1, title)
            + _p(_("One page per quarter, kept; the newest is listed first."))
            + table([_("quarter"), _("as-of date"), _("generated at"), _("champion"),
                     _("mature hires"), _("key-question findings")], rows,
                    numeric=[False, False, False, True, True, True], raw_html=[True] * 6))
    return document(t, title, body, generated_at)


def write_feedback_report(data: FeedbackData, reports_dir: Path, as_of: dt.date,
                          champion: tuple[str, Any] | None = None,
                          previous: tuple[str, Any] | None = None, language: str = "en",
                          generated_at: dt.datetime | None = None) -> FeedbackReport:
    """Analyse, write this quarter's page and record (kept), rebuild the index; the report
    carries the page's and the index's paths."""
    t = translator(language)
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    report = analyse(data, as_of, champion, previous)
    folder = Path(reports_dir) / FEEDBACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = page_name(report.quarter, generated_at)
    report.page = folder / name
    report.page.write_text(render_page(report, t, generated_at), encoding="utf-8")
    report.record = record_of(report, name, generated_at)
    (folder / Path(name).with_suffix(".json").name).write_text(
        json.dumps(report.record, indent=1), encoding="utf-8")
    report.index = folder / INDEX_NAME
    report.index.write_text(render_index(read_records(folder), t, generated_at),
                            encoding="utf-8")
    return report


def key_tables(report: FeedbackReport) -> dict[str, pd.DataFrame]:
    """The report's headline tables, in English, for Dagster's metadata: key questions,
    attainment by band (share meeting the KPI, hires), the drivers' move per family."""
    questions, bands, drivers = [], [], []
    for family, ff in report.families.items():
        for q in ff.key_questions:
            d = q.difference
            questions.append({
                "role_family": family, "question": (q.prompt_text or q.question_id)[:60],
                "n_full": q.n_full, "met_full": q.rate_full.estimate if q.rate_full else None,
                "n_not": q.n_not, "met_not": q.rate_not.estimate if q.rate_not else None,
                "difference": d.estimate if d else None, "low": d.low if d else None,
                "high": d.high if d else None, "claim": q.claim})
        for dim, g in ff.bands.groupby("dimension", sort=False):
            row: dict[str, Any] = {"role_family": family, "dimension": dim}
            for r in g.itertuples():
                row[r.band] = (f"{percent(r.met_kpi_rate)} ({int(r.hires)})" if r.hires
                               else "—")
            bands.append(row)
        if ff.shift is not None:
            drivers += [{"role_family": family, "driver": r.driver,
                         f"v{ff.shift.old_version}": r.old_share,
                         f"v{ff.shift.new_version}": r.new_share, "change": r.change}
                        for r in ff.shift.table.itertuples()]
        elif ff.drivers is not None:
            drivers += [{"role_family": family, "driver": k, f"v{report.champion}": v}
                        for k, v in ff.drivers.items()]
    return {"key_questions": pd.DataFrame(questions), "attainment_by_band": pd.DataFrame(bands),
            "driver_shares": pd.DataFrame(drivers)}
