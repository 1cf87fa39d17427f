"""The personal-data scan as an asset check, after the loop's last reports are written.

WARN, not blocking: when it finds something the values are already in the stores it
scanned, so stopping the run would undo nothing and only lose the monitoring that follows;
it says where (masked), and `hireloop scan-personal-data` exits 2 for CI and cron.
"""

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from monitoring.personal_scan import format_scan
from orchestration.assets.feedback import feedback_report
from orchestration.assets.monitoring import fairness_report, model_quality
from orchestration.personal_scan import scan_installation
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource


@asset_check(
    asset=fairness_report,
    additional_deps=[feedback_report, model_quality],
    blocking=False,
    description="No raw name, national id, email or phone anywhere outside raw: the store's "
                "other schemas, MLflow (params, tags, artifacts), the Dagster event log, "
                "Evidently snapshots, the inference log and every report (content scan).",
)
def no_personal_data_downstream(hireloop: HireloopRuntime, mlflow: MlflowResource,
                                endpoint: EndpointResource) -> AssetCheckResult:
    result = scan_installation(hireloop, mlflow, endpoint)
    places = sorted({h.location for h in result.hits})
    return AssetCheckResult(
        passed=result.clean,
        severity=AssetCheckSeverity.WARN,
        description=format_scan(result, limit=20),
        metadata={"hits": len(result.hits), "places": MetadataValue.json(places[:50]),
                  "columns_scanned": result.columns, "files_scanned": result.files,
                  "seconds": round(result.seconds, 1)},
    )
