"""The quality rows as one markdown table per role family (the asset's metadata, the CLI).

Estimates are labelled as such in the table itself: a reader of one cell must not take an
expected AUC for a measured one.
"""

from __future__ import annotations

import pandas as pd

LABELS = {"realised": "realised", "early": "early (reviews so far)",
          "estimate": "ESTIMATE (no labels yet)"}
SHOWN = ("cohort_quarter", "kind", "n", "auc", "reference_auc", "brier", "calibration_error",
         "mean_predicted", "mean_observed", "n_reviews_mean")


def quality_tables(rows: pd.DataFrame) -> dict[str, str]:
    """role family -> markdown table of its rows (cohort, then realised/early/estimate)."""
    out = {}
    if not len(rows):
        return out
    order = {kind: i for i, kind in enumerate(LABELS)}
    for family, g in rows.groupby("role_family", sort=True):
        g = g.assign(_o=g["kind"].map(order)).sort_values(["cohort_quarter", "_o"])
        shown = g[list(SHOWN)].assign(kind=g["kind"].map(LABELS))
        out[str(family)] = shown.to_markdown(index=False, floatfmt=".3f")
    return out


def driver_table(changes) -> str:
    """One line per family of monitoring.kpi_drivers' test: rows, p-value, biggest moves."""
    if not changes:
        return "no family had early hires to test"
    rows = [{"role_family": c.role_family, "hires (own / early)": f"{c.n_reference} / "
             f"{c.n_current}", "chi²": round(c.chi2, 1), "df": c.df,
             "p-value": f"{c.p_value:.2g}",
             "biggest slope moves": ", ".join(f"{d} {v:+.3f}" for d, v in c.biggest_moves())}
            for c in changes]
    return pd.DataFrame(rows).to_markdown(index=False)
