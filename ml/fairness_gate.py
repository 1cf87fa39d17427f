"""The promotion gate's fairness figures and check: no model is served whose impact ratio
fails the four-fifths rule significantly, or fell well below the champion's.

Figures come from the LL144 tables (ml.fairness_tables) of the gate's holdout, scored by
each model on the same rows. The check applies to the first model too (there is no
champion to compare with, but the rule still holds). It only refuses; it never adjusts a
score or a threshold per group (Title VII §703(l)).

"Fell well below the champion's" is judged on the same people, so it is paired: a drop of
more than the margin counts only when a paired bootstrap (people resampled, both models'
ratios recomputed on each resample) says the challenger's ratio is lower with p under the
gate's alpha (`drop_p` in the challenger's figures). Without it, on a retrain's gate cohort
(one quarter's hires) a reference category of a dozen people swung a ratio from 0.99 to
0.76 and refused a retrain that was fair by every other figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ml.fairness_io import scored_holdout
from ml.fairness_tables import ATTRIBUTES, AuditPolicy, category_labels, ll144_tables, rate_hits

BOOTSTRAP_DRAWS = 2000


def compare_fairness(model: Any, champion_sample: pd.DataFrame | None, rows: pd.DataFrame,
                     people: pd.DataFrame, policy: AuditPolicy, four_fifths: float,
                     margin: float, min_n: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(challenger figures, champion figures or None) on the same `rows`; the champion
    comes already scored on them (`scored_holdout`, once for every challenger judged). The
    challenger's figures carry `drop_p`, the paired test of each category that fell below
    the champion's."""
    sample = scored_holdout(model, rows, people)
    new = figures_of(sample, policy)
    if champion_sample is None:
        return new, None
    old = figures_of(champion_sample, policy)
    new["drop_p"] = {key: ratio_drop_p(sample, champion_sample, key, policy)
                     for key in sunk_candidates(new, old, four_fifths, margin, min_n)}
    return new, old


def fairness_figures(model: Any, holdout: pd.DataFrame, people: pd.DataFrame,
                     policy: AuditPolicy | None = None) -> dict[str, Any]:
    """Per reported category (excluded ones left out) of every attribute and rate: n, rate,
    impact ratio, adjusted p and the four-fifths flag, for `model` on `holdout`."""
    return figures_of(scored_holdout(model, holdout, people), policy)


def figures_of(sample: pd.DataFrame, policy: AuditPolicy | None = None) -> dict[str, Any]:
    """fairness_figures of an already scored sample (ml.fairness_io.scored_holdout)."""
    tables = ll144_tables(sample, policy)
    categories = {}
    for attr, by_rate in tables.items():
        for rate, table in by_rate.items():
            for row in table.rows:
                if row.excluded or row.impact_ratio is None:
                    continue
                categories[f"{attr}|{rate}|{row.category}"] = {
                    "n": row.n, "rate": row.rate, "impact_ratio": row.impact_ratio,
                    "p_adjusted": row.p_adjusted, "flagged": row.flagged}
    return {"n": len(sample), "categories": categories}


def sunk_candidates(new: dict[str, Any], old: dict[str, Any] | None, four_fifths: float,
                    margin: float, min_n: int) -> list[str]:
    """Categories of at least `min_n` people, not flagged, under four-fifths and more than
    `margin` below the champion's ratio on the same rows (the point estimates)."""
    before = (old or {}).get("categories", {})
    out = []
    for key, figs in new["categories"].items():
        then = before.get(key, {}).get("impact_ratio")
        ratio = figs["impact_ratio"]
        if (not figs["flagged"] and then is not None and figs["n"] >= min_n
                and ratio < four_fifths and ratio < then - margin):
            out.append(key)
    return out


def ratio_drop_p(new: pd.DataFrame, old: pd.DataFrame, key: str, policy: AuditPolicy,
                 draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> float:
    """One-sided paired-bootstrap p-value that the category's impact ratio under `new` is
    not lower than under `old` (two scorings of the same people, same order). Each draw
    resamples people and recomputes both ratios against the highest reported category of
    the draw; who is a hit (banded advance, above the median) stays as scored on the whole
    sample, and the reported categories are the sample's (ml.fairness_tables' rules)."""
    attr, rate, category = key.split("|", 2)
    labels = category_labels(new)[attr]
    n = len(labels)
    share = labels.dropna().value_counts() / n
    reported = [c for c in share.index if share[c] >= policy.min_share]
    members = np.column_stack([(labels == c).to_numpy() for c in reported]).astype(float)
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=draws)
    size = weights @ members
    column = reported.index(category)

    def ratios(hits: np.ndarray) -> np.ndarray:
        hit = weights @ (members * hits[:, None])
        rates = np.divide(hit, size, out=np.full(size.shape, np.nan), where=size > 0)
        top = np.nanmax(rates, axis=1)
        return np.divide(rates[:, column], top, out=np.full(draws, np.nan), where=top > 0)

    now, then = ratios(rate_hits(new)[rate]), ratios(rate_hits(old)[rate])
    valid = np.isfinite(now) & np.isfinite(then)
    not_lower = int((now[valid] >= then[valid]).sum())
    return (not_lower + 1) / (int(valid.sum()) + 1)


def fairness_failures(challenger: dict[str, Any], champion: dict[str, Any] | None,
                      four_fifths: float, margin: float, min_n: int, alpha: float = 0.05
                      ) -> tuple[list[str], list[str]]:
    """(failures, notes): each flagged category of the challenger (first, in attribute
    order), then each category of at least `min_n` people whose ratio is under four-fifths
    and fell by more than `margin` below the champion's on the same rows, significantly
    when the challenger's figures carry the paired test (`drop_p` under `alpha`). A ratio
    still above four-fifths that fell passes (both meet the rule); so does one of a category
    too small for its ratio to mean anything without a significant difference (a handful of
    people swings it by 0.2 either way)."""
    flagged, sunk, notes = [], [], []
    old = (champion or {}).get("categories", {})
    drop_p = challenger.get("drop_p")
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
            p = None if drop_p is None else drop_p.get(key)
            paired = "" if p is None else f", paired bootstrap p {p:.3g}"
            if p is not None and p >= alpha:  # not computed: the point estimate decides
                notes.append(f"{where}: impact ratio {ratio:.3f} under the champion's "
                             f"{before:.3f} by more than {margin}, not significantly on the "
                             f"same people{paired}: passes")
                continue
            sunk.append(f"{where}: impact ratio {ratio:.3f} < {four_fifths} and worse than "
                        f"the champion's {before:.3f} by more than {margin}{paired}")
    if champion is None:
        notes.append("no champion figures: four-fifths rule only")
    return flagged + sunk, notes


_ATTRIBUTE_ORDER = {a: i for i, a in enumerate(ATTRIBUTES)}


def _order(item: tuple[str, Any]) -> tuple[int, str]:
    attr, rest = item[0].split("|", 1)
    return _ATTRIBUTE_ORDER.get(attr, len(_ATTRIBUTE_ORDER)), rest
