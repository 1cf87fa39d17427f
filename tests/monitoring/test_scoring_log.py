"""The scoring log on a real PostgreSQL: idempotent ingestion, rejects kept with reasons."""

from __future__ import annotations

import json

import pandas as pd
import psycopg2
import pytest

from monitoring.scoring_log import append_scores, ensure_schema, ingest_inference_log


@pytest.fixture
def conn(pg_server):
    """A fresh database per test: the log is append-only, so tests cannot clean up."""
    database = pg_server.create_database("scoring_log")
    connection = pg_server.endpoint.connect(database)
    with connection, connection.cursor() as cur:
        ensure_schema(cur)
    yield connection
    connection.close()


def line(i: int, **override) -> str:
    record = {
        "request_id": f"req-{i}", "candidate_pseudonym": None, "model_version": "3",
        "input_hash": f"h{i}", "probability": 0.1 + i / 100, "band": "medium",
        "scored_at": f"2026-11-26T10:{i:02d}:00+00:00",
    }
    record.update(override)
    return json.dumps(record) + "\n"


def count(conn, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM monitoring.{table}")
        return cur.fetchone()[0]


def ingest(conn, path):
    with conn, conn.cursor() as cur:
        return ingest_inference_log(cur, path)


def test_ingest_twice_adds_nothing(conn, tmp_path):
    path = tmp_path / "inference.jsonl"
    path.write_text("".join(line(i) for i in range(5)))
    first = ingest(conn, path)
    assert (first.added, first.rejected, first.offset) == (5, 0, path.stat().st_size)
    again = ingest(conn, path)
    assert (again.added, again.duplicates) == (0, 0)
    assert count(conn, "scoring_log") == 5

    with path.open("a") as fh:  # appended lines, plus one still being written
        fh.write(line(5) + line(6) + line(7).rstrip("\n"))
    assert ingest(conn, path).added == 2
    with path.open("a") as fh:
        fh.write("\n")
    assert ingest(conn, path).added == 1

    path.write_text(line(3) + line(8))  # rotated: shorter file, one old record, one new
    rotated = ingest(conn, path)
    assert (rotated.added, rotated.duplicates) == (1, 1)
    assert count(conn, "scoring_log") == 9
    with conn.cursor() as cur:
        cur.execute(
            "SELECT probability, source FROM monitoring.scoring_log WHERE request_id = 'req-8'"
        )
        assert cur.fetchone() == (pytest.approx(0.18), "online")


def test_malformed_lines_rejected_with_reason(conn, tmp_path):
    path = tmp_path / "inference.jsonl"
    bad = {
        "{not json\n": "not JSON",
        line(1, probability=1.7): "probability out of [0, 1]",
        line(2, probability="high"): "probability must be a number",
        line(3, request_id=None): "needs request_id or candidate_pseudonym",
        line(4, scored_at="2026-11-26T10:00:00"): "no time zone",
        line(5, model_version=None): "missing model_version",
        "[1, 2]\n": "expected a JSON object",
    }
    path.write_text(line(0) + "".join(bad) + "\n" + line(9))
    result = ingest(conn, path)
    assert (result.added, result.rejected) == (2, len(bad))
    with conn.cursor() as cur:
        cur.execute("SELECT raw_line, reason FROM monitoring.scoring_log_rejects")
        reasons = {raw + "\n": reason for raw, reason in cur.fetchall()}
    assert reasons.keys() == bad.keys()
    for raw, expected in bad.items():
        assert expected in reasons[raw]

    path.write_text(path.read_text())  # same content again from offset 0: nothing new
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM monitoring.inference_log_offsets")
    again = ingest(conn, path)
    assert (again.added, again.rejected) == (0, 0)
    assert count(conn, "scoring_log_rejects") == len(bad)


def test_batch_scores_append_only(conn):
    frame = pd.DataFrame({
        "candidate_pseudonym": ["c1", "c2"], "request_id": [None, None],
        "model_version": ["3", "3"], "input_hash": ["a", "b"], "probability": [0.2, 0.9],
        "band": ["low", "high"],
        "scored_at": pd.to_datetime(["2026-11-26T10:00Z", "2026-11-26T10:01Z"], utc=True),
    })
    with conn, conn.cursor() as cur:
        assert append_scores(cur, frame) == 2
        assert append_scores(cur, frame) == 0  # a retried batch adds nothing
    with pytest.raises(psycopg2.Error, match="append-only"), conn, conn.cursor() as cur:
        cur.execute("UPDATE monitoring.scoring_log SET probability = 0.5")
    with pytest.raises(psycopg2.Error, match="append-only"), conn, conn.cursor() as cur:
        cur.execute("DELETE FROM monitoring.scoring_log")
    assert count(conn, "scoring_log") == 2
