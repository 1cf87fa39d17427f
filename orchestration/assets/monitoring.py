"""Monitoring assets: feature and prediction drift of the scored population per role family.

Thin: the body calls monitoring.drift_run and turns its summary into metadata.
"""

from dagster import AssetExecutionContext, MetadataValue, Output, asset

from hris.exports import required_as_of
from monitoring.drift_run import run_feature_drift
from orchestration.assets.serving import batch_scores
from orchestration.resources import HireloopRuntime, MlflowResource

GROUP = "monitoring"


@asset(
    deps=[batch_scores],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="Feature and prediction drift per role family (Evidently 0.7, K-S with "
                "Bonferroni): the newest decided quarter's applicants against the "
                "champion's reference; snapshots in $HIRELOOP_HOME/evidently (project "
                "'hireloop', no row data), figures in monitoring.feature_drift(_summary).",
)
def feature_drift(context: AssetExecutionContext, hireloop: HireloopRuntime,
                  mlflow: MlflowResource) -> Output:
    version, model = mlflow.champion_model("monitor")
    with hireloop.connection() as conn:
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
