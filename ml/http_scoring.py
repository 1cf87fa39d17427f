"""A client for the scoring endpoint, as the interview tool would use it (demo, checks).

Rows go in batches as `dataframe_records`; a refused batch (4xx: the endpoint names the
first bad row) is retried row by row, so one bad row is counted as one refusal and the
good rows of its batch are still scored.
"""

from __future__ import annotations

import http.client
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


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


def request_body(rows: list[dict[str, Any]]) -> str:
    return json.dumps({"dataframe_records": rows})


class ScoringClient:
    """One keep-alive HTTP connection to `url` (http://host:port)."""

    def __init__(self, url: str, timeout: float = 60.0):
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def post(self, rows: list[dict[str, Any]]) -> tuple[int, Any]:
        self._conn.request("POST", "/invocations", body=request_body(rows).encode(),
                           headers={"Content-Type": "application/json"})
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


def score_over_http(url: str, rows: list[dict[str, Any]], batch_size: int = 100,
                    keep_messages: int = 5, keep_predictions: bool = False
                    ) -> HttpScoringReport:
    """POST `rows` to `url`/invocations in batches; count what was scored and refused."""
    report = HttpScoringReport(rows=len(rows))
    client = ScoringClient(url)

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

    try:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            status, body = send(batch)
            if status == 200:
                accept(body)
                continue
            if not 400 <= status < 500:
                report.failed += len(batch)
                report.messages.append(f"HTTP {status}: {_message(body)[:300]}")
                continue
            for row in batch if len(batch) > 1 else []:
                status, body = send([row])
                if status == 200:
                    accept(body)
                elif 400 <= status < 500:
                    report.refused += 1
                    if len(report.messages) < keep_messages:
                        report.messages.append(f"HTTP {status}: {_message(body)[:300]}")
                else:
                    report.failed += 1
            if len(batch) == 1:
                report.refused += 1
                if len(report.messages) < keep_messages:
                    report.messages.append(f"HTTP {status}: {_message(body)[:300]}")
    finally:
        client.close()
    return report
