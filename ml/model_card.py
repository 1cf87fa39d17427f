"""A Markdown model card: what the model is for, what it was trained on, how good it is."""

from __future__ import annotations

import pandas as pd

from ml.features import BANNED_PATTERNS, DEFAULT_EXCLUDED

_USE = """## Intended use

Decision support for interview panels: a calibrated probability that a candidate meets the
role's first-year KPI, a band (advance / review / hold) and the three interview dimensions that
moved the score most. **Never automatic rejection**: a person decides every outcome, and a
`hold` is a prompt to look again, not a verdict. Not for promotion, pay or termination."""

_LIMITS = """## Limitations

- Trained on hires only (outcomes exist only for them): the range of weak candidates is thin,
  so scores far below the hired range are extrapolated (a sign-bounded linear base keeps their
  order, trees are flat there).
- Interview scores carry rater effects (lenient / harsh interviewers) the features cannot
  separate from ability, and known rating biases (e.g. human communication scores) flow into
  the scores; the fairness audit, not this model, checks group outcomes.
- The label is KPI attainment in the first year; it misses other contributions and depends
  on targets and managers.
- Thresholds are set per role family on one held-out quarter; re-check them when the
  applicant pool, the interview process or the KPI changes (monitoring watches drift)."""


def _table(df: pd.DataFrame, cols: list[str]) -> str:
    cols = [c for c in cols if c in df.columns]
    head = "| | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n"
    body = "".join(
        f"| {idx} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |\n"
        for idx, row in df[cols].iterrows())
    return head + body


def _correction_lines(correction: dict | None) -> list[str]:
    """The fairness mitigation's lines (ml.rater_bias_correction): what it left out, why."""
    if correction is None:
        return ["- Rater-bias correction: off"]
    if not correction["audited"]:
        return ["- Rater-bias correction: on, but no data audit was given: nothing removed"]
    if not correction["removed"]:
        return ["- Rater-bias correction: on; the data audit flagged no human score"]
    return ["- Rater-bias correction (decided at training time from the data audit; no "
            "protected attribute is an input, nothing differs by group at scoring); "
            "left out:", *(f"  - `{c}`: {why}" for c, why in correction["removed"].items())]


def model_card(info: dict, comparison: pd.DataFrame, metrics: pd.DataFrame,
               drivers: dict[str, list[str]]) -> str:
    """Markdown card. `comparison`: AUC of model and baselines per family (+ overall);
    `metrics`: the model's full metric table; `drivers`: top features per family."""
    lines = ["# hireloop-kpi model card", "", _USE, "", "## Data", "",
             f"- Training window (hiring cohorts): {info['train_cohorts'][0]} to "
             f"{info['train_cohorts'][-1]} ({info['n_train']} mature hires)",
             f"- Holdout (newest mature cohorts): {', '.join(info['holdout_cohorts'])} "
             f"({info['n_holdout']} hires)",
             "- Label: met_kpi (first four quarterly reviews; leaving in year one = not met)",
             f"- Data fingerprint: {info.get('fingerprint', 'n/a')}", "",
             "## Model", "",
             f"- Strategy: **{info['strategy']}** (chosen on the holdout; "
             f"{info.get('selection_note', '')})",
             "- XGBoost (hist) on a sign-bounded logistic base margin; Platt calibration on "
             "time-later cohorts; monotone constraints (+1) on interview scores, ratings and "
             f"key-question flags: {'on' if info.get('monotone', True) else 'off'}.",
             f"- Features ({len(info['features'])}): {', '.join(info['features'])}",
             f"- Excluded by default (age proxy, no signal): {', '.join(DEFAULT_EXCLUDED)}",
             "- Banned, never inputs (name patterns; a request raises): "
             + ", ".join(f"`{p}`" for p in BANNED_PATTERNS),
             *_correction_lines(info.get("rater_bias_correction")), "",
             "## Quality on the holdout", "", "AUC, model vs baselines:", "",
             _table(comparison, list(comparison.columns)), "", "Model metrics:", "",
             _table(metrics, ["n", "positive_rate", "roc_auc", "pr_auc", "brier", "log_loss",
                              "ece", "accuracy", "recall"]), "",
             "Operating rule per role family: advance = top 30% of held-out probabilities, "
             "review = next 40%, hold = the rest; accuracy and recall at the advance "
             "threshold.", "", "## Top drivers (mean |SHAP| on the holdout)", ""]
    lines += [f"- {fam}: {', '.join(cols)}" for fam, cols in sorted(drivers.items())]
    lines += ["", _LIMITS, ""]
    return "\n".join(lines)


# -- the version's card once audited: metrics per group and the latest audit -------------------

AUDIT_HEADING = "## Metrics per group (fairness audit)"
GROUP_NAMES = {"sex": "sex", "race_ethnicity": "race/ethnicity",
               "sex_race": "sex × race/ethnicity", "age_40_plus": "age 40+"}
_GROUP_COLUMNS = ("n", "selection_rate", "true_positive_rate", "false_positive_rate",
                  "mean_score", "observed_rate", "brier", "ece")


def _figure(value: object, places: int = 3) -> str:
    return "—" if value is None else f"{value:.{places}f}" if isinstance(value, float) else str(
        value)


def _group_tables(audit: dict) -> list[str]:
    """Per attribute, the holdout's outcome metrics per category (ml.fairness_outcomes) and
    the LL144 impact ratios (ml.fairness_tables), as Markdown."""
    outcomes, tables = audit.get("outcomes") or {}, audit.get("tables") or {}
    lines = [f"Labelled hires: {outcomes.get('n_labelled', 0)}; overall selection rate "
             f"(band advance): {_figure(audit.get('selection_rate'))}.", ""]
    for attr, name in GROUP_NAMES.items():
        groups = (outcomes.get(attr) or {}).get("groups") or {}
        ratios = {r["category"]: r for r in
                  ((tables.get(attr) or {}).get("selection") or {}).get("rows", [])}
        if not groups and not ratios:
            continue
        eod = (outcomes.get(attr) or {}).get("equalized_odds_difference")
        lines += [f"### By {name}", "",
                  f"Equalised-odds difference (advance band, labelled hires): {_figure(eod)}; "
                  f"unknown category: {(outcomes.get(attr) or {}).get('n_unknown', 0)} people.",
                  "", "| category | " + " | ".join(_GROUP_COLUMNS)
                  + " | impact ratio (selection) | flagged |",
                  "|---|" + "---|" * (len(_GROUP_COLUMNS) + 2)]
        for category in sorted(set(groups) | set(ratios)):
            g, r = groups.get(category, {}), ratios.get(category, {})
            cells = [_figure(g.get(c)) for c in _GROUP_COLUMNS]
            excluded = " (excluded: " + str(r.get("reason")) + ")" if r.get("excluded") else ""
            lines.append(f"| {category}{excluded} | " + " | ".join(cells)
                         + f" | {_figure(r.get('impact_ratio'))} | "
                         + ("yes" if r.get("flagged") else "no") + " |")
        lines.append("")
    return lines


def audit_section(report: dict, flagged: list[dict]) -> str:
    """The card's last part: metrics per group on the holdout and the latest audit's summary
    (ml.fairness_audit's report and flags)."""
    samples = report.get("samples") or {}
    lines = [AUDIT_HEADING, "",
             f"From the latest fairness audit of version {report.get('model_version')}, "
             f"dated {report.get('audit_date')} (data as of {report.get('data_as_of')}). "
             "Protected attributes are never model inputs: they are read only by the audit. "
             + str(report.get("no_adjustment", "")), ""]
    if "holdout" in samples:
        lines += ["Holdout (the version's newest mature hires):", ""]
        lines += _group_tables(samples["holdout"])
    lines += ["## Latest fairness audit", "",
              f"- Audit date: {report.get('audit_date')}; samples: "
              + ", ".join(f"{k} ({v.get('n', 0)} people)" for k, v in samples.items())]
    for name, audit in samples.items():
        for attr, by_rate in (audit.get("tables") or {}).items():
            for rate, table in by_rate.items():
                ratios = [r["impact_ratio"] for r in table["rows"]
                          if r["impact_ratio"] is not None]
                if ratios:
                    lines.append(f"- {name}, {GROUP_NAMES.get(attr, attr)}, {rate} rate: "
                                 f"lowest impact ratio {min(ratios):.3f} (reference "
                                 f"{table['reference']}; unknown {table['n_unknown']})")
    lines.append("- Flagged (impact ratio under four-fifths, significant): "
                 + ("; ".join(f"{f['sample']} {f['attribute']} {f['category']} {f['rate']} "
                              f"{f['impact_ratio']:.3f}" for f in flagged) or "none"))
    data = report.get("data_audit") or {}
    found = [r for r in data.get("findings", []) if r.get("verdict") == "rater_bias"]
    lines.append(f"- Data audit of interview ratings: {len(found)} rater-bias findings"
                 + (": " + "; ".join(f"{r['attribute']} {r['category']} {r['role_family']} "
                                     f"{r['dimension']}" for r in found[:10]) if found else ""))
    lines += ["- Full report: fairness/fairness_report.json, the LL144 summary "
              "fairness/ll144_summary.json and the pages fairness/fairness_report.*.html "
              "in this run's artifacts.", ""]
    return "\n".join(lines)


def card_with_audit(card: str, report: dict, flagged: list[dict]) -> str:
    """The training card with its audit part replaced by the latest audit's."""
    base = card.split(AUDIT_HEADING, 1)[0].rstrip()
    return f"{base}\n\n{audit_section(report, flagged)}"
