"""The promotion gate's fairness figures and check: no model is served whose impact ratio
fails the four-fifths rule significantly, or fell well below the champion's.

Figures come from the LL144 tables (ml.fairness_tables) of the gate's holdout, scored by
each model on the same rows. The check applies to the first model too (there is no
champion to compare with, but the rule still holds). It only refuses; it never adjusts a
score or a threshold per group (Title VII §703(l)).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ml.fairness_io import scored_holdout
from ml.fairness_tables import ATTRIBUTES, AuditPolicy, ll144_tables


def fairness_figures(model: Any, holdout: pd.DataFrame, people: pd.DataFrame,
                     policy: AuditPolicy | None = None) -> dict[str, Any]:
    """Per reported category (excluded ones left out) of every attribute and rate: n, rate,
    impact ratio, adjusted p and the four-fifths flag, for `model` on `holdout`."""
    tables = ll144_tables(scored_holdout(model, holdout, people), policy)
    categories = {}
    for attr, by_rate in tables.items():
        for rate, table in by_rate.items():
            for row in table.rows:
                if row.excluded or row.impact_ratio is None:
                    continue
                categories[f"{attr}|{rate}|{row.category}"] = {
                    "n": row.n, "rate": row.rate, "impact_ratio": row.impact_ratio,
                    "p_adjusted": row.p_adjusted, "flagged": row.flagged}
    return {"n": len(holdout), "categories": categories}


def fairness_failures(challenger: dict[str, Any], champion: dict[str, Any] | None,
                      four_fifths: float, margin: float, min_n: int
                      ) -> tuple[list[str], list[str]]:
    """(failures, notes): each flagged category of the challenger (first, in attribute
    order), then each category of at least `min_n` people whose ratio is under four-fifths
    and fell by more than `margin` below the champion's on the same rows. A ratio still
    above four-fifths that fell passes (both meet the rule); so does one of a category too
    small for its ratio to mean anything without a significant difference (a handful of
    people swings it by 0.2 either way)."""
    flagged, sunk, notes = [], [], []
    old = (champion or {}).get("categories", {})
    for key, figs in sorted(challenger["categories"].items(), key=_order):
        attr, rate, category = key.split("|", 2)
        where = f"{attr} {category} ({rate} rate)"
        ratio = figs["impact_ratio"]
        if figs["flagged"]:
            flagged.append(f"{where}: impact ratio {ratio:.3f} < {four_fifths} and "
                           f"significant (adjusted p {figs['p_adjusted']:.2g}, n {figs['n']})")
            continue
        before = old.get(key, {}).get("impact_ratio")
        if (before is not None and figs["n"] >= min_n and ratio < four_fifths
                and ratio < before - margin):
            sunk.append(f"{where}: impact ratio {ratio:.3f} < {four_fifths} and worse than "
                        f"the champion's {before:.3f} by more than {margin}")
    if champion is None:
        notes.append("no champion figures: four-fifths rule only")
    return flagged + sunk, notes


_ATTRIBUTE_ORDER = {a: i for i, a in enumerate(ATTRIBUTES)}


def _order(item: tuple[str, Any]) -> tuple[int, str]:
    attr, rest = item[0].split("|", 1)
    return _ATTRIBUTE_ORDER.get(attr, len(_ATTRIBUTE_ORDER)), rest
