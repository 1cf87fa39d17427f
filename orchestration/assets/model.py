"""Model assets: training set → trained model (blocking check) → challenger → promotion.

Thin: each body calls plain functions in `ml/` and turns their results into metadata.
"""

from pathlib import Path

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MetadataValue,
    Output,
    asset,
    asset_check,
)
from pydantic import Field

from ml.datasets import read_training_set
from ml.fairness_io import read_people
from ml.fingerprint import data_fingerprint
from ml.model_checks import beats_rating_baseline, carries_signature, finite_predictions
from ml.promotion import IDENTICAL, GatePolicy, apply_decision, judge, no_new_challenger
from ml.rater_bias_correction import audit_store
from ml.rater_offsets import read_rater_offsets
from ml.registry import TAG_DAGSTER_RUN, champion_version, identical_version, register_version
from ml.tracking import TrainedModel
from ml.train import TrainConfig
from ml.training_run import train_and_log
from monitoring.model_summary import baseline_table, drivers_table
from orchestration.assets.run_config import config_from, to_settings
from orchestration.resources import HireloopRuntime, MlflowResource
from orchestration.serving_context import record_rules

GROUP = "model"
KINDS = {"python", "xgboost", "mlflow"}


def _md(frame: pd.DataFrame, index: bool = True) -> MetadataValue:
    return MetadataValue.md(frame.to_markdown(index=index, floatfmt=".3f"))


@asset(
    deps=[AssetKey(["marts", "fct_training_examples"])],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="Labelled hires from the feature store (marts.fct_training_examples).",
)
def training_set(context: AssetExecutionContext, hireloop: HireloopRuntime) -> Output:
    with hireloop.connection("ml") as conn:  # the marts it trains on, no protected column
        frame = read_training_set(conn)
    fingerprint = data_fingerprint(frame)
    rates = frame.groupby("role_family")["met_kpi"].agg(["size", "mean"]).rename(
        columns={"size": "hires", "mean": "met_kpi_rate"})
    return Output(frame, metadata={
        "rows": len(frame), "data_sha256": fingerprint["sha256"],
        "by_role_family": _md(rates.reset_index(), index=False)})


TrainingConfig = config_from(
    TrainConfig, "TrainingConfig",
    "ml.train.TrainConfig, editable per run (defaults: production); tests shrink the search.",
    make_figures=(bool, Field(True, description="draw the evaluation plots (slow)")))


@asset(
    deps=[AssetKey(["marts", "dim_interviewers"])],
    group_name=GROUP,
    kinds=KINDS,
    description="XGBoost met_kpi model with both baselines, logged to MLflow (not registered); "
                "the interviewers' rater offsets are frozen into it for serving.",
)
def trained_model(context: AssetExecutionContext, config: TrainingConfig,
                  training_set: pd.DataFrame, hireloop: HireloopRuntime,
                  mlflow: MlflowResource) -> Output:
    settings = to_settings(config, TrainConfig)
    with hireloop.connection("ml") as conn:
        offsets = read_rater_offsets(conn)
    audit = None
    if settings.rater_bias_correction:  # protected attributes: read for the data audit only
        with hireloop.connection("audit") as conn:
            audit = audit_store(conn)
    target = mlflow.target()
    trained = train_and_log(training_set, settings,
                            rater_offsets=offsets, make_figures=config.make_figures,
                            dagster_run_id=context.run_id, model_name=mlflow.model_name,
                            record_rules=record_rules(), audit=audit)
    logged = trained.logged
    url = mlflow.run_url(target.experiment_id, logged.run_id)
    artifacts = Path(logged.artifact_uri.removeprefix("file://"))
    metadata = {
        "mlflow_run": MetadataValue.url(url),
        "mlflow_run_id": logged.run_id,
        "metrics_vs_baselines": _md(baseline_table(trained.metrics)),
        "top_drivers": _md(drivers_table(trained.drivers), index=False),
        "strategy": str(trained.strategy),
        "holdout_cohorts": ", ".join(trained.holdout_cohorts),
        "n_train": trained.n_train,
        "n_holdout": len(trained.holdout),
        "data_sha256": trained.fingerprint["sha256"],
    }
    for name, path in logged.plots.items():
        metadata[f"plot_{name}"] = MetadataValue.path(str(artifacts / path))
    overall = trained.comparison.loc["overall"]
    context.log.info(f"holdout AUC {overall.to_dict()}; MLflow run {url}")
    return Output(trained, metadata=metadata)


@asset_check(
    asset=trained_model,
    blocking=True,
    description="Beats the interviewer-rating baseline on the holdout, predicts no NaN, "
                "carries its signature; a failure keeps the model out of the registry.",
)
def trained_model_is_sound(trained_model: TrainedModel) -> AssetCheckResult:
    checks = [
        beats_rating_baseline(trained_model.comparison),
        finite_predictions(trained_model.model, trained_model.holdout),
        carries_signature(trained_model.signature),
    ]
    return AssetCheckResult(
        passed=all(c.passed for c in checks),
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(f"{'pass' if c.passed else 'FAIL'} {c.name}" for c in checks),
        metadata={c.name: MetadataValue.text(c.detail) for c in checks},
    )


@asset(
    group_name=GROUP,
    kinds=KINDS,
    description="The trained model registered as a new version of hireloop-kpi, alias "
                "challenger.",
)
def registered_challenger(context: AssetExecutionContext, trained_model: TrainedModel,
                          mlflow: MlflowResource) -> Output:
    target = mlflow.target()
    identity = trained_model.identity
    same = identical_version(target.client, identity, mlflow.model_name) if identity else None
    if same is not None:
        context.log.info(f"same data, training config and code as version {same.version}: "
                         "not registered again")
        return Output(str(same.version), metadata={
            "version": str(same.version), "model": mlflow.model_name, "registered": False,
            "identical_to": str(same.version)})
    version = register_version(target.client, trained_model.logged.run_id,
                               trained_model.logged.artifact_path,
                               model_name=mlflow.model_name,
                               tags={TAG_DAGSTER_RUN: context.run_id, **identity})
    return Output(str(version.version), metadata={
        "version": str(version.version), "model": mlflow.model_name, "alias": "challenger",
        "registered": True,
        "mlflow_run": MetadataValue.url(
            mlflow.run_url(target.experiment_id, trained_model.logged.run_id))})


GateConfig = config_from(GatePolicy, "GateConfig", "ml.promotion.GatePolicy, editable per run.")


def _gate_table(challenger: dict, champion: dict | None) -> pd.DataFrame:
    rows = {"overall": (challenger["overall"], (champion or {}).get("overall", {}))}
    for fam, figs in challenger["by_family"].items():
        rows[fam] = (figs, (champion or {}).get("by_family", {}).get(fam, {}))
    return pd.DataFrame({k: {"AUC challenger": new.get("roc_auc"), "AUC champion": old.get(
        "roc_auc"), "ECE challenger": new.get("ece"), "ECE champion": old.get("ece")}
        for k, (new, old) in rows.items()}).T


@asset(
    group_name=GROUP,
    kinds=KINDS,
    description="The gate: challenger vs champion on the same newest mature hires, and the "
                "four-fifths rule on the challenger's holdout (the first model too); moves "
                "`champion` or keeps it (both normal), recorded as version tags.",
)
def promotion_decision(context: AssetExecutionContext, config: GateConfig,
                       trained_model: TrainedModel, registered_challenger: str,
                       hireloop: HireloopRuntime, mlflow: MlflowResource) -> Output:
    target = mlflow.target()
    registered = target.client.get_model_version(mlflow.model_name, registered_challenger)
    if registered.tags.get(TAG_DAGSTER_RUN) != context.run_id:  # an identical older version
        champion = champion_version(target.client, mlflow.model_name)
        record = no_new_challenger(registered_challenger,
                                   None if champion is None else str(champion.version))
        context.log.info(record["reasons"][0])
        return Output(record, metadata={
            "outcome": record["event"], "challenger": registered_challenger,
            "champion_before": str(record["champion_before"]),
            "champion_after": str(record["champion_after"]),
            "reasons": MetadataValue.md(f"- {record['reasons'][0]}")})
    with hireloop.connection("audit") as conn:  # protected attributes: the audit's role
        people = read_people(conn)
    judged = judge(target.client, trained_model.model, trained_model.holdout,
                   to_settings(config, GatePolicy), model_name=mlflow.model_name,
                   tracking_uri=target.tracking_uri, people=people)
    decision = judged.decision
    record = apply_decision(target.client, registered_challenger, decision, actor="dagster",
                            why=f"automatic gate, Dagster run {context.run_id}",
                            model_name=mlflow.model_name)
    context.log.info(f"{decision.outcome}: {'; '.join(decision.reasons)}")
    return Output(record, metadata={
        "outcome": decision.outcome,
        "challenger": registered_challenger,
        "champion_before": str(record["champion_before"]),
        "champion_after": str(record["champion_after"]),
        "reasons": MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
        "holdout_figures": _md(_gate_table(judged.challenger, judged.champion)),
        "gate_figures": MetadataValue.json(decision.figures),
    })


@asset_check(
    asset=promotion_decision,
    blocking=True,
    description="The challenger met the fairness gate (four-fifths rule with a significance "
                "test, no category sunk under it below the champion's): a refusal fails the "
                "run, so nothing downstream serves it, and says why.",
)
def promotion_is_fair(promotion_decision: dict) -> AssetCheckResult:
    if promotion_decision.get("event") == IDENTICAL:
        return AssetCheckResult(passed=True, severity=AssetCheckSeverity.ERROR,
                                description="no new challenger: nothing to judge")
    fairness = promotion_decision.get("figures", {}).get("checks", {}).get("fairness")
    reasons = [r for r in promotion_decision.get("reasons", []) if " fairness:" in r]
    passed = bool(fairness and fairness.get("passed"))
    return AssetCheckResult(
        passed=passed, severity=AssetCheckSeverity.ERROR,
        description=reasons[0] if reasons else "the gate recorded no fairness check",
        metadata={"failures": MetadataValue.json((fairness or {}).get("failures", [])),
                  "version": str(promotion_decision.get("version"))})
