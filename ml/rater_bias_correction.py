"""Fairness mitigation at training time: leave out the human scores the data audit finds biased.

Why: where interviewers rate a group lower on a dimension than the same interviews' AI
scores do (ml.fairness_data: a significant rater gap, human minus AI within interviewer), a
model trained on those human scores learns the raters' bias back and ranks the group lower
than its ability warrants. The AI's score of the same dimension measures the same ability
without that gap, so for a flagged dimension the model uses the AI's score instead: the
human column (`interviewer_<dim>`, and its rater-adjusted `_adj`) is left out of the
inputs. The interviewer's overall ratings and recommendation share are the interviewer's
summary of those same scores (an impression built from them), so with `impressions` they
go too; the evidence the model keeps is the unflagged human scores, the AI scores and the
answers.

A finding counts only when it survives the audit's own measured imprecision: its standard
errors are about 1.4 times too narrow (ml.fairness_data: raters' clustering), so the rater
gap must stay significant at the audit's Bonferroni level with its SE widened by
`SE_INFLATION`. A borderline finding (a false alarm the narrow SE lets through) then does
not cost the model an informative score; the planted communication gap clears it by far.

The decision is made once per training run, from the training store's interviews; the
protected attributes are read there only (ml.fairness_io, as the audit does) and never
reach the model: the served model has fewer inputs, the same ones for everyone, and no
score or threshold differs by group (Title VII §703(l)). What was removed and why travels
in the model version (`VERSION_KEY`) and its model card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import norm

from ml.fairness_data import RATER_BIAS, data_audit
from ml.fairness_io import read_interview_scores, read_labels, read_people
from ml.features import RATING_COLUMNS_PREFIX, SCORE_PREFIXES
from ml.rater_offsets import ADJUSTED_SUFFIX

VERSION_KEY = "rater_bias_correction"       # in HireloopModel.version_info
HUMAN_PREFIX, AI_PREFIX = SCORE_PREFIXES    # ("interviewer_", "ai_"): one definition
IMPRESSION_COLUMNS = ("recommend_share",)   # plus every overall_rating_* column
SE_INFLATION = 1.4                          # the audit's SEs are this much too narrow


@dataclass(frozen=True)
class FeatureCorrection:
    """The inputs a training run leaves out, each with the reason, and the audit behind it.

    `findings`: the data audit's rater-bias findings (attribute, category, family,
    dimension, rater gap, p-value) the decision rests on; empty: nothing was flagged.
    """

    removed: Mapping[str, str] = field(default_factory=dict)
    findings: tuple[dict[str, Any], ...] = ()
    audited: bool = True

    def keep(self, features: Sequence[str]) -> list[str]:
        """`features` without the removed ones, in order."""
        return [f for f in features if f not in self.removed]

    def to_info(self) -> dict[str, Any]:
        return {"audited": self.audited, "removed": dict(self.removed),
                "findings": [dict(f) for f in self.findings]}


NOT_AUDITED = FeatureCorrection(audited=False)


def survives(row: Mapping[str, Any], alpha_each: float,
             se_inflation: float = SE_INFLATION) -> bool:
    """A rater-bias finding still significant at `alpha_each` with its SE widened."""
    gap, se = row.get("rater_gap"), row.get("rater_se")
    if row.get("verdict") != RATER_BIAS or gap is None or not se:
        return False
    z = abs(gap) / (se_inflation * se)
    return 2 * float(norm.sf(z)) < alpha_each


def flagged_dimensions(audit: Mapping[str, Any], se_inflation: float = SE_INFLATION
                       ) -> dict[str, list[dict[str, Any]]]:
    """Dimension -> the audit's rater-bias findings on it (any attribute, category, family)
    that survive the widened SE."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in audit["findings"]:
        if not survives(r, audit["alpha_each"], se_inflation):
            continue
        out.setdefault(r["dimension"], []).append({
            "attribute": r["attribute"], "category": r["category"],
            "role_family": r["role_family"], "dimension": r["dimension"],
            "rater_gap": r["rater_gap"], "rater_gap_first": r["rater_gap_first"],
            "rater_p": r["rater_p"]})
    return out


def correction_from_audit(audit: Mapping[str, Any], features: Sequence[str],
                          impressions: bool = True, se_inflation: float = SE_INFLATION
                          ) -> FeatureCorrection:
    """Which of `features` to leave out, given a data audit of the training store.

    Per flagged dimension (a rater-bias finding that survives `se_inflation`, see the
    module docstring): its human columns, only where the AI's score of the dimension is
    among `features` (else the dimension would be lost, not corrected, and is kept).
    Nothing else is touched; a protected attribute is never among `features` (ml.features).
    """
    flagged = flagged_dimensions(audit, se_inflation)
    have = set(features)
    removed: dict[str, str] = {}
    findings: list[dict[str, Any]] = []
    for dim, rows in sorted(flagged.items()):
        if AI_PREFIX + dim not in have:
            continue
        groups = sorted({f"{r['attribute']}={r['category']} ({r['role_family']})"
                         for r in rows})
        why = (f"human {dim} scores show a rater gap against {', '.join(groups)} (data "
               f"audit, human minus AI): the model uses ai_{dim} instead")
        for col in (HUMAN_PREFIX + dim, HUMAN_PREFIX + dim + ADJUSTED_SUFFIX):
            if col in have:
                removed[col] = why
        findings += rows
    if removed and impressions:
        dims = ", ".join(sorted({c.removeprefix(HUMAN_PREFIX).removesuffix(ADJUSTED_SUFFIX)
                                 for c in removed}))
        for col in features:
            if col.startswith(RATING_COLUMNS_PREFIX) or col in IMPRESSION_COLUMNS:
                removed[col] = (f"the interviewer's overall impression, built from the "
                                f"biased human {dims} scores")
    return FeatureCorrection(removed, tuple(findings))


def audit_store(conn) -> dict[str, Any]:
    """The data audit of every interview in the store behind `conn` (psycopg2)."""
    return data_audit(read_interview_scores(conn), read_people(conn), read_labels(conn))


__all__ = ["IMPRESSION_COLUMNS", "NOT_AUDITED", "SE_INFLATION", "VERSION_KEY",
           "FeatureCorrection", "audit_store", "correction_from_audit", "flagged_dimensions",
           "survives"]
