"""A client for the scoring endpoint, as the interview tool would use it (demo, checks).

Rows go in batches, as `dataframe_records` to /invocations (aggregated features) or as
`candidates` to /candidates/score (interview records, ml/interview_records.py), with the
endpoint's token (`Authorization: Bearer`, ml/bearer_token.py) when it asks one. The
endpoint scores a batch whole or not at all: a refused batch (400) lists every bad row
(`errors`: row, field, rule, message), so the client sends the batch again without those
rows, once, and counts each bad row as one refusal. A refusal that names no row (413: body
too large) is retried row by row.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ml.bearer_token import bearer_header


@dataclass
class HttpScoringReport:
    rows: int = 0
    scored: int = 0
    refused: int = 0
    failed: int = 0  # 5xx or no answer: should never happen
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)  # first refusals, for the reader
    predictions: list[dict[str, Any]] = field(default_factory=list)


INVOCATIONS, RECORDS = "/invocations", "/candidates/score"
_BODY_KEY = {INVOCATIONS: "dataframe_records", RECORDS: "candidates"}


def request_body(rows: list[dict[str, Any]], route: str = INVOCATIONS) -> str:
    return json.dumps({_BODY_KEY[route]: rows})


class ScoringClient:
    """One keep-alive HTTP connection to `url` (http://host:port), posting to `route` with
    the endpoint's `token` (None: none sent)."""

    def __init__(self, url: str, timeout: float = 60.0, route: str = INVOCATIONS,
                 token: str | None = None):
        parts = urlsplit(url)
        self.route = route
        self._headers = {"Content-Type": "application/json", **bearer_header(token)}
        self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def post(self, rows: list[dict[str, Any]]) -> tuple[int, Any]:
        self._conn.request("POST", self.route, body=request_body(rows, self.route).encode(),
                           headers=self._headers)
        resp = self._conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def close(self) -> None:
        self._conn.close()


def _message(body: Any) -> str:
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)


def _bad_rows(body: Any) -> dict[int, str]:
    """Row (in the batch sent) -> its first problem, from a structured refusal."""
    out: dict[int, str] = {}
    errors = body.get("errors", []) if isinstance(body, dict) else []
    for problem in errors if isinstance(errors, list) else []:
        row = problem.get("row") if isinstance(problem, dict) else None
        if isinstance(row, int) and row not in out:
            out[row] = str(problem.get("message", ""))
    return out


def score_over_http(url: str, rows: list[dict[str, Any]], batch_size: int = 100,
                    keep_messages: int = 5, keep_predictions: bool = False,
                    route: str = INVOCATIONS, token: str | None = None) -> HttpScoringReport:
    """POST `rows` to `url` + `route` in batches, with the endpoint's `token`; count what was
    scored and refused."""
    report = HttpScoringReport(rows=len(rows))
    client = ScoringClient(url, route=route, token=token)

    def send(batch: list[dict[str, Any]]) -> tuple[int, Any]:
        status, body = client.post(batch)
        report.requests += 1
        report.statuses[status] += 1
        return status, body

    def accept(body: Any) -> None:
        preds = body.get("predictions", []) if isinstance(body, dict) else []
        report.scored += len(preds)
        if keep_predictions:
            report.predictions += preds

    def refuse(status: int, message: str) -> None:
        report.refused += 1
        if len(report.messages) < keep_messages:
            report.messages.append(f"HTTP {status}: {message[:300]}")

    def score(batch: list[dict[str, Any]], retry: bool = True) -> None:
        status, body = send(batch)
        if status == 200:
            accept(body)
        elif not 400 <= status < 500:
            report.failed += len(batch)
            report.messages.append(f"HTTP {status}: {_message(body)[:300]}")
        elif (bad := _bad_rows(body)) and retry:
            for row, message in sorted(bad.items()):
                refuse(status, f"row {row}: {message}")
            rest = [r for i, r in enumerate(batch) if i not in bad]
            if rest:
                score(rest, retry=False)
        elif len(batch) > 1:
            for row in batch:
                score([row], retry=False)
        else:
            refuse(status, _message(body))

    try:
        for start in range(0, len(rows), batch_size):
            score(rows[start:start + batch_size])
    finally:
        client.close()
    return report
