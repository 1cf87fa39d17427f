"""Retrain assets: challengers over data windows → gate → soundness (blocking) → champion.

The `retrain` job (the trigger's sensor launches it) trains one challenger per data window
(ml.windows), judges them against the champion on the newest mature cohort and on the early
holdout (immature hires no challenger trained on, labelled by their reviews so far) with a
paired test (ml.retrain), refuses the run when the pick is unsound or unfair (a blocking ERROR
check: nothing downstream registers or deploys it), registers and promotes the pick or
keeps the champion, and records the outcome in monitoring.loop_decisions. A promoted version
gets the build's fairness audit (report, LL144 summary, model card on its MLflow run);
`deployed_endpoint` follows the champion in the same run. Thin: the bodies call ml/ and
monitoring/.
"""

import datetime as dt
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
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

from hris.calendar import quarter_of
from hris.exports import required_as_of
from ml.datasets import read_early_outcomes
from ml.evaluation import load_version_model
from ml.fairness_io import read_people
from ml.promotion import Decision, apply_decision
from ml.rater_bias_correction import audit_store
from ml.rater_offsets import read_rater_offsets
from ml.registry import TAG_DAGSTER_RUN, champion_version, register_version
from ml.retrain import (
    PROMOTED,
    REFUSED,
    RetrainGatePolicy,
    RetrainVerdict,
    gate,
    refusals,
    soundness_figures,
    summary_table,
)
from ml.retrain_run import Challengers, train_challengers
from ml.train import TrainConfig
from ml.windows import WindowPolicy
from monitoring.loop_decisions import LoopDecision, record_decision
from orchestration.assets.model import TrainingConfig
from orchestration.assets.run_config import config_from, to_settings
from orchestration.resources import HireloopRuntime, MlflowResource
from orchestration.sensors import (
    TAG_AS_OF,
    TAG_QUARTER,
    TriggerThresholds,
    trigger_of_run,
    trigger_policy,
)
from orchestration.serving_context import record_rules

GROUP = "retrain"
KINDS = {"python", "xgboost", "mlflow"}

ChallengersConfig = config_from(
    WindowPolicy, "ChallengersConfig",
    "ml.windows.WindowPolicy and ml.train.TrainConfig (each challenger's training), per run.",
    base=TrainingConfig,
    baseline_margin=(float, Field(0.0, description="soundness: each challenger's holdout AUC "
                                  "must beat the interviewer-rating baseline's by this")))
RetrainGateConfig = config_from(RetrainGatePolicy, "RetrainGateConfig",
                                "ml.retrain.RetrainGatePolicy, editable per run.")


def _md(frame: pd.DataFrame) -> MetadataValue:
    return MetadataValue.md(frame.to_markdown(index=False, floatfmt=".3f") if len(frame)
                            else "none")


def _champion(mlflow: MlflowResource) -> str | None:
    found = champion_version(mlflow.target().client, mlflow.model_name)
    return None if found is None else str(found.version)


def _record(context, hireloop: HireloopRuntime, trigger: TriggerThresholds, decision: str,
            reasons: list[str], figures: dict[str, Any], before: str | None,
            after: str | None) -> int:
    """One row of monitoring.loop_decisions for this run (`context`: an asset's or a
    check's). A run the trigger's sensor requested records the quarter it looked at, its
    run key, and the trigger's breaches ahead of the gate's reasons, its figures and
    every reason beside the gate's: the quarter's one decision row says why it retrained."""
    run = context.run
    tags = run.tags
    with hireloop.connection("ml") as conn, conn.cursor() as cur:
        as_of = tags.get(TAG_AS_OF) or required_as_of(cur).isoformat()
        why = trigger_of_run(cur, tags, trigger_policy(trigger))
        if why is not None:
            reasons = [*(f"trigger: {c.reason()}" for c in why.breaches), *reasons]
            figures = {**figures, "trigger": {"reasons": why.reasons,
                                              "figures": why.figures}}
        return record_decision(cur, LoopDecision(
            as_of=as_of, quarter=tags.get(TAG_QUARTER) or quarter_of(dt.date.fromisoformat(as_of)),
            decision=decision, reasons=reasons, figures=figures, champion_before=before,
            champion_after=after, run_key=tags.get("dagster/run_key"),
            dagster_run_id=run.run_id))


def _windows_table(challengers: Challengers) -> pd.DataFrame:
    return pd.DataFrame([{
        "window": w, "cohorts": f"{i['cohorts'][0]}..{i['cohorts'][-1]}" if i["cohorts"] else "",
        "n_mature": i["n_mature"], "n_partial": i["n_partial"], "weight_sum": i["weight_sum"],
        "holdout_auc": float(challengers.trained[w].comparison.loc["overall", "model"]),
        "mlflow_run_id": challengers.trained[w].logged.run_id}
        for w, i in challengers.windows.items()])


@asset(
    deps=[AssetKey(["marts", "fct_early_outcomes"])],  # the partial labels
    group_name=GROUP,
    kinds=KINDS,
    description="One challenger per data window (all mature cohorts / recent cohorts / "
                "recency weights, with or without partial labels), each logged to MLflow, "
                "none registered; the newest mature cohort is held out of all of them, and "
                "each is also trained once per fold of the early route without that fold's "
                "partial labels, for its out-of-fold predictions there.",
)
def retrain_challengers(context: AssetExecutionContext, config: ChallengersConfig,
                        training_set: pd.DataFrame, hireloop: HireloopRuntime,
                        mlflow: MlflowResource) -> Output:
    policy = to_settings(config, WindowPolicy)
    settings = to_settings(config, TrainConfig)
    with hireloop.connection("ml") as conn:
        offsets = read_rater_offsets(conn)
        early = (read_early_outcomes(conn, list(training_set.columns))
                 if policy.partial_labels or policy.early_gate_folds else None)
    audit = None
    if settings.rater_bias_correction:  # protected attributes: read for the data audit only
        with hireloop.connection("audit") as conn:
            audit = audit_store(conn)
    mlflow.target()  # points MLflow here: the challengers are logged to it
    made = train_challengers(training_set, policy, settings,
                             early=early, rater_offsets=offsets,
                             make_figures=config.make_figures, dagster_run_id=context.run_id,
                             model_name=mlflow.model_name, record_rules=record_rules(),
                             baseline_margin=config.baseline_margin, audit=audit)
    context.log.info(f"{len(made.trained)} challengers; gate cohort {made.gate_cohort} "
                     f"({len(made.gate_rows)} hires), early route {len(made.early_rows)} "
                     f"hires in {policy.early_gate_folds} folds")
    return Output(made, metadata={
        "gate_cohort": made.gate_cohort, "n_gate": len(made.gate_rows),
        "n_early_route": len(made.early_rows),
        "windows": _md(_windows_table(made)),
        "window_figures": MetadataValue.json(made.windows)})


@asset(
    group_name=GROUP,
    kinds=KINDS,
    description="The retrain gate: every challenger and the champion on the held-out "
                "cohort (mature labels) and on the early route (provisional labels, "
                "out-of-fold predictions), "
                "DeLong's paired AUC difference with its interval and n, overall and per "
                "role family; picks a challenger that passes on either, or keeps the champion.",
)
def retrain_gate(context: AssetExecutionContext, config: RetrainGateConfig,
                 retrain_challengers: Challengers, hireloop: HireloopRuntime,
                 mlflow: MlflowResource) -> Output:
    made = retrain_challengers
    target = mlflow.target()
    version = _champion(mlflow)
    champion = None if version is None else load_version_model(
        target.client, version, mlflow.model_name, tracking_uri=target.tracking_uri)
    with hireloop.connection("audit") as conn:  # protected attributes: the fairness gate only
        people = read_people(conn)
    verdict = gate({w: t.model for w, t in made.trained.items()}, champion, version,
                   made.gate_rows, made.gate_cohort, made.windows,
                   to_settings(config, RetrainGatePolicy), soundness_figures(made.soundness),
                   people=people, early_rows=made.early_rows,
                   early_proba=made.early_predictions)
    context.log.info(f"{verdict.decision}: {verdict.reasons[0]}")
    return Output(verdict, metadata={
        "decision": verdict.decision, "winner": str(verdict.winner),
        "gate_cohort": made.gate_cohort, "champion": str(version),
        "early_gate": MetadataValue.json(verdict.figures.get("early_gate", {})),
        "paired_auc": _md(summary_table(verdict.figures)),
        "fairness": MetadataValue.json(verdict.figures.get("fairness", {})),
        "reasons": MetadataValue.md("\n".join(f"- {r}" for r in verdict.reasons)),
        "figures": MetadataValue.json(verdict.figures)})


@asset_check(
    asset=retrain_gate,
    blocking=True,
    description="The gate's pick beats the interviewer-rating baseline on its holdout, "
                "predicts no NaN, carries its signature, and meets the fairness gate on the "
                "gate cohort (four-fifths rule with a significance test, no category sunk "
                "below the champion's); an unsound or unfair pick refuses the retrain "
                "(recorded in monitoring.loop_decisions) and nothing downstream registers "
                "or deploys it. Every challenger's checks are listed.",
)
def retrain_pick_is_sound(context: AssetCheckExecutionContext, retrain_gate: RetrainVerdict,
                          hireloop: HireloopRuntime, mlflow: MlflowResource,
                          trigger: TriggerThresholds) -> AssetCheckResult:
    verdict = retrain_gate
    refused = refusals(verdict.figures)
    metadata = {f"{w}.{name}": MetadataValue.text(
        f"{'pass' if c['passed'] else 'FAIL'}: {c['detail']}")
        for w, checks in verdict.figures.get("soundness", {}).items()
        for name, c in checks.items()}
    metadata.update({f"{w}.fairness": MetadataValue.text(
        "pass" if f["passed"] else "FAIL: " + "; ".join(f["failures"]))
        for w, f in verdict.figures.get("fairness", {}).items()})
    if refused:
        champion = _champion(mlflow)
        metadata["decision_id"] = MetadataValue.int(_record(
            context, hireloop, trigger, REFUSED, [*refused, *verdict.reasons], verdict.figures,
            champion, champion))
    pick = verdict.winner or "none (champion kept)"
    return AssetCheckResult(
        passed=not refused, severity=AssetCheckSeverity.ERROR,
        description=f"pick {pick}: " + ("refused: " + refused[0] if refused
                                        else "sound and fair"),
        metadata=metadata)


def _mlflow_figures(verdict, winner: str) -> dict[str, Any]:
    """What MLflow's version tags keep of the verdict (tags are short): the winner's."""
    c = verdict.figures["challengers"][winner]
    return {"gate_cohort": verdict.figures["gate_cohort"], "window": winner,
            "overall": c.get("overall"), "by_family": c.get("by_family")}


@asset(
    group_name=GROUP,
    kinds={"python", "mlflow", "postgres"},
    description="The gate's outcome acted on: the winner registered (challenger) and made "
                "champion, or the champion kept; either way one row in "
                "monitoring.loop_decisions with its reasons and figures.",
)
def retrained_champion(context: AssetExecutionContext, retrain_gate: RetrainVerdict,
                       retrain_challengers: Challengers, hireloop: HireloopRuntime,
                       mlflow: MlflowResource, trigger: TriggerThresholds) -> Output:
    verdict = retrain_gate
    target = mlflow.target()
    before = _champion(mlflow)
    after, version = before, None
    figures = dict(verdict.figures)
    if verdict.decision == PROMOTED:
        trained = retrain_challengers.trained[verdict.winner]
        version = str(register_version(
            target.client, trained.logged.run_id, trained.logged.artifact_path,
            model_name=mlflow.model_name,
            tags={TAG_DAGSTER_RUN: context.run_id, **trained.identity}).version)
        record = apply_decision(
            target.client, version,
            Decision(True, verdict.reasons, _mlflow_figures(verdict, verdict.winner)),
            actor="dagster", why=f"retrain gate, Dagster run {context.run_id}",
            model_name=mlflow.model_name, event="retrained_promoted")
        after = record["champion_after"]
        figures["registered_version"] = version
    decision_id = _record(context, hireloop, trigger, verdict.decision, verdict.reasons, figures,
                          before, after)
    value = {"decision": verdict.decision, "winner": verdict.winner, "version": version,
             "champion_before": before, "champion_after": after, "decision_id": decision_id}
    return Output(value, metadata={
        "decision": verdict.decision, "winner": str(verdict.winner),
        "champion_before": str(before), "champion_after": str(after),
        "registered_version": str(version), "decision_id": decision_id,
        "reasons": MetadataValue.md("\n".join(f"- {r}" for r in verdict.reasons))})


@asset(
    group_name=GROUP,
    kinds={"python", "postgres", "mlflow"},
    description="The fairness audit of the version a retrain promoted, as the build audits "
                "its own (LL144 tables on its gate-time holdout and on everyone scored, the "
                "data audit, en/zh pages, the model card with its latest audit, on the "
                "version's MLflow run); nothing when the champion was kept.",
)
def retrained_fairness_report(context: AssetExecutionContext, retrained_champion: dict,
                              retrain_challengers: Challengers, hireloop: HireloopRuntime,
                              mlflow: MlflowResource) -> Output:
    from orchestration.assets.monitoring import audit_version
    version, winner = retrained_champion["version"], retrained_champion["winner"]
    if version is None:
        return Output({"version": None}, metadata={"audited": "no new version: nothing to "
                                                   "audit (the champion's audit stands)"})
    trained = retrain_challengers.trained[winner]
    return audit_version(context, hireloop, mlflow, trained.model, str(version),
                         trained.holdout, trained.logged.run_id)


RETRAIN_ASSETS = [retrain_challengers, retrain_gate, retrained_champion,
                  retrained_fairness_report]
RETRAIN_CHECKS = [retrain_pick_is_sound]

__all__ = ["RETRAIN_ASSETS", "RETRAIN_CHECKS", "ChallengersConfig", "RetrainGateConfig"]
