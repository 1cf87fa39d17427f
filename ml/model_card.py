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
             + ", ".join(f"`{p}`" for p in BANNED_PATTERNS), "",
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
