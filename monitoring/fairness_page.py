"""The fairness audit page of one model version, for HR leads (en / zh, self-contained).

Renders what ml.fairness_audit computed (the report and its LL144 summary); computes
nothing itself. First the summary an HR lead can publish under NYC Local Law 144 (audit
date, data source, counts, the unknown category, selection and scoring rates, impact
ratios, excluded categories and why), then the four-fifths flags, error rates and
calibration among hires, and the data audit's findings on interview ratings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitoring.hr_page import document, esc, heading, percent, table
from monitoring.i18n import N_, Translator

ATTRIBUTE_NAMES = {"sex": N_("Sex"), "race_ethnicity": N_("Race/ethnicity"),
                   "sex_race": N_("Sex and race/ethnicity"), "age_40_plus": N_("Age 40+")}
SAMPLE_NAMES = {"holdout": N_("Holdout (the version's newest mature hires)"),
                "scored": N_("Everyone the version scored (scoring log)")}
SAMPLE_SOURCES = {
    "holdout": N_("marts.fct_training_examples, the version's holdout cohorts, scored by the "
                  "version; protected attributes from marts.dim_candidates"),
    "scored": N_("monitoring.scoring_log, the latest score of each candidate by the version; "
                 "protected attributes from marts.dim_candidates"),
}
CATEGORY_NAMES = {
    "female": N_("female"), "male": N_("male"), "non_binary": N_("non-binary"),
    "asian": N_("Asian"), "black": N_("Black"), "hispanic_latino": N_("Hispanic or Latino"),
    "white": N_("White"), "two_or_more": N_("two or more races"), "other": N_("other"),
    "40+": N_("40 or over"), "under 40": N_("under 40"),
}
VERDICTS = {"rater_bias": N_("rater bias"), "ability_difference": N_("ability difference"),
            "human_gap_unexplained": N_("gap in human ratings, cause not separable")}
FAMILY_NAMES = {"all": N_("all role families"), "sales": N_("sales"),
                "customer_service": N_("customer service"), "rnd": N_("R&D"),
                "manufacturing": N_("manufacturing")}


def _name(t: Translator, names: dict[str, str], key: Any) -> str:
    key = str(key)
    return t.gettext(names[key]) if key in names else key


def dimension_name(t: Translator, dimension: str) -> str:
    """The dimension's label as the reason texts show it (monitoring.reason_text's
    DIMENSION_LABELS hold every label for the catalog)."""
    return t.gettext(dimension.replace("_", " "))


def category_name(t: Translator, category: str) -> str:
    """A category in the page's language; an intersection 'female / asian' part by part."""
    return " / ".join(_name(t, CATEGORY_NAMES, part) for part in category.split(" / "))


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _rate(value: float | None) -> str:
    return "—" if value is None else percent(value)


def _ll144_table(t: Translator, attr: dict[str, Any], flagged: set[str],
                 min_share: float) -> str:
    _ = t.gettext
    rows = []
    for c in attr["categories"]:
        if c["excluded"]:
            note = _("under {share} of the sample: left out of the impact ratios").format(
                share=percent(min_share))
        elif c["category"] in flagged:
            note = _("under four-fifths, significant")
        else:
            note = ""
        rows.append([category_name(t, c["category"]), c["n"], _rate(c["selection_rate"]),
                     _ratio(c["selection_impact_ratio"]), _rate(c["scoring_rate"]),
                     _ratio(c["scoring_impact_ratio"]), note])
    headers = [_("Category"), _("Applicants"), _("Selection rate"),
               _("Impact ratio (selection)"), _("Scoring rate"), _("Impact ratio (scoring)"),
               _("Note")]
    unknown = _("Unknown category: {n} people, counted and left out of the ratios.").format(
        n=f"{attr['n_unknown']:,}")
    return (table(headers, rows, numeric=[False, True, True, True, True, True, False])
            + f'<p class="meta">{esc(unknown)}</p>')


def _flags(report: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for name, audit in report["samples"].items():
        for attr, by_rate in audit.get("tables", {}).items():
            for table_ in by_rate.values():
                out.setdefault((name, attr), set()).update(
                    r["category"] for r in table_["rows"] if r["flagged"])
    return out


def _summary_section(t: Translator, report: dict[str, Any], summary: dict[str, Any]) -> str:
    _ = t.gettext
    flags = _flags(report)
    min_share = report["policy"]["min_share"]
    parts = [heading(2, _("Bias audit summary (NYC Local Law 144)"))]
    facts = [
        (_("Audit date"), summary["audit_date"]),
        (_("Model version"), summary["model_version"] or "—"),
        (_("Data as of"), summary.get("data_as_of") or "—"),
        (_("Distribution date of the tool"), summary.get("distribution_date") or "—"),
    ]
    parts.append(table([_("Field"), _("Value")], facts))
    parts.append('<p class="note">' + esc(_(
        "Selection rate: the share of candidates the tool bands 'advance'. Scoring rate: the "
        "share scoring above the sample's median score. Impact ratio: a category's rate "
        "divided by the highest category's rate.")) + "</p>")
    parts.append('<p class="note">' + esc(_(
        "Computed by hireloop. Local Law 144 requires the bias audit to be done by an "
        "independent auditor: this summary is the computation for them to review.")) + "</p>")
    for name, sample in summary["samples"].items():
        parts.append(heading(3, _name(t, SAMPLE_NAMES, name)))
        source = _("Data source: {source}. People: {n}.").format(
            source=_name(t, SAMPLE_SOURCES, name), n=f"{sample['n']:,}")
        parts.append(f'<p class="meta">{esc(source)}</p>')
        if sample.get("n_scores_without_candidate"):
            unseen = _("Scores that named no candidate, so could not be audited: {n}.").format(
                n=f"{sample['n_scores_without_candidate']:,}")
            parts.append(f'<p class="meta">{esc(unseen)}</p>')
        for attr_key, attr in sample["attributes"].items():
            parts.append(f"<h4>{esc(_name(t, ATTRIBUTE_NAMES, attr_key))}</h4>")
            parts.append(_ll144_table(t, attr, flags.get((name, attr_key), set()), min_share))
    return "".join(parts)


def _flag_section(t: Translator, report: dict[str, Any]) -> str:
    _ = t.gettext
    policy = report["policy"]
    parts = [heading(2, _("Four-fifths rule"))]
    parts.append('<p class="meta">' + esc(_(
        "A category is flagged when its impact ratio is under {ratio}, its rate is below "
        "everyone else's, and the difference has p < {alpha} (Fisher's exact test against "
        "all other known people, Holm-adjusted over all the sample's comparisons).").format(
        ratio=policy["four_fifths"], alpha=policy["alpha"])) + "</p>")
    rows = []
    for name, audit in report["samples"].items():
        for attr, by_rate in audit.get("tables", {}).items():
            for rate, table_ in by_rate.items():
                for r in table_["rows"]:
                    if r["flagged"]:
                        rows.append([_name(t, SAMPLE_NAMES, name),
                                     _name(t, ATTRIBUTE_NAMES, attr),
                                     _("Selection rate") if rate == "selection"
                                     else _("Scoring rate"),
                                     category_name(t, r["category"]),
                                     _ratio(r["impact_ratio"]), f"{r['p_adjusted']:.2g}"])
    if rows:
        parts.append(table([_("Sample"), _("Attribute"), _("Rate"), _("Category"),
                            _("Impact ratio"), _("p")], rows,
                           numeric=[False, False, False, False, True, True]))
    else:
        parts.append(f"<p>{esc(_('No category is flagged.'))}</p>")
    parts.append('<p class="note">' + esc(_(
        "No group-specific threshold or score adjustment is used: every candidate is scored "
        "and banded by the same model and thresholds (Title VII §703(l)).")) + "</p>")
    return "".join(parts)


def _outcome_section(t: Translator, report: dict[str, Any]) -> str:
    _ = t.gettext
    audit = report["samples"].get("holdout", {})
    outcomes = audit.get("outcomes")
    if not outcomes:
        return ""
    parts = [heading(2, _("Among hires with known performance"))]
    parts.append('<p class="meta">' + esc(_(
        "Equalised-odds difference: the largest gap between categories in the share of "
        "hires who met their KPI that the tool banded 'advance' (or of those who did not). "
        "Calibration: the mean score against the share who met their KPI.")) + "</p>")
    for attr in ("sex", "race_ethnicity", "age_40_plus"):
        block = outcomes.get(attr)
        if not block or not block["groups"]:
            continue
        eod = block["equalized_odds_difference"]
        title = _("{attribute}: equalised-odds difference {value}").format(
            attribute=_name(t, ATTRIBUTE_NAMES, attr), value=_ratio(eod))
        parts.append(f"<h4>{esc(title)}</h4>")
        rows = [[category_name(t, g), v["n"], _rate(v["true_positive_rate"]),
                 _rate(v["false_positive_rate"]), _ratio(v["mean_score"]),
                 _ratio(v["observed_rate"]), _ratio(v["ece"])]
                for g, v in block["groups"].items()]
        parts.append(table([_("Category"), _("Hires"), _("True-positive rate"),
                            _("False-positive rate"), _("Mean score"), _("Met KPI"),
                            _("Calibration error")], rows,
                           numeric=[False, True, True, True, True, True, True]))
    return "".join(parts)


def _data_section(t: Translator, report: dict[str, Any]) -> str:
    _ = t.gettext
    data = report.get("data_audit")
    if not data:
        return ""
    parts = [heading(2, _("Interview ratings: rater bias or ability?"))]
    parts.append('<p class="meta">' + esc(_(
        "Each category against all other known categories, per dimension, within "
        "interviewers. Rater gap: the difference in human-minus-AI score on the same "
        "interview (ability cancels), on candidates' first interviews. Findings are "
        "significant after a Bonferroni correction over {n} comparisons.").format(
        n=f"{data['n_comparisons']:,}")) + "</p>")
    rows = []
    for r in data["findings"]:
        size = "—" if r["rater_gap_first"] is None else (
            f"{r['rater_gap_first']:+.2f} ± {1.96 * (r['rater_se_first'] or 0):.2f}")
        rows.append([_name(t, ATTRIBUTE_NAMES, r["attribute"]),
                     category_name(t, r["category"]), _name(t, FAMILY_NAMES, r["role_family"]),
                     dimension_name(t, r["dimension"]),
                     _signed(r["human_gap"]), _signed(r["ai_gap"]), size,
                     _signed(r["conditional_gap"]), _name(t, VERDICTS, r["verdict"])])
    if rows:
        parts.append(table([_("Attribute"), _("Category"), _("Role family"), _("Dimension"),
                            _("Human gap"), _("AI gap"), _("Rater gap (95% interval)"),
                            _("Gap among hires who performed alike"), _("Finding")], rows,
                           numeric=[False, False, False, False, True, True, True, True,
                                    False]))
    else:
        parts.append(f"<p>{esc(_('No gap in interview ratings found.'))}</p>")
    return "".join(parts)


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def fairness_page(t: Translator, report: dict[str, Any], summary: dict[str, Any],
                  generated_at: dt.datetime) -> str:
    """The whole page (one HTML string, no outside asset)."""
    _ = t.gettext
    title = _("Fairness audit of model version {version}").format(
        version=report["model_version"] or "—")
    body = (heading(1, title) + _summary_section(t, report, summary)
            + _flag_section(t, report) + _outcome_section(t, report) + _data_section(t, report))
    return document(t, title, body, generated_at)
