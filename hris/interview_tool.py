"""The interview tool's turn: it sends each waiting candidate's interview records to the
scoring endpoint over HTTP, as the ATS does (POST /candidates/score, the HR system's ids),
with the installation's endpoint token (`Authorization: Bearer`).

What it sends is `ats_requests.waiting_candidate_requests` (the export's rows the feature
store accepted); the endpoint logs every score it gives (its inference log), so the
inference-log ingest that follows finds them in `monitoring.scoring_log` as 'online'.
"""

from __future__ import annotations

from hris.ats_requests import waiting_candidate_requests
from ml.datasets import CANDIDATES_TO_SCORE
from ml.http_scoring import RECORDS, HttpScoringReport, score_over_http


def waiting_candidates(conn) -> list[str]:
    """The feature store's pseudonyms of the candidates waiting for a decision."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT candidate_id FROM {CANDIDATES_TO_SCORE} ORDER BY candidate_id")
        return [row[0] for row in cur.fetchall()]


def score_waiting_candidates(conn, key: bytes, waiting: list[str], url: str,
                             token: str | None, batch_size: int = 100) -> HttpScoringReport:
    """Read the records of the `waiting` candidates (`waiting_candidates`, read by another
    role: the marts are not the tool's) from `conn` (then release its transaction), and
    post them to the endpoint at `url` with its `token` in batches of `batch_size`; what
    was scored and refused."""
    try:
        rows = waiting_candidate_requests(conn, key, waiting)
    finally:
        conn.rollback()  # read only: hold no snapshot while the endpoint works
    return score_over_http(url, rows, batch_size=batch_size, route=RECORDS, token=token)


def score_records(url: str, token: str | None, requests: list[dict], batch_size: int = 100
                  ) -> HttpScoringReport:
    """Post candidates' interview records (hris.ats_requests' shape, HR ids, each with its
    `request_id`) to the endpoint at `url` with its `token`; the report keeps every
    prediction, so the caller joins each answer to its candidate by request id."""
    return score_over_http(url, requests, batch_size=batch_size, route=RECORDS,
                           keep_predictions=True, token=token)
