"""The model half of the demo's printout, and the Markdown tables Dagster shows.

What an ML engineer asks after a build: how good is the model against the interviewer's
own rating and a plain logistic regression, per role family; what drives it; which
version serves where; and how to call it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

WHO = {"model": "model", "baseline_rating": "interviewer rating",
       "baseline_logit": "logit on dimensions"}


def baseline_table(metrics: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per role family (+ overall): holdout n, AUC of the model and both baselines, the
    model's lift over the rating, and the model's PR AUC, Brier and ECE."""
    model = metrics["model"]
    table = pd.DataFrame(index=model.index)
    table["n"] = model["n"].astype(int)
    for who, label in WHO.items():
        if who in metrics:
            table[f"AUC {label}"] = metrics[who]["roc_auc"].reindex(model.index)
    if "baseline_rating" in metrics:
        table["lift vs rating"] = table["AUC model"] - table["AUC interviewer rating"]
    for col, label in (("pr_auc", "PR AUC"), ("brier", "Brier"), ("ece", "ECE")):
        table[f"{label} model"] = model[col]
    order = [i for i in table.index if i != "overall"] + (
        ["overall"] if "overall" in table.index else [])
    return table.loc[order]


def drivers_table(drivers: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame([{"role family": f, "top drivers": ", ".join(cols)}
                         for f, cols in sorted(drivers.items())])


def curl_example(url: str, row: dict[str, Any], token_shell: str | None = None) -> str:
    """A ready-to-paste curl request scoring one row; `token_shell` is the shell expression
    of the endpoint's token (e.g. `$(cat <file>)`), sent as `Authorization: Bearer`."""
    body = json.dumps({"dataframe_records": [row]})
    auth = f' -H "Authorization: Bearer {token_shell}"' if token_shell else ""
    return (f"curl -s -X POST {url.rstrip('/')}/invocations "
            f"-H 'Content-Type: application/json'{auth} \\\n  -d {shlex.quote(body)}")


@dataclass
class ModelSummary:
    metrics: dict[str, pd.DataFrame]  # model / baseline_rating / baseline_logit tables
    drivers: dict[str, list[str]]
    version: str | None = None  # this build's registered version
    champion: str | None = None
    decision: str | None = None  # promoted / kept_champion / identical_version
    run_url: str | None = None
    endpoint_url: str | None = None
    served_version: str | None = None
    example: dict[str, Any] | None = None
    token_shell: str | None = None  # the endpoint token's shell expression, for the curl
    batch: dict[str, Any] = field(default_factory=dict)  # scored, rejected, bands
    online: dict[str, Any] = field(default_factory=dict)  # rows, scored, refused, statuses
    drift: dict[str, Any] = field(default_factory=dict)  # feature_drift's value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def drift_line(drift: dict[str, Any]) -> str:
    """One line on feature drift (monitoring.drift): the quarter, each family's drift
    share, the alarms, and where the snapshots are."""
    if not drift.get("quarter"):
        return "Feature drift: no decided quarter before the as-of yet, nothing compared"
    shares = ", ".join(f"{fam} {share:.2f}"
                       for fam, share in sorted(drift.get("drift_share", {}).items()))
    alarms = ", ".join(drift.get("alarms") or []) or "none"
    return (f"Feature drift, quarter {drift['quarter']} against the champion's reference "
            f"(share of inputs drifted): {shares}; alarms: {alarms} "
            "(monitoring.feature_drift_summary; Evidently workspace $HIRELOOP_HOME/evidently)")


def format_model_summary(s: ModelSummary) -> str:
    """Plain text for the terminal."""
    table = baseline_table(s.metrics)
    lines = ["", "Model (holdout: newest mature hires)", "=" * 36]
    if s.version and s.decision == "identical_version":
        lines.append(f"no new version: same data, training config and code as version "
                     f"{s.version}; champion stays version {s.champion}")
    elif s.version:
        verdict = {"promoted": "promoted to champion",
                   "kept_champion": f"kept out; champion stays version {s.champion}"}.get(
            s.decision or "", s.decision or "")
        lines.append(f"registered version {s.version}: {verdict}")
    if s.run_url:
        lines.append(f"MLflow run: {s.run_url}")
    lines += ["", "Metrics against both baselines, per role family:",
              table.to_string(float_format=_fmt), "", "Top drivers per role family (mean |SHAP|):"]
    lines += [f"  {fam:<17} {', '.join(cols)}" for fam, cols in sorted(s.drivers.items())]
    if s.batch:
        lines += ["", f"Batch scoring (fct_candidates_to_score): {s.batch.get('scored', 0)} "
                  f"scored, {s.batch.get('rejected', 0)} refused by the input checks; bands "
                  f"{s.batch.get('bands', {})}"]
    if s.online.get("skipped"):
        lines += [f"Online scoring over HTTP: skipped ({s.online['skipped']})"]
    elif s.online:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(s.online.get("statuses", {}).items()))
        lines += [f"Online scoring over HTTP (the interview tool's records, POST "
                  f"/candidates/score): {s.online.get('scored', 0)} of "
                  f"{s.online.get('rows', 0)} candidates scored, {s.online.get('refused', 0)} "
                  f"refused (4xx), {s.online.get('failed', 0)} failed; requests by status: "
                  f"{statuses or 'none'}"]
        if "ingested" in s.online:
            lines += [f"  {s.online['ingested']} new scores from the endpoint's inference log "
                      "now in monitoring.scoring_log (source 'online')"]
        lines += [f"  {m}" for m in s.online.get("messages", [])[:3]]
    if s.drift:
        lines += ["", drift_line(s.drift)]
    if s.endpoint_url:
        lines += ["", f"Scoring endpoint: {s.endpoint_url} (serving version "
                  f"{s.served_version or '?'}; health: {s.endpoint_url}/ping; contract: "
                  f"{s.endpoint_url}/openapi.json)",
                  f"  interview records: POST {s.endpoint_url}/candidates/score (README: "
                  "Interview records)"]
        if s.example:
            lines += [f"  aggregated features: POST {s.endpoint_url}/invocations; try it:",
                      curl_example(s.endpoint_url, s.example, s.token_shell)]
    return "\n".join(lines) + "\n"
