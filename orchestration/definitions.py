"""Dagster definitions: ingest → dbt feature store → summary → train → register → promote →
deploy → batch score → online (HTTP) score → inference-log ingest → feature drift → model
quality → the HR leads' feedback report, with dbt tests and the model gate as checks."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    FilesystemIOManager,
    define_asset_job,
    in_process_executor,
)

from orchestration.assets.data_quality import (
    DATA_QUALITY_CHECKS,
    DataQualityResource,
    feature_store_data_quality,
)
from orchestration.assets.feature_store import feature_store
from orchestration.assets.feedback import feedback_report
from orchestration.assets.ingest import raw_hr_tables
from orchestration.assets.model import (
    promotion_decision,
    promotion_is_fair,
    registered_challenger,
    trained_model,
    trained_model_is_sound,
    training_set,
)
from orchestration.assets.monitoring import fairness_report, feature_drift, model_quality
from orchestration.assets.privacy import no_personal_data_downstream
from orchestration.assets.retrain import RETRAIN_ASSETS, RETRAIN_CHECKS
from orchestration.assets.serving import (
    batch_scores,
    deployed_endpoint,
    inference_log_ingest,
    online_scores,
    serving_context,
)
from orchestration.assets.summary import feature_store_summary
from orchestration.config import Settings, disable_telemetry
from orchestration.dbt import dbt_resource
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from orchestration.sensors import TRIGGER_RESOURCE, TriggerThresholds, loop_trigger

disable_telemetry()

FEATURE_STORE_ASSETS = [raw_hr_tables, feature_store, feature_store_summary, serving_context]
MODEL_ASSETS = [training_set, trained_model, registered_challenger, promotion_decision,
                deployed_endpoint, batch_scores, online_scores, inference_log_ingest]
MONITORING_ASSETS = [feature_drift, model_quality, feedback_report, fairness_report]
# What each quarter looks at on the champion in force (the fairness audit is of a trained
# version: it runs where one is trained).
QUARTER_MONITORING_ASSETS = [feature_drift, model_quality, feedback_report]

build_feature_store_job = define_asset_job(
    "build_feature_store",
    selection=AssetSelection.assets(*FEATURE_STORE_ASSETS),
    description="Load HR data into raw, build the dbt feature store, summarise it, refresh "
                "the endpoint's serving context.",
)
train_and_deploy_job = define_asset_job(
    "train_and_deploy",
    # The feature-store suite blocks training here too, when the store was built earlier.
    selection=AssetSelection.assets(*MODEL_ASSETS, fairness_report)
    | AssetSelection.checks(feature_store_data_quality),
    description="Train on the current feature store, register, gate, deploy, score, audit "
                "the version's fairness.",
)
hireloop_loop_job = define_asset_job(
    "hireloop_loop",
    selection=AssetSelection.assets(*FEATURE_STORE_ASSETS, *MODEL_ASSETS, *MONITORING_ASSETS),
    description="The whole loop: ingest → dbt → summary → train → register → promote → "
                "deploy → batch score → the interview tool scores over HTTP → ingest the "
                "inference log → feature drift → model quality → the HR leads' feedback "
                "report.",
)
retrain_job = define_asset_job(
    "retrain",
    selection=AssetSelection.assets(training_set, *RETRAIN_ASSETS, deployed_endpoint)
    | AssetSelection.checks(*RETRAIN_CHECKS),
    description="Retrain: one challenger per data window, soundness (blocking), the paired "
                "gate on the newest mature cohort, promote or keep, record the decision, "
                "the endpoint follows the champion. Launched by the retrain sensor.",
)
monitor_quarter_job = define_asset_job(
    "monitor_quarter",
    selection=AssetSelection.assets(*QUARTER_MONITORING_ASSETS),
    description="A quarter's monitoring of the champion in force, no training: feature and "
                "prediction drift, its quality (realised, early, estimate), the HR leads' "
                "feedback page. The retraining trigger reads what it records.",
)
quarter_cycle_job = define_asset_job(
    "quarter_cycle",
    selection=AssetSelection.assets(*FEATURE_STORE_ASSETS, inference_log_ingest,
                                    *QUARTER_MONITORING_ASSETS),
    description="One simulated quarter reaching hireloop (`hireloop simulate`): its export "
                "imported, the feature store and serving context rebuilt, the endpoint's "
                "inference log ingested, the champion in force monitored (drift, quality, "
                "feedback). One run, so a quarter loads the definitions once.",
)
ingest_inference_log_job = define_asset_job(
    "ingest_inference_log",
    selection=AssetSelection.assets(inference_log_ingest),
    description="Append the endpoint's new online scores to monitoring.scoring_log.",
)

def default_resources(settings: Settings) -> dict:
    """The resources as configured by the environment (`Settings.from_env()`)."""
    runtime = HireloopRuntime.from_settings(settings)
    return {
        "hireloop": runtime,
        "dbt": dbt_resource(),
        "data_quality": DataQualityResource(),
        "mlflow": MlflowResource(runtime=runtime, ui_port=settings.mlflow_port),
        "endpoint": EndpointResource.from_settings(settings),
        # Outputs (the training set, the trained model) survive the run, so a later run
        # (e.g. from the UI) can re-materialise one step on its own.
        "io_manager": FilesystemIOManager(base_dir=str(settings.dagster_home / "storage")),
    }


def build_definitions(resources: dict) -> Definitions:
    """Every asset, check, job and sensor, bound to `resources` (tests bind their own)."""
    resources = {"data_quality": DataQualityResource(), TRIGGER_RESOURCE: TriggerThresholds(),
                 **resources}
    return Definitions(
        assets=[*FEATURE_STORE_ASSETS, *MODEL_ASSETS, *MONITORING_ASSETS, *RETRAIN_ASSETS],
        asset_checks=[trained_model_is_sound, promotion_is_fair, no_personal_data_downstream,
                      *DATA_QUALITY_CHECKS, *RETRAIN_CHECKS],
        jobs=[build_feature_store_job, train_and_deploy_job, hireloop_loop_job,
              retrain_job, ingest_inference_log_job, monitor_quarter_job, quarter_cycle_job],
        sensors=[loop_trigger],
        resources=resources,
        # A launched run is one process: a step's own subprocess (the multiprocess
        # executor) would import dagster, dbt, MLflow and xgboost again for each step, and
        # the loop is a chain, with nothing to run side by side on a small machine.
        executor=in_process_executor,
    )


defs = build_definitions(default_resources(Settings.from_env()))
