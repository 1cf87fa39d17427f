"""Where this installation writes, for the personal-data scan (the asset check and the CLI)."""

from __future__ import annotations

from monitoring.personal_scan import ScanResult, scan_personal_data
from orchestration.config import DAGSTER_DATABASE
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource


def scan_installation(hireloop: HireloopRuntime, mlflow: MlflowResource,
                      endpoint: EndpointResource) -> ScanResult:
    """The scan over what these resources write: the store, MLflow's database and artifacts,
    the Dagster database, Evidently, the reports, the inference log and the logs."""
    settings = hireloop.settings
    folders = {*settings.personal_scan_folders, mlflow.artifact_dir,
               endpoint.inference_log_path.parent}
    # as the scan's read-only role: every schema of every database, writing nothing
    return scan_personal_data(hireloop.endpoint("privacy_scan").connect, store=hireloop.database,
                              other_databases=(mlflow.database, DAGSTER_DATABASE),
                              folders=sorted(folders), cipher=settings.data_cipher())
