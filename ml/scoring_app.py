"""The scoring endpoint's process: MLflow's own scoring app inside a thin ASGI layer of ours.

MLflow's app (`mlflow.pyfunc.scoring_server.init`) reads the body without a limit or a
timeout, casts "8" to 8.0 and true to 1.0, drops unknown columns, and answers a missing
Content-Type or deeply nested JSON with a 500. So `/invocations` passes through
`ScoringLayer` first, which, before MLflow sees the request: requires
`Content-Type: application/json` (415), limits the body's size (413) and the time to read
it (408), parses the JSON itself (depth limit; NaN, Infinity and numbers that overflow to
infinity refused), and checks every row with the model's own contract
(`ml.scoring_input.check_records`, the same check the pyfunc's `predict` runs). Refusals
are structured (`errors`: row, field, rule, message) and never repeat what was sent; any
5xx becomes a generic message, the detail going only to the server log.

A checked batch is then scored by the layer through the served pyfunc itself
(`HireloopPyfunc.score_rows`: its `predict`, same checks, scores, reasons and log, without
a DataFrame), answered as MLflow's app answers (`{"predictions": [...]}`, the same JSON):
MLflow's app would parse the same bytes a second time into a DataFrame and cast it to the
signature (two thirds of its time for one row, bench/serving.py) only for the pyfunc to
read the rows back into arrays. MLflow's app still answers every other path (/ping,
/health, /version) and serves /invocations of a model that is not a hireloop pyfunc.

A batch is scored whole or not at all: one bad row gives a 400 listing every bad row,
and nothing is scored or logged, so a retry of the corrected batch never scores a row twice.

`POST /candidates/score` and `/candidates/features` (an interview tool's records, with the
HR system's ids) pass the same transport checks and go to ml/records_route.py, which derives
the features with the serving context (`--serving-context`) and the installation's pseudonym
key (`--pseudonym-key-file`, else $HIRELOOP_PSEUDONYM_KEY inherited from the launcher; never
in the options) and scores them with the served pyfunc itself.

`POST /candidates/decision` (a person's hiring decision, the HR system's candidate id) passes
the same transport checks and goes to ml/decision_route.py, which appends it to the
decision log beside the inference log (the endpoint has no database connection; the log is
ingested with the inference log into monitoring.hiring_decisions).

Every request passes two guards first (ml/host_guard.py, ml/bearer_token.py):
a Host header that is neither a loopback name nor the bind host answers 421 (DNS
rebinding), and, when a token is configured (`--token-file`, else $HIRELOOP_ENDPOINT_TOKEN
inherited from the launcher; never in the options), every path but the liveness probes
(/ping, /health) answers 401 without `Authorization: Bearer <token>`.

On the way out, each prediction's `reason_details` entry gets its "text": the reason in plain
words in the platform language (`--language`, en | zh), from monitoring.reason_text. This
module is the one part of `ml` that imports `monitoring` (`_explainer`) and `hris` (the one
pseudonym function, `pseudonymiser`), and only there: it is the server's process, run from
this repository (ml/endpoint_launch.py), never loaded from a model artifact; the pyfunc and
all it imports stay free of both.

Run as `python -m ml.scoring_app --model-uri models:/hireloop-kpi@champion ...`: the model
is loaded once per worker from the registry, as `mlflow models serve --env-manager local`
does. The options reach uvicorn's workers as one JSON environment variable, the way MLflow
hands its own app the model path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ml.bearer_token import OPEN_PATHS, TOKEN_ENV, TokenFileError, authorised, read_token_file
from ml.decision_route import (
    DECISION_PATH,
    DecisionRefused,
    DecisionRoute,
    add_decision_route,
    decision_log_path,
)
from ml.endpoint_schema import endpoint_schema
from ml.host_guard import allowed_hosts, host_allowed
from ml.pyfunc_model import inference_log_path
from ml.records_route import PATHS as RECORDS_PATHS
from ml.records_route import RecordsRoute, RouteRefusal
from ml.records_schema import add_records_routes
from ml.scoring_input import InputContract, InputError, Problem, check_records

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Explain = Callable[[list[Any]], Any]  # adds "text" to each prediction's reason_details

OPTIONS_ENV = "HIRELOOP_SCORING_APP"  # the launcher's hand-off to uvicorn's workers
KEY_ENV = "HIRELOOP_PSEUDONYM_KEY"     # the installation's key, when not in a key file
MAX_ERRORS = 200  # problems listed in one refusal (the count is always complete)
_log = logging.getLogger("hireloop.endpoint")


@dataclass(frozen=True)
class Limits:
    """What a request may cost before it is refused."""

    max_body_bytes: int = 1_000_000
    read_timeout_s: float = 10.0
    max_depth: int = 8


class Refusal(Exception):
    """A request refused before scoring: HTTP status, error code and the problems."""

    def __init__(self, status: int, code: str, message: str,
                 problems: Sequence[Problem] = ()):
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.problems)


def error_body(code: str, message: str, problems: Sequence[Problem] = ()) -> dict[str, Any]:
    """The one error shape of the endpoint: error_code, message, errors (row, field, rule,
    message), error_count."""
    return {"error_code": code, "message": message,
            "errors": [p.as_dict() for p in problems[:MAX_ERRORS]],
            "error_count": len(problems)}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number too large for a double")
    return value


def parse_json(body: bytes, max_depth: int) -> Any:
    """The body as JSON: strict numbers (no NaN/Infinity, no overflow), nesting bounded."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "BAD_REQUEST", "the body is not UTF-8 text",
                      [Problem(None, None, "encoding", "the body must be UTF-8 JSON")]) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        data = None
        too_deep = True
    except json.JSONDecodeError as exc:
        what = f"the body is not valid JSON (line {exc.lineno}, column {exc.colno})"
        raise Refusal(400, "BAD_REQUEST", what, [Problem(None, None, "json", what)]) from None
    except ValueError:  # from the hooks: NaN, Infinity, or a number that overflows
        what = ("NaN, Infinity and numbers beyond a double's range (about 1.8e308) are not "
                "JSON numbers the model accepts")
        raise Refusal(400, "BAD_REQUEST", what, [Problem(None, None, "number", what)]) from None
    else:
        too_deep = _deeper_than(data, max_depth)
    if too_deep:
        what = f"the JSON is nested more than {max_depth} levels deep"
        raise Refusal(400, "BAD_REQUEST", what, [Problem(None, None, "depth", what)])
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def request_records(data: Any) -> list[Any]:
    """The rows of a `dataframe_records` (or `dataframe_split`) body."""
    if isinstance(data, dict) and set(data) == {"dataframe_records"}:
        records = data["dataframe_records"]
        if isinstance(records, list):
            return records
    if isinstance(data, dict) and set(data) == {"dataframe_split"}:
        split = data["dataframe_split"]
        if (isinstance(split, dict) and isinstance(split.get("columns"), list)
                and isinstance(split.get("data"), list)
                and set(split) <= {"columns", "data", "index"}
                and all(isinstance(r, list) and len(r) == len(split["columns"])
                        for r in split["data"])
                and all(isinstance(c, str) for c in split["columns"])):
            return [dict(zip(split["columns"], row, strict=True)) for row in split["data"]]
    what = ('the body must be {"dataframe_records": [ {field: value, ...}, ... ]} '
            '(or "dataframe_split" with "columns" and "data")')
    raise Refusal(400, "BAD_REQUEST", what, [Problem(None, None, "format", what)])


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _json_content_type(value: str | None) -> bool:
    if value is None:
        return False
    mime, *params = (p.strip().lower() for p in value.split(";"))
    return mime == "application/json" and all(p in ("charset=utf-8", "charset=\"utf-8\"")
                                               for p in params if p)


async def read_body(scope: Scope, receive: Receive, limits: Limits) -> bytes:
    """The whole body, within the size limit and the read deadline (Refusal otherwise)."""
    size = _header(scope, b"content-length")
    too_big = Refusal(413, "PAYLOAD_TOO_LARGE",
                      f"the body exceeds {limits.max_body_bytes} bytes; split the batch",
                      [Problem(None, None, "body_size", f"the body may hold at most "
                               f"{limits.max_body_bytes} bytes")])
    if size is not None and size.isdigit() and int(size) > limits.max_body_bytes:
        raise too_big
    deadline = time.monotonic() + limits.read_timeout_s
    chunks, total = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise Refusal(408, "REQUEST_TIMEOUT", f"the body was not received within "
                          f"{limits.read_timeout_s:g} s",
                          [Problem(None, None, "read_timeout", "send the whole body within "
                                   f"{limits.read_timeout_s:g} s")]) from None
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limits.max_body_bytes:
            raise too_big
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, status: int, body: Mapping[str, Any],
                    extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *extra_headers]})
    await send({"type": "http.response.body", "body": data})


async def send_refusal(send: Send, refusal: Refusal) -> None:
    """The refusal's body; a body not read whole (408, 413) also closes the connection."""
    close = [(b"connection", b"close")] if refusal.status in (408, 413) else []
    await send_json(send, refusal.status, refusal.body(), close)


MISDIRECTED = Refusal(421, "MISDIRECTED_REQUEST", "this endpoint answers only requests "
                      "addressed to 127.0.0.1, localhost, [::1] or the host it binds",
                      [Problem(None, None, "host", "send the request to the endpoint's own "
                               "address (the Host header names another host)")])
UNAUTHENTICATED = Refusal(401, "UNAUTHENTICATED", "this endpoint needs its token: send "
                          "Authorization: Bearer <the installation's endpoint token>",
                          [Problem(None, None, "authorization", "the Authorization header "
                                   "is missing or does not hold the endpoint's token")])


async def send_guard_refusal(send: Send, refusal: Refusal) -> None:
    """A request refused before its body was read: the connection closes after it."""
    extra = [(b"www-authenticate", b"Bearer")] if refusal.status == 401 else []
    await send_json(send, refusal.status, refusal.body(), [(b"connection", b"close"), *extra])


INTERNAL = error_body("INTERNAL_ERROR", "the endpoint could not score this request; the "
                      "server log has the detail")


class ScoringLayer:
    """ASGI middleware in front of MLflow's scoring app (see the module docstring)."""

    def __init__(self, inner: ASGIApp, contract: InputContract | None, max_rows: int,
                 limits: Limits = Limits(), schema: Mapping[str, Any] | None = None,
                 records: RecordsRoute | None = None, explain: Explain | None = None,
                 scorer: Any = None, decisions: DecisionRoute | None = None,
                 token: str | None = None, hosts: frozenset[str] | None = None):
        self.inner, self.contract, self.max_rows, self.limits = inner, contract, max_rows, limits
        self.schema = schema  # served at GET /openapi.json (replacing MLflow's empty one)
        self.records = records  # the interview-records routes (ml/records_route.py)
        self.explain = explain  # adds each reason's words to a list of prediction dicts
        self.scorer = scorer  # the served HireloopPyfunc: checked batches scored here
        self.decisions = decisions  # POST /candidates/decision (ml/decision_route.py)
        self.token = token  # None: no token asked (a bare `python -m ml.scoring_app`)
        self.hosts = hosts  # the Host headers answered (None: any; ml.host_guard)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        if self.hosts is not None and not host_allowed(_header(scope, b"host"), self.hosts):
            await send_guard_refusal(send, MISDIRECTED)
            return
        if (self.token is not None and scope["path"] not in OPEN_PATHS
                and not authorised(_header(scope, b"authorization"), self.token)):
            await send_guard_refusal(send, UNAUTHENTICATED)
            return
        if scope["path"] == "/openapi.json" and self.schema is not None:
            await send_json(send, 200, self.schema)
            return
        if scope["path"] in RECORDS_PATHS and scope["method"] == "POST":
            await self._records(scope, receive, send)
            return
        if scope["path"] == DECISION_PATH and scope["method"] == "POST":
            await self._decision(scope, receive, send)
            return
        if scope["path"] != "/invocations" or scope["method"] != "POST":
            await self._guarded(scope, receive, send)
            return
        try:
            body, rows = await self._checked(scope, receive)
        except Refusal as refusal:
            await send_refusal(send, refusal)
            return
        except ConnectionError:
            return
        if self.scorer is not None:
            offsets = self.records.offsets_in_force() if self.records is not None else None
            await self._score(rows, send, offsets)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        headers = [(k, v) for k, v in scope.get("headers", ())
                   if k.lower() not in (b"content-length", b"content-type")]
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]
        await self._guarded({**scope, "headers": headers}, replay, send)

    async def _records(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An interview-records route: the same transport checks, then ml.records_route."""
        try:
            _, data = await self._parsed(scope, receive)
            if self.records is None:
                raise Refusal(404, "NOT_FOUND", "this endpoint serves no interview-records "
                              "route (the model is not a hireloop model)")
            answer = self.records.handle(scope["path"], data)
            if self.explain is not None and "predictions" in answer:
                self.explain(answer["predictions"])
        except Refusal as refusal:
            await send_refusal(send, refusal)
            return
        except RouteRefusal as r:
            await send_json(send, r.status, error_body(r.code, r.message, r.problems))
            return
        except ConnectionError:
            return
        except Exception:
            _log.exception("the interview-records route failed on %s", scope["path"])
            await send_json(send, 500, INTERNAL)
            return
        await send_json(send, 200, answer)

    async def _decision(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A person's decision: the same transport checks, then ml.decision_route (202)."""
        try:
            _, data = await self._parsed(scope, receive)
            if self.decisions is None:
                raise Refusal(404, "NOT_FOUND", "this endpoint records no decisions (the "
                              "model is not a hireloop model)")
            answer = self.decisions.handle(data)
        except Refusal as refusal:
            await send_refusal(send, refusal)
            return
        except DecisionRefused as r:
            await send_json(send, r.status, error_body(r.code, r.message, r.problems))
            return
        except ConnectionError:
            return
        except Exception:
            _log.exception("the decision route failed")
            await send_json(send, 500, error_body(
                "INTERNAL_ERROR", "the decision was not recorded; the server log has the "
                "detail"))
            return
        await send_json(send, 202, answer)

    async def _parsed(self, scope: Scope, receive: Receive) -> tuple[bytes, Any]:
        """The body and its JSON, once the transport checks passed (Refusal otherwise)."""
        if not _json_content_type(_header(scope, b"content-type")):
            what = "send the body as JSON with the header Content-Type: application/json"
            raise Refusal(415, "UNSUPPORTED_MEDIA_TYPE", what,
                          [Problem(None, None, "content_type", what)])
        body = await read_body(scope, receive, self.limits)
        return body, parse_json(body, self.limits.max_depth)

    async def _score(self, rows: list[Any], send: Send, offsets: Any = None) -> None:
        """A checked batch scored by the served pyfunc itself (`HireloopPyfunc.score_rows`:
        its `predict` without the DataFrame), answered as MLflow's app answers it
        (`{"predictions": [...]}`, the same JSON). MLflow's app would parse the same bytes
        again into a DataFrame and cast it to the signature (two thirds of its time for one
        row) only for the pyfunc to read the rows back into arrays; the layer has them."""
        try:
            predictions = self.scorer.score_rows(rows, offsets)
        except InputError as exc:  # not after check_records; said the layer's way if ever
            await send_json(send, 400, Refusal(400, "INVALID_PARAMETER_VALUE", "the request "
                            "could not be scored", exc.problems).body())
            return
        except Exception:
            _log.exception("scoring failed on /invocations")
            await send_json(send, 500, INTERNAL)
            return
        if self.explain is not None:
            self.explain(predictions)
        await send_json(send, 200, {"predictions": predictions})

    async def _checked(self, scope: Scope, receive: Receive) -> tuple[bytes, list[Any]]:
        """The body MLflow gets (the one read, once checked) and its rows, or a Refusal.
        MLflow parses the same bytes with the same `json` module, so it reads the rows
        checked here."""
        body, data = await self._parsed(scope, receive)
        records = request_records(data)
        if self.contract is not None:
            problems = check_records(records, self.contract, self.max_rows)
            if problems:
                rows = sorted({p.row for p in problems if p.row is not None})
                what = (f"{len(rows)} of {len(records)} rows cannot be scored; nothing was "
                        "scored: fix or remove them and send the batch again"
                        if rows else problems[0].message)
                raise Refusal(400, "INVALID_PARAMETER_VALUE", what, problems)
        return body, records

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run MLflow's app; an answer of 4xx or 5xx from it is replaced by ours (MLflow's
        messages repeat the request and carry stack traces), the detail logged here."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] < 400:
                    await send(message)
            elif start is not None and start["status"] >= 400:
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        try:
            await self.inner(scope, receive, capture)
        except Exception:
            _log.exception("the scoring app failed on %s", scope.get("path"))
            if start is None:
                await send_json(send, 500, INTERNAL)
            return
        if start is None or start["status"] < 400:
            return
        status, detail = start["status"], b"".join(chunks)
        code, message, trace = _detail(detail)
        if status >= 500 or trace:  # MLflow answers an unexpected error 400 with its trace
            _log.error("the scoring app failed on %s (HTTP %s, %s): %s\n%s", scope["path"],
                       status, code, message, trace)
            await send_json(send, 500, INTERNAL)
        elif scope["path"] == "/invocations":
            _log.warning("the scoring app refused a request the layer passed (%s): %s",
                         code, message)
            await send_json(send, status, error_body(
                "INVALID_PARAMETER_VALUE", "the request could not be scored; check it "
                "against the published schema"))
        else:
            await send_json(send, status, error_body(
                "NOT_FOUND" if status == 404 else "BAD_REQUEST", f"HTTP {status} on this path"))


def _explainer(language: str) -> Explain:
    """`monitoring.reason_text.explain` in `language` (a ValueError naming the choices for
    an unknown one). Imported here only: see the module docstring."""
    from monitoring.reason_text import explainer

    return explainer(language)


def _decision_check() -> Callable[[object, object, object], list[str]]:
    """monitoring.decisions.check_decision, the one check of a person's decision (the CLI's
    too). Imported here only: see the module docstring."""
    from monitoring.decisions import check_decision

    return check_decision


def _decision_rules() -> tuple[tuple[str, ...], str, int]:
    """The decision rules for the published contract (monitoring.hiring_decisions)."""
    from monitoring.hiring_decisions import published_rules

    return published_rules()


def _detail(body: bytes) -> tuple[str, str, str]:
    """(error_code, message, stack trace) of MLflow's error body, for the server log; the
    request MLflow puts before the message ("Failed to predict data '...'") is cut."""
    try:
        data = json.loads(body)
    except ValueError:
        return "?", body[:2000].decode("utf-8", "replace"), ""
    if not isinstance(data, dict):
        return "?", str(data)[:2000], ""
    message = str(data.get("message", ""))
    if message.startswith("Failed to predict data"):
        message = message.split("\nError: ", 1)[-1] if "\nError: " in message else ""
    return str(data.get("error_code", "?")), message[:2000], str(data.get("stack_trace", ""))


def create_app(model_uri: str, limits: Limits = Limits(), serving_context: Path | None = None,
               pseudonymise: Callable[[str], str] | None = None, language: str | None = "en",
               token: str | None = None, hosts: frozenset[str] | None = None
               ) -> ScoringLayer:
    """Load the model (once, as MLflow's server does) and wrap MLflow's app for it; with a
    serving context and a pseudonymiser, the interview-records routes answer too; reasons
    get their words in `language` (None: none added); `token` and `hosts` guard every
    request (None: not guarded)."""
    from mlflow.pyfunc import load_model, scoring_server

    explain = None if language is None else _explainer(language)

    model = load_model(model_uri)
    contract, max_rows, schema, records, scorer = None, 1000, None, None, None
    try:
        inner_model = model.unwrap_python_model()
    except Exception:  # not a Python-model pyfunc: transport checks only
        inner_model = None
    if inner_model is not None and isinstance(getattr(inner_model, "contract", None),
                                              InputContract):
        contract, max_rows = inner_model.contract, int(inner_model.max_rows)
        schema = endpoint_schema(contract, max_rows,
                                 str(getattr(inner_model, "model_version", "") or "unregistered"))
        records = RecordsRoute(inner_model, serving_context, pseudonymise)
        scorer = inner_model if callable(getattr(inner_model, "score_rows", None)) else None
        with contextlib.suppress(RouteRefusal):  # no context yet: /invocations only
            schema = add_records_routes(schema, records.context().rules)
            schema = add_decision_route(schema, *_decision_rules())
    decisions = None
    if records is not None:
        log = inference_log_path({}, os.environ)
        decisions = DecisionRoute(decision_log_path(log) if log else None, pseudonymise,
                                  _decision_check())
    return ScoringLayer(scoring_server.init(model), contract, max_rows, limits, schema,
                        records, explain, scorer, decisions, token, hosts)


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """The installation's pseudonym function (hris.pseudonym, the one definition), cached
    per id: an interviewer or a question recurs in every request."""
    from hris.pseudonym import pseudonym

    return functools.lru_cache(maxsize=65_536)(functools.partial(pseudonym, key))


def _read_key(options: Mapping[str, Any]) -> bytes | None:
    """The pseudonym key: the key file named in the options, else the variable the
    launcher's environment holds (never in the options, which any worker could log)."""
    if options.get("pseudonym_key_file"):
        try:
            return Path(options["pseudonym_key_file"]).read_bytes().strip() or None
        except OSError as exc:  # /invocations still serves; the records routes say why not
            _log.error("cannot read the pseudonym key file: %s", exc.strerror)
            return None
    value = os.environ.get(KEY_ENV, "")
    return value.encode() if value else None


def _read_token(options: Mapping[str, Any]) -> str | None:
    """The endpoint's token: the token file named in the options (TokenFileError when it
    cannot be read: the endpoint must not serve open), else the launcher's variable."""
    if options.get("token_file"):
        return read_token_file(options["token_file"])
    return os.environ.get(TOKEN_ENV, "").strip() or None


def app_from_options() -> ScoringLayer:
    """uvicorn's factory in each worker: the options the launcher handed over."""
    options = json.loads(os.environ[OPTIONS_ENV])
    key = _read_key(options)
    context = options.get("serving_context")
    return create_app(options["model_uri"], Limits(**options["limits"]),
                      Path(context) if context else None,
                      pseudonymiser(key) if key else None, options.get("language", "en"),
                      _read_token(options), allowed_hosts(options.get("host", "127.0.0.1")))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ml.scoring_app")
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-body-bytes", type=int, default=Limits.max_body_bytes)
    parser.add_argument("--read-timeout-s", type=float, default=Limits.read_timeout_s)
    parser.add_argument("--serving-context", default=None,
                        help="the feature store's serving context (JSON, rewritten by each "
                             "build and reloaded when it changes)")
    parser.add_argument("--pseudonym-key-file", default=None,
                        help=f"the installation's pseudonym key (else ${KEY_ENV})")
    parser.add_argument("--token-file", default=None,
                        help=f"the endpoint's bearer token (else ${TOKEN_ENV}; neither: "
                             "no token asked)")
    parser.add_argument("--language", default="en",
                        help="the language of the reasons' words (en | zh)")
    args = parser.parse_args(argv)
    try:
        _explainer(args.language)  # an unknown language: refused here, before any worker
    except ValueError as exc:
        parser.error(str(exc))
    try:
        token = _read_token({"token_file": args.token_file})  # unreadable: refused here
    except TokenFileError as exc:
        parser.error(str(exc))
    import uvicorn

    limits = Limits(args.max_body_bytes, args.read_timeout_s)
    os.environ[OPTIONS_ENV] = json.dumps({"model_uri": args.model_uri,
                                          "limits": asdict(limits),
                                          "serving_context": args.serving_context,
                                          "pseudonym_key_file": args.pseudonym_key_file,
                                          "token_file": args.token_file,
                                          "host": args.host,
                                          "language": args.language})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if token is None:
        _log.warning("no endpoint token configured: any local user can call every route")
    uvicorn.run("ml.scoring_app:app_from_options", factory=True, host=args.host,
                port=args.port, workers=args.workers, timeout_keep_alive=5,
                log_level="info")


if __name__ == "__main__":
    main()
