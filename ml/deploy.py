"""Deploying the champion: (re)start the endpoint only when what it serves is out of date.

`mlflow models serve models:/…@champion` resolves the alias once, at start, so after the
alias moves the running server still answers with the old version until it restarts.
"""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient

from ml import serving
from ml.registry import MODEL_NAME, champion_version


def redeploy_reason(state: dict[str, Any], champion: str) -> str | None:
    """Why the endpoint must restart to serve `champion`, or None when it already does."""
    if not state.get("running"):
        return "endpoint not running"
    if not state.get("ready"):
        return "endpoint not answering /ping"
    served = state.get("served_version")
    if str(served) != str(champion):
        return f"endpoint serves version {served}, champion is {champion}"
    return None


def ensure_champion_served(
    spec: serving.ServeSpec,
    client: MlflowClient,
    *,
    model_name: str = MODEL_NAME,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Serve the current champion at `spec.url`, restarting only when needed.

    Returns the endpoint's status plus `champion`, `restarted` and `reason`. Without a
    champion nothing is started (there is nothing to serve).
    """
    champion = champion_version(client, model_name)
    state = serving.status(spec)
    if champion is None:
        return {**state, "champion": None, "restarted": False, "reason": "no champion yet"}
    version = str(champion.version)
    reason = redeploy_reason(state, version)
    if reason is None:
        return {**state, "champion": version, "restarted": False,
                "reason": f"already serving version {version}"}
    state = serving.restart(spec, served_version=version, timeout=timeout)
    return {**state, "champion": version, "restarted": True, "reason": reason}
