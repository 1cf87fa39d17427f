"""The endpoint's interview-records routes: what an interview tool sends, scored.

`POST /candidates/score` takes `{"candidates": [...]}` (ml/interview_records.py), derives
each candidate's features with the feature store's definitions and the serving context in
force, and scores them with the served pyfunc itself (`HireloopPyfunc.score_features`: the
same model, checks, reasons and inference log as `/invocations`, each score logged with the
candidate's pseudonym). `POST /candidates/features` answers the derived features only,
nothing scored or logged: what an integrator compares with its own view.

Why a route of our ASGI layer, not a nested `predict` input through MLflow's app: the
pseudonym key and the serving context are the serving process's, not the model
version's (the key must never enter an artifact; the context changes with every export
while the version does not); MLflow's schema enforcement would cast the nested values
before our checks saw them (the reason the layer exists); and the derived rows reach the
pyfunc as arrays, without a second JSON round trip.

Like `/invocations`, a request is scored whole or refused whole: any problem gives a 400
listing every problem (row = candidate position, field = its path), nothing scored.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ml.interview_records import DerivedCandidate, candidate_records, derive
from ml.rater_offsets import RaterOffsets
from ml.scoring_input import REQUEST_ID, InputError, Problem
from ml.serving_context import ServingContext, load_serving_context

SCORE_PATH = "/candidates/score"
FEATURES_PATH = "/candidates/features"
PATHS = (SCORE_PATH, FEATURES_PATH)
KEY_CHECK_ID = "hireloop-pseudonym-key-check"  # pseudonymised to tell the key matches
_RELOAD_EVERY_S = 1.0
_log = logging.getLogger("hireloop.endpoint")


class RouteRefusal(Exception):
    """A refused records request: HTTP status, error code, message and the problems."""

    def __init__(self, status: int, code: str, message: str,
                 problems: Sequence[Problem] = ()):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems


@dataclass
class _Loaded:
    context: ServingContext | None
    mtime_ns: int | None
    checked_at: float
    problem: str | None


def today() -> date:
    """The real date (UTC): no interview may be dated after it. The simulator's quarters
    stop at it too (orchestration.quarters), so both read this one clock."""
    return datetime.now(UTC).date()


class RecordsRoute:
    """The two routes over a served pyfunc, a serving-context file and a pseudonymiser."""

    def __init__(self, pyfunc: Any, context_path: Path | None,
                 pseudonymise: Callable[[str], str] | None,
                 today: Callable[[], date] = today):
        self.pyfunc, self.context_path, self.today = pyfunc, context_path, today
        self.pseudonymise = pseudonymise
        self._loaded = _Loaded(None, None, float("-inf"), "not loaded")
        self._lock = threading.Lock()

    def context(self) -> ServingContext:
        """The serving context in force: reloaded when its file changes (checked at most once a
        second), so each build's offsets reach the endpoint without a restart."""
        loaded = self._loaded
        if time.monotonic() - loaded.checked_at >= _RELOAD_EVERY_S:
            with self._lock:
                loaded = self._loaded = self._reload(self._loaded)
        if loaded.context is None:
            raise RouteRefusal(503, "SERVICE_UNAVAILABLE", loaded.problem or "no context")
        return loaded.context

    def _reload(self, loaded: _Loaded) -> _Loaded:
        now = time.monotonic()
        if self.pseudonymise is None:
            return _Loaded(None, None, now, "the endpoint was started without the pseudonym "
                           "key: it cannot read the interview tool's ids (start it with "
                           "hireloop ui, or pass --pseudonym-key-file)")
        if self.context_path is None:
            return _Loaded(None, None, now, "the endpoint was started without a serving "
                           "context (--serving-context): run hireloop build")
        try:
            mtime = os.stat(self.context_path).st_mtime_ns
        except OSError:
            return _Loaded(None, None, now, "the serving context is missing: run hireloop "
                           "build, which writes it after each feature-store build")
        if mtime == loaded.mtime_ns:
            return _Loaded(loaded.context, mtime, now, loaded.problem)
        try:
            context = load_serving_context(self.context_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _log.error("could not read the serving context %s: %s", self.context_path, exc)
            return _Loaded(None, mtime, now, "the serving context cannot be read (the server "
                           "log says why): run hireloop build")
        if context.key_check and context.key_check != self.pseudonymise(KEY_CHECK_ID):
            _log.error("the endpoint's pseudonym key is not the feature store's")
            return _Loaded(None, mtime, now, "the endpoint's pseudonym key is not the one the "
                           "feature store was built with: restart it with the installation's "
                           "key")
        _log.info("serving context loaded: %s (as of %s)", context.source, context.as_of)
        return _Loaded(context, mtime, now, None)

    def offsets_in_force(self) -> RaterOffsets | None:
        """The serving context's latest rater offsets, None while there is no context (then
        `/invocations` keeps the offsets frozen with the version)."""
        try:
            return self.context().offsets_in_force
        except RouteRefusal:
            return None

    def derived(self, data: Any) -> list[DerivedCandidate]:
        """The derived candidates of a parsed body, or a RouteRefusal listing every problem."""
        context = self.context()
        try:
            records = candidate_records(data)
        except ValueError as exc:
            raise RouteRefusal(400, "BAD_REQUEST", str(exc),
                               [Problem(None, None, "format", str(exc))]) from None
        assert self.pseudonymise is not None  # context() refuses without it
        derived, problems = derive(records, context, self.pseudonymise, self.today())
        if problems:
            raise _refusal(problems, len(records))
        return derived

    def features(self, data: Any) -> dict[str, Any]:
        derived = self.derived(data)
        return {"features": [c.features for c in derived]}

    def score(self, data: Any) -> dict[str, Any]:
        derived = self.derived(data)
        contract = self.pyfunc.feature_contract
        rows = []
        for c in derived:
            row = {k: v for k, v in c.features.items() if k in contract.accepted.specs
                   and v is not None}
            row["role_family"] = c.features["role_family"]
            row[REQUEST_ID] = c.request_id
            rows.append(row)
        try:
            predictions = self.pyfunc.score_features(
                rows, [c.candidate_pseudonym for c in derived])
        except InputError as exc:
            raise _refusal([_in_records_terms(p, derived) for p in exc.problems],
                           len(derived)) from None
        return {"predictions": predictions}

    def handle(self, path: str, data: Any) -> dict[str, Any]:
        return self.score(data) if path == SCORE_PATH else self.features(data)


def _refusal(problems: Sequence[Problem], n: int) -> RouteRefusal:
    rows = sorted({p.row for p in problems if p.row is not None})
    what = (f"{len(rows)} of {n} candidates cannot be scored; nothing was scored: fix or "
            "remove them and send the request again" if rows else problems[0].message)
    return RouteRefusal(400, "INVALID_PARAMETER_VALUE", what, problems)


def _in_records_terms(problem: Problem, derived: Sequence[Any]) -> Problem:
    """A problem of a derived feature row, said in terms of the records that made it."""
    row = derived[problem.row].position if problem.row is not None else None
    name = problem.field or ""
    if name == "role_family":
        return Problem(row, "role_id", "category", "the role's family is not one this model "
                       "version scores")
    if problem.rule != "required":
        return Problem(row, name or None, problem.rule, problem.message)
    family = derived[problem.row].features.get("role_family") if problem.row is not None else ""
    for prefix, scorer in (("interviewer_", "interviewer"), ("ai_", "ai")):
        if name.startswith(prefix) and not name.startswith("overall_rating"):
            dim = name[len(prefix):].removesuffix("_adj")
            return Problem(row, "interviews", "required", f"role family {family!r} requires "
                           f"a score of dimension {dim!r} by {scorer!r} in at least one "
                           "interview")
    if name.startswith("overall_rating"):
        return Problem(row, "interviews", "required", f"role family {family!r} requires an "
                       "overall_rating on at least one interview"
                       + ("" if name.endswith("_mean") else
                          f" of round {name.removeprefix('overall_rating_')!r}"))
    return Problem(row, "interviews", "required", f"role family {family!r} requires "
                   f"{name.replace('_', ' ')}, which the records do not give")

