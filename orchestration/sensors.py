"""The loop's sensor: the retraining trigger (monitoring.loop_trigger) over the newest as-of.

Past a threshold it requests a run of `RETRAIN_JOB` with run key = the quarter looked at,
so the loop retrains at most once per quarter however often it looks (the daemon skips a run
key it has seen; `evaluate_loop_trigger` and the sensor body also skip a key an existing
run carries). Below every threshold it records `no_action` in `monitoring.loop_decisions`,
once per quarter. A retrain's own outcome (promoted, kept, refused) is recorded by the
retrain job: the run's tags carry the as-of and the breaches, and `trigger_of_run` gives
it the whole decision (reasons and figures) again from the recorded figures. (Not the
figures themselves in a tag: Dagster indexes tag values, and PostgreSQL refuses an index
entry over 2.7 kB.)

`hireloop ui` runs it in the daemon; the demo runs the very same definition in process
(`evaluate_loop_trigger`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from dagster import (
    ConfigurableResource,
    DagsterInstance,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    build_sensor_context,
    sensor,
)
from dagster._core.storage.tags import RUN_KEY_TAG

from monitoring.loop_decisions import LoopDecision, ensure_schema, read_decisions, record_decision
from monitoring.loop_trigger import TriggerDecision, TriggerPolicy, decide, read_figures
from orchestration.assets.run_config import config_from, to_settings
from orchestration.resources import HireloopRuntime

# The job a breach launches: challengers over data windows, the paired gate (orchestration/
# assets/retrain.py).
RETRAIN_JOB = "retrain"
SENSOR_NAME = "loop_trigger"
# Tags a triggered run carries, for the job that records the retrain's decision.
TAG_AS_OF, TAG_QUARTER = "hireloop/as_of", "hireloop/quarter"
TAG_REASONS = "hireloop/trigger_reasons"
# The resource key of the thresholds, shared by the sensor and the retrain it launches.
TRIGGER_RESOURCE = "trigger"

TriggerThresholds = config_from(
    TriggerPolicy, "TriggerThresholds",
    "The retraining trigger's thresholds (monitoring.loop_trigger.TriggerPolicy): one "
    "resource, so the sensor that decides and the retrain that records the decision apply "
    "the same ones.", base=ConfigurableResource)


def trigger_policy(thresholds: ConfigurableResource | None) -> TriggerPolicy:
    """The policy a TriggerThresholds resource stands for (None: the defaults)."""
    return TriggerPolicy() if thresholds is None else to_settings(thresholds, TriggerPolicy)


def run_key_for(quarter: str) -> str:
    """One run key per quarter looked at (also the decision's `run_key`)."""
    return quarter


def _already_run(instance: DagsterInstance, run_key: str) -> bool:
    return bool(instance.get_run_records(RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1))


def _no_action_recorded(cursor, quarter: str) -> bool:
    ensure_schema(cursor)  # figures exist: this installation monitors, so the log belongs
    cursor.execute("SELECT 1 FROM monitoring.loop_decisions WHERE quarter = %s AND "
                   "decision = 'no_action' LIMIT 1", (quarter,))
    return cursor.fetchone() is not None


def _request(decision: TriggerDecision) -> RunRequest:
    return RunRequest(run_key=run_key_for(decision.quarter), tags={
        TAG_AS_OF: decision.as_of, TAG_QUARTER: decision.quarter,
        TAG_REASONS: json.dumps([c.reason() for c in decision.breaches])})


def trigger_of_run(cursor, tags: Mapping[str, str], policy: TriggerPolicy | None = None
                   ) -> TriggerDecision | None:
    """The trigger's decision behind a run it requested (None: not a triggered run), with
    every reason and figure, recomputed from the figures recorded for the run's as-of:
    what the retrain job records beside its own outcome."""
    as_of, policy = tags.get(TAG_AS_OF), policy or TriggerPolicy()
    figures = read_figures(cursor, as_of, policy) if as_of else None
    return None if figures is None else decide(figures, policy)


def look(context: SensorEvaluationContext, hireloop: HireloopRuntime,
         policy: TriggerPolicy | None = None) -> SensorResult | SkipReason:
    """One look of the trigger: read, decide, request a retrain or record no_action; what
    it decided goes to the Evidently dashboard too."""
    policy = policy or TriggerPolicy()
    with hireloop.connection("ml") as conn, conn.cursor() as cur:  # monitoring.* only
        figures = read_figures(cur, policy=policy)
        if figures is None:
            return SkipReason("no drift or quality figures recorded yet")
        decision = decide(figures, policy)
        key = run_key_for(decision.quarter)
        if _already_run(context.instance, key):  # the retrain records this quarter's outcome
            return SkipReason(f"{decision.quarter}: retrain already requested (run key {key})")
        if decision.retrain:
            context.log.info("retrain: " + "; ".join(c.reason() for c in decision.breaches))
            result: SensorResult | SkipReason = SensorResult(run_requests=[_request(decision)])
        elif _no_action_recorded(cur, decision.quarter):
            return SkipReason(f"{decision.quarter}: no_action already recorded")
        else:
            record_decision(cur, LoopDecision(
                as_of=decision.as_of, quarter=decision.quarter, decision="no_action",
                reasons=decision.reasons, figures=decision.figures, run_key=key))
            result = SkipReason(f"{decision.quarter}: no_action recorded (every figure within "
                                "its threshold or not tested)")
        decisions = read_decisions(cur).to_dict(orient="records")
    _publish(context, hireloop, figures, decisions)
    return result


def _publish(context: SensorEvaluationContext, hireloop: HireloopRuntime, figures, decisions
             ) -> None:
    """The dashboard follows the decision; a failure there is logged, never blocks it."""
    from monitoring.dashboard import publish_figures  # Evidently: only where a sensor looks

    try:
        publish_figures(hireloop.settings.evidently_dir, figures, decisions)
    except Exception as exc:  # the decision is recorded: the dashboard catches up next look
        context.log.error(f"Evidently dashboard not updated: {type(exc).__name__}: {exc}")


@sensor(name=SENSOR_NAME, job_name=RETRAIN_JOB, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Retraining trigger: drift share, AUC drop, calibration error and "
                    "early-attainment gap of the newest as-of against TriggerPolicy's "
                    "thresholds; a retrain at most once per quarter (run key), no_action "
                    "recorded in monitoring.loop_decisions.")
def loop_trigger(context: SensorEvaluationContext, hireloop: HireloopRuntime,
                 trigger: TriggerThresholds):
    return look(context, hireloop, trigger_policy(trigger))


def launch_tags(request: RunRequest) -> dict[str, str]:
    """The tags to launch a requested run with: its own and its run key, the tag the
    daemon sets and by which a later look finds it."""
    return {**request.tags, RUN_KEY_TAG: str(request.run_key)}


def evaluate_loop_trigger(instance: DagsterInstance, definitions: Definitions,
                          resources: Mapping[str, object] | None = None) -> Sequence[RunRequest]:
    """Evaluate the sensor of `definitions` in process, as the daemon would; its new run
    requests (none when a run with the key exists, as the daemon drops them too).

    The caller launches each with `launch_tags(request)`, so a second evaluation finds the
    run and requests nothing. `resources` replace the definitions' of the same key.
    """
    sensor_def = definitions.resolve_sensor_def(SENSOR_NAME)
    # The context is given resources, not the definitions' (it takes none from them): the
    # sensor's own from the definitions, replaced by any given.
    bound = definitions.resources or {}
    resources = {**{k: bound[k] for k in sensor_def.required_resource_keys if k in bound},
                 **(resources or {})}
    with build_sensor_context(instance=instance, definitions=definitions, resources=resources,
                              sensor_name=SENSOR_NAME) as context:  # resources torn down
        data = sensor_def.evaluate_tick(context)
    return [r for r in data.run_requests or [] if not _already_run(instance, r.run_key)]


__all__ = ["RETRAIN_JOB", "SENSOR_NAME", "TAG_AS_OF", "TAG_QUARTER", "TAG_REASONS",
           "TRIGGER_RESOURCE", "TriggerThresholds", "evaluate_loop_trigger", "launch_tags",
           "look", "loop_trigger", "run_key_for", "trigger_of_run", "trigger_policy"]
