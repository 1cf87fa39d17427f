"""The fairness report of one model version: model audit per sample, data audit, LL144 summary.

Pure assembly over frames (ml.fairness_io reads them and logs the result to MLflow; the
HTML page is monitoring.fairness_page's). Samples are named: `holdout` (the version's own
newest mature hires, labelled) and `scored` (everyone the scoring log holds for the version,
latest score per candidate). The report is JSON-able; `ll144_summary` is what an HR lead can
publish under NYC Local Law 144 (6 RCNY §5-303): audit date, data source, counts, the
unknown category, rates and impact ratios, and each excluded category with its reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ml.fairness_outcomes import outcome_metrics
from ml.fairness_tables import (
    ATTRIBUTES,
    RATES,
    AuditPolicy,
    ll144_tables,
    rate_hits,
    tables_to_dict,
)

REPORT_KIND = "hireloop.fairness_audit"
REPORT_SCHEMA_VERSION = 1
SAMPLE_SOURCES = {
    "holdout": "the model version's holdout: its newest mature hires (marts.fct_training_"
               "examples), scored by the version, joined to marts.dim_candidates",
    "scored": "everyone the version actually scored (monitoring.scoring_log, latest score "
              "per candidate), joined to marts.dim_candidates by candidate pseudonym",
}
# What the summary must say about the audit itself.
AUDITOR_NOTE = ("Computed by hireloop. Local Law 144 requires the bias audit to be done by an "
                "independent auditor: this summary is the computation for them to review.")
NO_ADJUSTMENT = ("No group-specific threshold or score adjustment is used: every candidate is "
                 "scored and banded by the same model and thresholds (Title VII §703(l)).")


def model_audit(sample: pd.DataFrame, policy: AuditPolicy | None = None,
                label: str = "met_kpi") -> dict[str, Any]:
    """LL144 tables over the whole sample and per role family; outcome metrics when the
    sample carries labels. `sample`: one row per person (probability, band, role_family,
    gender, race_ethnicity, age_40_plus[, label])."""
    policy = policy or AuditPolicy()
    out: dict[str, Any] = {"n": len(sample)}
    if len(sample) == 0:
        out["tables"] = {}
        return out
    hits = rate_hits(sample)
    out["median_score"] = float(pd.to_numeric(sample["probability"]).median())
    out["selection_rate"] = float(hits["selection"].mean())
    out["tables"] = tables_to_dict(ll144_tables(sample, policy))
    if "role_family" in sample.columns:
        out["by_family"] = {str(f): {"n": len(part),
                                     "tables": tables_to_dict(ll144_tables(part, policy))}
                            for f, part in sample.groupby("role_family", sort=True)}
    if label in sample.columns and sample[label].notna().any():
        out["outcomes"] = outcome_metrics(sample, label, policy)
    return out


def audit_report(model_version: str | None, samples: dict[str, pd.DataFrame],
                 data: dict[str, Any] | None = None, *, policy: AuditPolicy | None = None,
                 audit_date: dt.date | None = None, as_of: str | None = None,
                 distribution_date: str | None = None) -> dict[str, Any]:
    """The whole report (JSON-able). `samples`: name -> scored sample (see SAMPLE_SOURCES);
    `data`: ml.fairness_data.data_audit's result, if run; `as_of`: the export's date."""
    policy = policy or AuditPolicy()
    unknown = set(samples) - set(SAMPLE_SOURCES)
    if unknown:
        raise ValueError(f"unknown audit samples {sorted(unknown)}: use "
                         f"{', '.join(SAMPLE_SOURCES)}")
    return {
        "kind": REPORT_KIND, "schema_version": REPORT_SCHEMA_VERSION,
        "model_version": model_version,
        "audit_date": (audit_date or dt.datetime.now(dt.UTC).date()).isoformat(),
        "data_as_of": as_of, "distribution_date": distribution_date,
        "policy": {"min_share": policy.min_share, "four_fifths": policy.four_fifths,
                   "alpha": policy.alpha, "test": "Fisher's exact, two-sided, the category "
                   "vs all other known people; Holm-adjusted over the sample's comparisons"},
        "no_adjustment": NO_ADJUSTMENT,
        "samples": {name: {"source": SAMPLE_SOURCES[name], **model_audit(frame, policy)}
                    for name, frame in samples.items()},
        "data_audit": data,
    }


def flagged_categories(report: dict[str, Any], sample: str | None = None
                       ) -> list[dict[str, Any]]:
    """Every flagged category (ratio under four-fifths, significant) of the report's overall
    tables: sample, attribute, rate, category, ratio, p."""
    out = []
    for name, audit in report["samples"].items():
        if sample is not None and name != sample:
            continue
        for attr, by_rate in audit.get("tables", {}).items():
            for rate, table in by_rate.items():
                for row in table["rows"]:
                    if row["flagged"]:
                        out.append({"sample": name, "attribute": attr, "rate": rate,
                                    "category": row["category"],
                                    "impact_ratio": row["impact_ratio"],
                                    "p_value": row["p_value"],
                                    "p_adjusted": row["p_adjusted"]})
    return out


def ll144_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The publishable summary: for each sample and attribute, the counts, the unknown
    category, each category's rates and impact ratios, and the excluded categories."""
    samples = {}
    for name, audit in report["samples"].items():
        attrs = {}
        for attr in ATTRIBUTES:
            tables = audit.get("tables", {}).get(attr)
            if not tables:
                continue
            first = tables[RATES[0]]
            cats = []
            for i, row in enumerate(first["rows"]):
                entry = {"category": row["category"], "n": row["n"]}
                for rate in RATES:
                    r = tables[rate]["rows"][i]
                    entry[f"{rate}_rate"] = r["rate"]
                    entry[f"{rate}_impact_ratio"] = r["impact_ratio"]
                entry["excluded"] = row["excluded"]
                entry["exclusion_reason"] = row["reason"]
                cats.append(entry)
            attrs[attr] = {"n_total": first["n_total"], "n_unknown": first["n_unknown"],
                           "reference": {rate: tables[rate]["reference"] for rate in RATES},
                           "categories": cats}
        samples[name] = {"data_source": audit["source"], "n": audit["n"],
                         "attributes": attrs}
        if "n_scores_without_candidate" in audit:
            samples[name]["n_scores_without_candidate"] = audit["n_scores_without_candidate"]
    return {
        "audit_date": report["audit_date"],
        "model_version": report["model_version"],
        "distribution_date": report.get("distribution_date"),
        "data_as_of": report.get("data_as_of"),
        "auditor_note": AUDITOR_NOTE,
        "selection_rate_means": "share of candidates the tool bands 'advance'",
        "scoring_rate_means": "share of candidates scoring above the sample's median score",
        "impact_ratio_means": "the category's rate divided by the highest category's rate",
        "unknown_category_means": "sex or race/ethnicity not disclosed, or no birth date: "
                                  "counted, left out of the impact ratios",
        "no_adjustment": report["no_adjustment"],
        "samples": samples,
    }
