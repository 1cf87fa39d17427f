"""Serving assets: the champion deployed behind the endpoint, batch scores, the interview
tool's online scores over HTTP, the inference log.

Every score, online or batch, ends in `monitoring.scoring_log`.
"""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config, MetadataValue, Output, asset

from hris.interview_tool import score_waiting_candidates, waiting_candidates
from ml.batch_scoring import score_candidates
from ml.datasets import read_candidates_to_score
from ml.decision_route import decision_log_path
from ml.deploy import ensure_champion_served
from monitoring.decision_log import ingest_decision_log
from monitoring.scoring_log import append_scores, ensure_schema, ingest_inference_log
from orchestration.assets.model import promotion_decision
from orchestration.assets.retrain import retrained_champion
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from orchestration.serving_context import refresh_serving_context

GROUP = "serving"


@asset(
    deps=[AssetKey(["marts", "fct_rater_offset_steps"]), AssetKey(["marts", "dim_job_roles"]),
          AssetKey(["marts", "dim_interview_questions"])],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="What the endpoint needs to read an interview tool's records: roles, "
                "questions, the rater offsets in force and the record rules, from this "
                "build; the endpoint reloads it when it changes (no restart).",
)
def serving_context(context: AssetExecutionContext, hireloop: HireloopRuntime,
                    endpoint: EndpointResource) -> Output:
    path = endpoint.serving_context_path
    with hireloop.connection("ml") as conn:
        made = refresh_serving_context(conn, hireloop.settings.pseudonym_key(), path,
                                       source=f"database {hireloop.database}")
    summary = {"as_of": made.as_of.isoformat(), "roles": len(made.role_families),
               "questions": len(made.questions), "interviewers": len(made.offset_steps)}
    return Output(summary, metadata={**summary, "path": MetadataValue.path(str(path))})


@asset(
    # after a build's gate or a retrain's: the endpoint follows the champion either way
    deps=[promotion_decision, retrained_champion, serving_context],
    group_name=GROUP,
    kinds={"python", "mlflow"},
    description="The scoring endpoint (MLflow's scoring app of "
                "models:/hireloop-kpi@champion in our ASGI layer), restarted when the "
                "champion moved or the server is down; ready once /ping answers.",
)
def deployed_endpoint(context: AssetExecutionContext, mlflow: MlflowResource,
                      endpoint: EndpointResource) -> Output:
    target = mlflow.target()
    spec = endpoint.spec(target.tracking_uri)
    state = ensure_champion_served(endpoint.process(target.tracking_uri), target.client,
                                   model_name=mlflow.model_name)
    context.log.info(f"endpoint {spec.url}: {state['reason']}")
    return Output(
        {k: state.get(k) for k in ("url", "champion", "served_version", "restarted", "reason",
                                   "pid", "ready", "log")},
        metadata={
            "url": MetadataValue.url(f"{spec.url}/invocations"),
            "served_version": str(state.get("served_version")),
            "restarted": bool(state["restarted"]),
            "reason": state["reason"],
            "ready": bool(state.get("ready")),
            "inference_log": MetadataValue.path(str(endpoint.inference_log_path)),
        },
    )


@asset(
    deps=[AssetKey(["marts", "fct_candidates_to_score"]), deployed_endpoint],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="The waiting candidates scored in-process by the champion (the endpoint's "
                "own checks and scoring); appended to monitoring.scoring_log as 'batch'.",
)
def batch_scores(context: AssetExecutionContext, hireloop: HireloopRuntime,
                 mlflow: MlflowResource) -> Output:
    version, model = mlflow.champion_model("score with")
    with hireloop.connection("ml") as conn:
        frame = read_candidates_to_score(conn)
        result = score_candidates(model, frame, version)
        with conn.cursor() as cur:
            ensure_schema(cur)
            added = append_scores(cur, result.scores.drop(columns=["reasons"]), source="batch")
    if len(result.rejected):
        context.log.warning(f"{len(result.rejected)} candidates refused by the input checks")
    reasons = (result.rejected.groupby(["field", "reason"]).size().rename("rows")
               .reset_index().head(20))
    summary = {"candidates": len(frame), "scored": len(result.scores),
               "rejected": len(result.rejected), "logged": added, "model_version": version,
               "bands": result.band_counts, "example": result.example}
    return Output(summary, metadata={
        "candidates": len(frame), "scored": len(result.scores),
        "rejected": len(result.rejected), "logged": added, "model_version": version,
        "bands": MetadataValue.json(result.band_counts),
        "rejections": MetadataValue.md(reasons.to_markdown(index=False) if len(reasons)
                                       else "none"),
    })


class OnlineScoringConfig(Config):
    batch_size: int = 100  # candidates per request


@asset(
    # who waits, and the staged records the tool sends of them
    deps=[AssetKey(["marts", "fct_candidates_to_score"]),
          *(AssetKey(["staging", f"stg_hris__{t}"])
            for t in ("candidates", "interviews", "interview_scores", "interview_answers"))],
    group_name=GROUP,
    kinds={"python", "http"},
    description="The interview tool's turn: each waiting candidate's interview records "
                "(the HR system's ids) posted to the endpoint's /candidates/score, as the ATS "
                "does; the endpoint logs every score, for inference_log_ingest.",
)
def online_scores(context: AssetExecutionContext, config: OnlineScoringConfig,
                  hireloop: HireloopRuntime, deployed_endpoint: dict[str, Any]) -> Output:
    if not (deployed_endpoint.get("ready") and deployed_endpoint.get("served_version")):
        reason = f"the endpoint is not serving: {deployed_endpoint.get('reason')}"
        context.log.warning(f"nothing scored online: {reason}")
        return Output({"rows": 0, "scored": 0, "refused": 0, "failed": 0, "statuses": {},
                       "messages": [], "skipped": reason}, metadata={"skipped": reason})
    # Which candidates wait is the marts' (ml's); their records under the HR system's own
    # ids are the interview tool's (raw and staging: orchestration.pg_roles).
    with hireloop.connection("ml") as conn:
        waiting = waiting_candidates(conn)
    with hireloop.connection("interview_tool") as conn:
        report = score_waiting_candidates(conn, hireloop.settings.pseudonym_key(), waiting,
                                          deployed_endpoint["url"],
                                          hireloop.settings.endpoint_token(),
                                          config.batch_size)
    statuses = {str(k): v for k, v in sorted(report.statuses.items())}
    summary = {"rows": report.rows, "scored": report.scored, "refused": report.refused,
               "failed": report.failed, "statuses": dict(report.statuses),
               "messages": report.messages}
    if report.failed:
        context.log.warning(f"{report.failed} candidates failed (5xx or no answer)")
    return Output(summary, metadata={
        "url": MetadataValue.url(f"{deployed_endpoint['url']}/candidates/score"),
        "served_version": str(deployed_endpoint["served_version"]),
        "candidates": report.rows, "scored": report.scored, "refused": report.refused,
        "failed": report.failed, "requests": report.requests,
        "statuses": MetadataValue.json(statuses),
        "first_refusals": MetadataValue.md("\n".join(f"- {m}" for m in report.messages)
                                           or "none"),
    })


@asset(
    deps=[deployed_endpoint, batch_scores, online_scores],
    group_name=GROUP,
    kinds={"python", "postgres"},
    description="New lines of the endpoint's inference log appended to "
                "monitoring.scoring_log as 'online', then those of its decision log (the "
                "interview tool's POST /candidates/decision) to monitoring.hiring_decisions "
                "beside the scores they answer (idempotent; malformed lines rejected with "
                "their reason).",
)
def inference_log_ingest(context: AssetExecutionContext, hireloop: HireloopRuntime,
                         endpoint: EndpointResource) -> Output:
    decision_log = decision_log_path(endpoint.inference_log_path)
    with hireloop.connection("ml") as conn, conn.cursor() as cur:
        result = ingest_inference_log(cur, endpoint.inference_log_path)
        decisions = ingest_decision_log(cur, decision_log)  # after the scores they answer
    summary = {"added": result.added, "duplicates": result.duplicates,
               "rejected": result.rejected, "offset": result.offset,
               "decisions_added": decisions.added, "decisions_rejected": decisions.rejected}
    return Output(summary, metadata={
        **summary, "inference_log": MetadataValue.path(str(endpoint.inference_log_path)),
        "decision_log": MetadataValue.path(str(decision_log))})
