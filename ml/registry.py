"""MLflow registry plumbing: where runs go, how they are tagged, how versions are registered.

One registered model, `hireloop-kpi`, serves every role family. A freshly registered
version becomes `challenger`; only the promotion gate (ml/promotion.py) moves `champion`.
Everything here takes an `MlflowClient` or a tracking URI: the caller (orchestration)
decides where MLflow lives.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

MODEL_NAME = "hireloop-kpi"
EXPERIMENT_NAME = "hireloop-kpi"
CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"

# Run tag keys; `mlflow.source.git.commit` is MLflow's own key, so its UI shows it.
TAG_DAGSTER_RUN = "dagster.run_id"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_DATA_ROWS = "hireloop.data.rows"
TAG_DATA_SHA256 = "hireloop.data.sha256"
TAG_CONFIG_SHA256 = "hireloop.train.config_sha256"
TAG_CODE_SHA256 = "hireloop.code.sha256"
# A version is identical to another when all three match (data, training config, code).
IDENTITY_TAGS = (TAG_DATA_SHA256, TAG_CONFIG_SHA256, TAG_CODE_SHA256)


@dataclass(frozen=True)
class MlflowTarget:
    """A configured MLflow: the client and the experiment runs are logged to."""

    client: MlflowClient
    tracking_uri: str
    experiment_id: str
    artifact_location: str


def configure(
    tracking_uri: str, artifact_root: Path, experiment: str = EXPERIMENT_NAME
) -> MlflowTarget:
    """Point MLflow (client and fluent API) at `tracking_uri`, with artifacts under `artifact_root`.

    The experiment is created with its artifact location under `artifact_root`, so model
    files land in the state folder rather than in `./mlruns`. An existing experiment keeps
    the location it was created with (MLflow cannot move it).
    """
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        root = Path(artifact_root).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        experiment_id = client.create_experiment(experiment, artifact_location=root.as_uri())
        found = client.get_experiment(experiment_id)
    mlflow.set_experiment(experiment_id=found.experiment_id)
    return MlflowTarget(client, tracking_uri, found.experiment_id, found.artifact_location)


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(
            name, description="Predicts met_kpi for a hire; one model for every role family."
        )


def _model_source(client: MlflowClient, run_id: str, artifact_path: str) -> tuple[str, str | None]:
    """The source URI (and logged-model id) of the model `artifact_path` logged by `run_id`.

    MLflow 3 stores `log_model(name=...)` output as a logged model outside the run's
    artifacts; older-style models saved into the run's artifact folder are found there.
    """
    run = client.get_run(run_id)
    logged = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{artifact_path}'",
        order_by=[{"field_name": "creation_time", "ascending": False}],
    )
    if logged:
        return f"models:/{logged[0].model_id}", logged[0].model_id
    names = {a.path for a in client.list_artifacts(run_id, artifact_path)}
    if f"{artifact_path}/MLmodel" in names:
        return f"{run.info.artifact_uri}/{artifact_path}", None
    raise LookupError(f"run {run_id} logged no model at {artifact_path!r}")


def register_version(
    client: MlflowClient,
    run_id: str,
    artifact_path: str,
    *,
    model_name: str = MODEL_NAME,
    tags: dict[str, str] | None = None,
) -> ModelVersion:
    """Register the model logged by `run_id` as a new version and make it the `challenger`."""
    _ensure_registered_model(client, model_name)
    source, model_id = _model_source(client, run_id, artifact_path)
    version = client.create_model_version(
        name=model_name, source=source, run_id=run_id, tags=tags, model_id=model_id
    )
    client.set_registered_model_alias(model_name, CHALLENGER, version.version)
    return client.get_model_version(model_name, version.version)


def version_by_alias(
    client: MlflowClient, alias: str, model_name: str = MODEL_NAME
) -> ModelVersion | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def champion_version(client: MlflowClient, model_name: str = MODEL_NAME) -> ModelVersion | None:
    """The current champion, or None before the first promotion."""
    return version_by_alias(client, CHAMPION, model_name)


def challenger_version(client: MlflowClient, model_name: str = MODEL_NAME) -> ModelVersion | None:
    """The newest registered version awaiting (or having lost) the gate."""
    return version_by_alias(client, CHALLENGER, model_name)


def git_commit(repo_dir: Path) -> str | None:
    """HEAD's commit of the repository at `repo_dir`, or None outside git (e.g. a wheel)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo_dir), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run_tags(
    dagster_run_id: str | None, git_commit: str | None, data_fingerprint: dict[str, Any],
    identity: dict[str, str] | None = None,
) -> dict[str, str]:
    """The tags every training run carries: who ran it, from which code, on which data;
    `identity` adds the config and code fingerprints (`identity_tags`)."""
    tags = {
        TAG_DATA_ROWS: str(int(data_fingerprint["rows"])),
        TAG_DATA_SHA256: str(data_fingerprint["sha256"]),
        **(identity or {}),
    }
    if dagster_run_id:
        tags[TAG_DAGSTER_RUN] = dagster_run_id
    if git_commit:
        tags[TAG_GIT_COMMIT] = git_commit
    return tags


def identity_tags(data_sha256: str, config_sha256: str, code_sha256: str) -> dict[str, str]:
    """The tags that say what a version was made of (see IDENTITY_TAGS)."""
    return {TAG_DATA_SHA256: data_sha256, TAG_CONFIG_SHA256: config_sha256,
            TAG_CODE_SHA256: code_sha256}


def identical_version(
    client: MlflowClient, identity: dict[str, str], model_name: str = MODEL_NAME
) -> ModelVersion | None:
    """The newest registered version made of the same data, config and code, if any.

    A version lacking one of the tags (registered before they existed) matches nothing.
    """
    if set(identity) != set(IDENTITY_TAGS):
        raise ValueError(f"identity needs exactly {IDENTITY_TAGS}")
    try:
        versions = client.search_model_versions(f"name = '{model_name}'")
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    same = [v for v in versions if all(v.tags.get(k) == identity[k] for k in IDENTITY_TAGS)]
    return max(same, key=lambda v: int(v.version), default=None)
