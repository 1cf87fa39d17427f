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
    Config,
    MetadataValue,
    Output,
    asset,
    asset_check,
)
from mlflow.models import get_model_info
from pydantic import Field

from ml.datasets import read_training_set
from ml.evaluation import gate_metrics, holdout_metrics, load_version_model
from ml.fingerprint import code_fingerprint, config_fingerprint, data_fingerprint
from ml.model_checks import beats_rating_baseline, carries_signature, finite_predictions
from ml.promotion import GatePolicy, apply_decision, decide
from ml.rater_offsets import VERSION_KEY as RATER_OFFSETS_KEY
from ml.rater_offsets import read_rater_offsets
from ml.registry import (
    TAG_DAGSTER_RUN,
    champion_version,
    git_commit,
    identical_version,
    identity_tags,
    register_version,
    run_tags,
)
from ml.tracking import TrainedCandidate, log_training
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from monitoring.model_summary import baseline_table, drivers_table
from orchestration.resources import HireloopRuntime, MlflowResource

REPO_ROOT = Path(__file__).resolve().parents[2]
ML_CODE = REPO_ROOT / "ml"  # the package that trains, and travels with the model to serve
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
    with hireloop.connection() as conn:
        frame = read_training_set(conn)
    fingerprint = data_fingerprint(frame)
    rates = frame.groupby("role_family")["met_kpi"].agg(["size", "mean"]).rename(
        columns={"size": "hires", "mean": "met_kpi_rate"})
    return Output(frame, metadata={
        "rows": len(frame), "data_sha256": fingerprint["sha256"],
        "by_role_family": _md(rates.reset_index(), index=False)})


class TrainingConfig(Config):
    """Training settings (defaults: production); tests shrink the search."""

    seed: int = 0
    n_search: int = Field(8, description="hyper-parameter configurations tried (1-12)")
    max_trees: int = 500
    early_stopping_rounds: int = 40
    strategies: list[str] = Field(["per_family", "pooled"],
                                  description="per_family and/or pooled; the best is kept")
    refit: bool = True
    monotone: bool = True
    include: list[str] | None = Field(None, description="only these feature columns")
    make_figures: bool = True


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
    train_config = TrainConfig(
        seed=config.seed, n_search=config.n_search, max_trees=config.max_trees,
        early_stopping_rounds=config.early_stopping_rounds, refit=config.refit,
        strategies=tuple(config.strategies), monotone=config.monotone, include=config.include)
    with hireloop.connection() as conn:
        offsets = read_rater_offsets(conn)
    result = train_and_evaluate(training_set, train_config, make_figures=config.make_figures,
                                rater_offsets=offsets)
    target = mlflow.target()
    info = result.model.version_info
    fingerprint = info["data_fingerprint"]
    identity = identity_tags(
        fingerprint["sha256"],
        config_fingerprint({"train": info.get("config"),
                            "rater_offsets": info.get(RATER_OFFSETS_KEY)}),
        code_fingerprint(ML_CODE))
    tags = run_tags(context.run_id, git_commit(REPO_ROOT), fingerprint, identity)
    logged = log_training(result, tags, model_name=mlflow.model_name)
    signature = get_model_info(logged.model_uri).signature
    candidate = TrainedCandidate.from_result(result, logged, fingerprint, signature, identity)
    url = mlflow.run_url(target.experiment_id, logged.run_id)
    artifacts = Path(logged.artifact_uri.removeprefix("file://"))
    metadata = {
        "mlflow_run": MetadataValue.url(url),
        "mlflow_run_id": logged.run_id,
        "metrics_vs_baselines": _md(baseline_table(result.metrics)),
        "top_drivers": _md(drivers_table(candidate.drivers), index=False),
        "strategy": str(result.report.get("winner")),
        "holdout_cohorts": ", ".join(result.split.holdout_cohorts),
        "n_train": len(result.split.train),
        "n_holdout": len(result.split.holdout),
        "data_sha256": fingerprint["sha256"],
    }
    for name, path in logged.plots.items():
        metadata[f"plot_{name}"] = MetadataValue.path(str(artifacts / path))
    overall = result.comparison.loc["overall"]
    context.log.info(f"holdout AUC {overall.to_dict()}; MLflow run {url}")
    return Output(candidate, metadata=metadata)


@asset_check(
    asset=trained_model,
    blocking=True,
    description="Beats the interviewer-rating baseline on the holdout, predicts no NaN, "
                "carries its signature; a failure keeps the model out of the registry.",
)
def trained_model_is_sound(trained_model: TrainedCandidate) -> AssetCheckResult:
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
def registered_challenger(context: AssetExecutionContext, trained_model: TrainedCandidate,
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


class GateConfig(Config):
    """ml.promotion.GatePolicy, editable per run."""

    auc_margin: float = GatePolicy.auc_margin
    per_family_tolerance: float = GatePolicy.per_family_tolerance
    calibration_tolerance: float = GatePolicy.calibration_tolerance


def _gate_table(challenger: dict, champion: dict | None) -> pd.DataFrame:
    rows = {"overall": (challenger["overall"], (champion or {}).get("overall", {}))}
    for fam, figs in challenger["by_family"].items():
        rows[fam] = (figs, (champion or {}).get("by_family", {}).get(fam, {}))
    return pd.DataFrame({k: {"AUC challenger": new.get("roc_auc"), "AUC champion": old.get(
        "roc_auc"), "ECE challenger": new.get("ece"), "ECE champion": old.get("ece")}
        for k, (new, old) in rows.items()}).T


IDENTICAL = "identical_version"


def _no_new_challenger(version: str, champion) -> dict:
    """The gate's record when this build trained what an existing version already is:
    nothing to decide, nothing recorded, the champion stays."""
    champ = str(champion.version) if champion is not None else None
    return {"event": IDENTICAL, "version": version, "promote": False,
            "reasons": [f"same data, training config and code as version {version}: no new "
                        f"challenger, champion stays {champ or 'unset'}"],
            "champion_before": champ, "champion_after": champ}


@asset(
    group_name=GROUP,
    kinds=KINDS,
    description="The gate: challenger vs champion on the same newest mature hires; moves "
                "`champion` or keeps it (both normal), recorded as version tags.",
)
def promotion_decision(context: AssetExecutionContext, config: GateConfig,
                       trained_model: TrainedCandidate, registered_challenger: str,
                       mlflow: MlflowResource) -> Output:
    target = mlflow.target()
    champion = champion_version(target.client, mlflow.model_name)
    registered = target.client.get_model_version(mlflow.model_name, registered_challenger)
    if registered.tags.get(TAG_DAGSTER_RUN) != context.run_id:  # an identical older version
        record = _no_new_challenger(registered_challenger, champion)
        context.log.info(record["reasons"][0])
        return Output(record, metadata={
            "outcome": record["event"], "challenger": registered_challenger,
            "champion_before": str(record["champion_before"]),
            "champion_after": str(record["champion_after"]),
            "reasons": MetadataValue.md(f"- {record['reasons'][0]}")})
    holdout = trained_model.holdout
    challenger = gate_metrics(holdout_metrics(trained_model.model, holdout))
    champion_figs = None
    if champion is not None:
        model = load_version_model(target.client, champion.version, mlflow.model_name,
                                   tracking_uri=target.tracking_uri)
        champion_figs = gate_metrics(holdout_metrics(model, holdout))
    policy = GatePolicy(config.auc_margin, config.per_family_tolerance,
                        config.calibration_tolerance)
    decision = decide(challenger, champion_figs, policy)
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
        "holdout_figures": _md(_gate_table(challenger, champion_figs)),
        "gate_figures": MetadataValue.json(decision.figures),
    })
