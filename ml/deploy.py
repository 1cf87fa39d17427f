"""Deploying the champion: (re)start the endpoint only when what it serves is out of date.

The endpoint (ml/scoring_app.py) loads `models:/…@champion`, resolving the alias once, at
start, so after the alias moves the running server still answers with the old version
until it restarts; the same goes for the language of its reasons' words.
The process itself is the caller's (orchestration's supervisor): this module is given an
`EndpointProcess` and decides only whether to restart it.
"""

from __future__ import annotations

from typing import Any, Protocol

from mlflow import MlflowClient

from ml.registry import MODEL_NAME, champion_version


class EndpointProcess(Protocol):
    """The running endpoint as the deploy step needs it."""

    def status(self) -> dict[str, Any]:
        """At least `running`, `ready` and `served_version` (and `language` where known)."""

    def restart(self, served_version: str) -> dict[str, Any]:
        """Stop whatever runs, start again (re-resolving the alias), wait until ready."""


def redeploy_reason(state: dict[str, Any], champion: str, language: str | None = None
                    ) -> str | None:
    """Why the endpoint must restart to serve `champion` (in `language`, when given), or None
    when it already does. An endpoint that does not say its language speaks English."""
    if not state.get("running"):
        return "endpoint not running"
    if not state.get("ready"):
        return "endpoint not answering /ping"
    served = state.get("served_version")
    if str(served) != str(champion):
        return f"endpoint serves version {served}, champion is {champion}"
    spoken = state.get("language") or "en"
    if language is not None and spoken != language:
        return f"endpoint gives its reasons in {spoken}, the platform's language is {language}"
    return None


def ensure_champion_served(
    process: EndpointProcess, client: MlflowClient, *, model_name: str = MODEL_NAME
) -> dict[str, Any]:
    """Serve the current champion, restarting the endpoint only when needed.

    Returns the endpoint's status plus `champion`, `restarted` and `reason`. Without a
    champion nothing is started (there is nothing to serve).
    """
    champion = champion_version(client, model_name)
    state = process.status()
    if champion is None:
        return {**state, "champion": None, "restarted": False, "reason": "no champion yet"}
    version = str(champion.version)
    reason = redeploy_reason(state, version, getattr(process, "language", None))
    if reason is None:
        return {**state, "champion": version, "restarted": False,
                "reason": f"already serving version {version}"}
    state = process.restart(served_version=version)
    return {**state, "champion": version, "restarted": True, "reason": reason}
