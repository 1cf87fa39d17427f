"""Monitoring assets: feature and prediction drift of the scored population per role family,
the champion's quality per role family and hire cohort (realised, early, estimate), and the
fairness audit of each trained version.

Thin: each body calls a monitoring run function and turns its summary into metadata.
"""

import datetime as dt
from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output, asset

from hris.exports import required_as_of
from ml.tracking import TrainedModel
from monitoring.i18n import translator
from orchestration.assets.model import promotion_decision
from orchestration.assets.serving import batch_scores
from orchestration.resources import HireloopRuntime, MlflowResource

GROUP = "monitoring"


@asset(
    # after the build's scoring in the full loop; reads the candidates' point-in-time features
    deps=[batch_scores, AssetKey(["intermediate", "int_candidate_features_joined"])],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="Feature and prediction drift per role family (Evidently 0.7, K-S with "
                "Bonferroni): the newest decided quarter's applicants against the "
                "champion's reference; snapshots in $HIRELOOP_HOME/evidently (project "
                "'hireloop', no row data), figures in monitoring.feature_drift(_summary).",
)
def feature_drift(context: AssetExecutionContext, hireloop: HireloopRuntime,
                  mlflow: MlflowResource) -> Output:
    from monitoring.drift_run import run_feature_drift
    version, model = mlflow.champion_model("monitor")
    with hireloop.connection("ml") as conn:
        with conn.cursor() as cur:
            as_of = required_as_of(cur)
        run = run_feature_drift(conn, model, version, hireloop.settings.evidently_dir, as_of,
                                run_id=context.run_id)
    summary = run.summary()
    if run.quarter is None:
        context.log.info("no decided quarter before the as-of yet: nothing to compare")
    shares = ({str(r["role_family"]): float(r["drift_share"]) for _, r in summary.iterrows()}
              if len(summary) else {})
    table = (summary[["role_family", "n_features", "n_drifted", "drift_share",
                      "prediction_drifted", "alarm", "n_reference", "n_current"]]
             .to_markdown(index=False, floatfmt=".3f") if len(summary) else "nothing compared")
    value = {"as_of": run.as_of, "quarter": run.quarter, "model_version": version,
             "drift_share": shares, "alarms": sorted(summary.loc[summary["alarm"], "role_family"])
             if len(summary) else [], "snapshots": run.snapshot_ids}
    return Output(value, metadata={
        "as_of": run.as_of, "quarter": str(run.quarter), "model_version": version,
        "drift_share_by_family": MetadataValue.md(table),
        "alarms": MetadataValue.json(value["alarms"]),
        "evidently_workspace": MetadataValue.path(str(hireloop.settings.evidently_dir)),
    })


@asset(
    deps=[promotion_decision, feature_drift, AssetKey(["marts", "fct_training_examples"]),
          AssetKey(["marts", "fct_early_outcomes"])],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="The champion's quality per role family and hire cohort, on cohorts hired "
                "after its own: realised (AUC, Brier, calibration error, attainment by band) "
                "once labels mature; early (attainment so far against the attainment its "
                "probability implies) from the first reviews; a confidence-based estimate "
                "for cohorts without labels; whether the KPI's drivers moved (attainment on "
                "the dimension scores, early hires against the champion's own, "
                "monitoring.kpi_driver_change). monitoring.model_quality(_bands); realised "
                "snapshots per family in $HIRELOOP_HOME/evidently (no row data); the HR "
                "lead's page per quarter in $HIRELOOP_HOME/reports/monitoring.",
)
def model_quality(context: AssetExecutionContext, hireloop: HireloopRuntime,
                  mlflow: MlflowResource) -> Output:
    from monitoring.monitoring_page import read_drift_summary, write_page
    from monitoring.quality_run import run_model_quality
    from monitoring.quality_summary import driver_table, quality_tables
    version, model = mlflow.champion_model("monitor")
    with hireloop.connection("ml") as conn:
        with conn.cursor() as cur:
            as_of = required_as_of(cur)
        run = run_model_quality(conn, model, version, hireloop.settings.evidently_dir, as_of,
                                run_id=context.run_id)
        with conn.cursor() as cur:
            drift = read_drift_summary(cur, run.as_of, version)
    page = write_page(hireloop.settings.reports_dir, run.as_of, version, drift, run.rows,
                      translator(hireloop.settings.page_language), dt.datetime.now(dt.UTC))
    tables = quality_tables(run.rows)
    value = {"as_of": run.as_of, "model_version": version, "snapshots": run.snapshot_ids,
             "rows": {kind: int((run.rows["kind"] == kind).sum())
                      for kind in ("realised", "early", "estimate")}, "page": str(page)}
    return Output(value, metadata={
        "as_of": run.as_of, "model_version": version,
        **{f"quality_{family}": MetadataValue.md(table) for family, table in tables.items()},
        "rows": MetadataValue.json(value["rows"]),
        "kpi_driver_change": MetadataValue.md(driver_table(run.drivers)),
        "evidently_workspace": MetadataValue.path(str(hireloop.settings.evidently_dir)),
        "page": MetadataValue.path(str(page)),
    })


@asset(
    group_name=GROUP,
    kinds={"python", "postgres", "mlflow"},
    description="Fairness audit of the trained version (NYC LL144 tables on its holdout and "
                "on everyone the scoring log holds for it, equalised odds and calibration "
                "among hires, the data audit of interview ratings): JSON, LL144 summary and "
                "en/zh HTML pages as artifacts of the version's MLflow run (fairness/), the "
                "pages also in $HIRELOOP_HOME/reports/fairness.",
)
def fairness_report(context: AssetExecutionContext, trained_model: TrainedModel,
                    registered_challenger: str, hireloop: HireloopRuntime,
                    mlflow: MlflowResource) -> Output:
    return audit_version(context, hireloop, mlflow, trained_model.model, registered_challenger,
                         trained_model.holdout, trained_model.logged.run_id)


def audit_version(context: AssetExecutionContext, hireloop: HireloopRuntime,
                  mlflow: MlflowResource, model: Any, version: str, holdout: pd.DataFrame,
                  run_id: str) -> Output:
    """One version's fairness audit (monitoring.fairness_run) logged to its MLflow run, the
    pages kept under reports/fairness, and what the build prints: the build's and a
    retrain's audit are the same one."""
    from ml.fairness_audit import flagged_categories
    from monitoring.fairness_run import run_fairness_audit
    target = mlflow.target()
    with hireloop.connection("audit") as conn:
        with conn.cursor() as cur:
            as_of = required_as_of(cur)
        run = run_fairness_audit(conn, model, version, holdout=holdout, run_id=run_id,
                                 as_of=as_of.isoformat(), client=target.client)
    folder = hireloop.settings.reports_dir / "fairness"
    folder.mkdir(parents=True, exist_ok=True)
    for name, page in run.pages.items():
        (folder / f"version_{version}.{name}").write_text(page, encoding="utf-8")
    flags = flagged_categories(run.report)
    found = [r for r in (run.report.get("data_audit") or {}).get("findings", [])
             if r["rater_gap_first"] is not None]
    findings = [f"{r['attribute']} {r['category']} {r['role_family']} {r['dimension']}: "
                f"{r['verdict']} {r['rater_gap_first']:+.2f}" for r in found]
    # the categories interviewers rate below the AI on the same interviews (with two
    # categories each finding has its mirror image: this is the side a reader looks for)
    rated_lower = [f for f, r in zip(findings, found, strict=True) if r["rater_gap_first"] < 0]
    context.log.info(f"fairness audit of version {version}: {len(flags)} "
                     f"flagged categories, {len(findings)} interview-rating findings")
    return Output({"version": version, "flags": flags, "findings": findings,
                   "rated_lower": rated_lower, "pages": str(folder)},
                  metadata={"version": version,
                            "samples": MetadataValue.json(
                                {k: v["n"] for k, v in run.report["samples"].items()}),
                            "flagged": MetadataValue.json(flags),
                            "rating_findings": MetadataValue.json(findings),
                            "artifacts": MetadataValue.json(run.artifacts),
                            "pages": MetadataValue.path(str(folder))})
