"""The scoring log: every score the model gave, online or batch, append-only in PostgreSQL.

Online scores reach it through the endpoint's inference log, a JSON-lines file with one
object per scored row::

    {"request_id": "r-1", "candidate_pseudonym": "c5f…", "model_version": "3",
     "input_hash": "ab12…", "probability": 0.62, "band": "high",
     "scored_at": "2026-11-26T10:00:00+00:00"}

(`request_id` or `candidate_pseudonym` may be null, not both.) Ingestion is idempotent:
the byte offset reached in each file is stored with the rows, in the same transaction, and
every record carries a hash of itself, so re-reading a file (or a rotated copy of it) adds
nothing. A malformed line is neither fatal nor dropped: it lands in
`monitoring.scoring_log_rejects` with the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg2.extras import execute_values

SOURCES = ("online", "batch")
REQUIRED = ("model_version", "input_hash", "probability", "band", "scored_at")
COLUMNS = (
    "request_id", "candidate_pseudonym", "model_version", "input_hash", "probability",
    "band", "scored_at", "source", "record_hash",
)

DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;

CREATE TABLE IF NOT EXISTS monitoring.scoring_log (
    score_id            bigserial PRIMARY KEY,
    request_id          text,
    candidate_pseudonym text,
    model_version       text NOT NULL,
    input_hash          text NOT NULL,
    probability         float8 NOT NULL CHECK (probability >= 0 AND probability <= 1),
    band                text NOT NULL,
    scored_at           timestamptz NOT NULL,
    source              text NOT NULL CHECK (source IN ('online', 'batch')),
    record_hash         text NOT NULL UNIQUE,
    ingested_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (request_id IS NOT NULL OR candidate_pseudonym IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS scoring_log_scored_at_idx ON monitoring.scoring_log (scored_at);

CREATE TABLE IF NOT EXISTS monitoring.scoring_log_rejects (
    reject_id   bigserial PRIMARY KEY,
    log_path    text NOT NULL,
    byte_offset bigint NOT NULL,
    line_hash   text NOT NULL UNIQUE,
    raw_line    text NOT NULL,
    reason      text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS monitoring.inference_log_offsets (
    log_path    text PRIMARY KEY,
    byte_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION monitoring.reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'monitoring.% is append-only', TG_TABLE_NAME;
END $$;

-- Created only when missing: re-creating it would need an exclusive lock on the log and
-- wait behind every open reader.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_trigger
        WHERE tgname = 'scoring_log_append_only'
          AND tgrelid = 'monitoring.scoring_log'::regclass
    ) THEN
        CREATE TRIGGER scoring_log_append_only
            BEFORE UPDATE OR DELETE ON monitoring.scoring_log
            FOR EACH ROW EXECUTE FUNCTION monitoring.reject_change();
    END IF;
END $$;
"""

_INSERT = (
    f"INSERT INTO monitoring.scoring_log ({', '.join(COLUMNS)}) VALUES %s "
    "ON CONFLICT (record_hash) DO NOTHING RETURNING 1"
)
_BATCH = 1000


def ensure_schema(cursor) -> None:
    """Create the scoring log tables (idempotent)."""
    cursor.execute(DDL)


def _record_hash(row: dict[str, Any]) -> str:
    fields = [row.get(c) for c in COLUMNS if c != "record_hash"]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()


def _text(record: dict[str, Any], key: str, required: bool) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"missing {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be a string, got {type(value).__name__}")
    return str(value)


def parse_record(record: Any, source: str = "online") -> dict[str, Any]:
    """Validate one scoring record; raises ValueError with the reason it is unusable."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    row: dict[str, Any] = {
        "request_id": _text(record, "request_id", required=False),
        "candidate_pseudonym": _text(record, "candidate_pseudonym", required=False),
    }
    if row["request_id"] is None and row["candidate_pseudonym"] is None:
        raise ValueError("needs request_id or candidate_pseudonym")
    for key in ("model_version", "input_hash", "band"):
        row[key] = _text(record, key, required=True)
    probability = record.get("probability")
    if isinstance(probability, bool) or not isinstance(probability, int | float):
        raise ValueError(f"probability must be a number, got {probability!r}")
    if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
        raise ValueError(f"probability out of [0, 1]: {probability!r}")
    row["probability"] = float(probability)
    raw_at = record.get("scored_at")
    if not isinstance(raw_at, str):
        raise ValueError(f"scored_at must be an ISO 8601 string, got {raw_at!r}")
    try:
        scored_at = datetime.fromisoformat(raw_at)
    except ValueError as exc:
        raise ValueError(f"scored_at is not ISO 8601: {raw_at!r}") from exc
    if scored_at.tzinfo is None:
        raise ValueError(f"scored_at has no time zone: {raw_at!r}")
    row["scored_at"] = scored_at.isoformat()
    row["source"] = source
    row["record_hash"] = _record_hash(row)
    return row


def _insert(cursor, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    values = [tuple(r[c] for c in COLUMNS) for r in rows]
    return len(execute_values(cursor, _INSERT, values, page_size=_BATCH, fetch=True))


def append_scores(cursor, frame: pd.DataFrame, source: str = "batch") -> int:
    """Append scores from a frame (columns as in the log); returns rows added.

    A row already in the log (same content) is not added twice, so a retried batch
    scoring run is harmless. Invalid rows raise: batch scores come from our own code.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    rows = []
    for record in records:
        at = record.get("scored_at")
        if isinstance(at, datetime):
            record["scored_at"] = at.isoformat()
        rows.append(parse_record(record, source=source))
    return sum(_insert(cursor, rows[i : i + _BATCH]) for i in range(0, len(rows), _BATCH))


@dataclass(frozen=True)
class IngestResult:
    """What one pass over an inference log did."""

    added: int
    duplicates: int
    rejected: int
    offset: int

    def __int__(self) -> int:
        return self.added


def read_offset(cursor, key: str) -> int:
    """The byte offset a JSON-lines log (`key`: its resolved path) was read up to."""
    cursor.execute(
        "SELECT byte_offset FROM monitoring.inference_log_offsets WHERE log_path = %s", [key]
    )
    found = cursor.fetchone()
    return int(found[0]) if found else 0


def store_offset(cursor, key: str, offset: int) -> None:
    cursor.execute(
        "INSERT INTO monitoring.inference_log_offsets (log_path, byte_offset) VALUES (%s, %s) "
        "ON CONFLICT (log_path) DO UPDATE SET byte_offset = EXCLUDED.byte_offset, "
        "updated_at = now()",
        [key, offset],
    )


def reject_line(cursor, path: str, offset: int, raw: bytes, reason: str) -> int:
    cursor.execute(
        "INSERT INTO monitoring.scoring_log_rejects (log_path, byte_offset, line_hash, raw_line,"
        " reason) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (line_hash) DO NOTHING",
        [path, offset, hashlib.sha256(raw).hexdigest(), raw.decode("utf-8", "replace"), reason],
    )
    return cursor.rowcount


def ingest_inference_log(cursor, path: Path) -> IngestResult:
    """Append the new complete lines of a JSON-lines inference log; idempotent.

    Resumes at the offset stored for `path`; a file shorter than that offset was rotated
    or truncated and is read again from the start (record hashes keep that harmless).
    A trailing line without its newline is still being written and is left for next time.
    The caller commits: rows, rejects and the new offset land together or not at all.
    """
    ensure_schema(cursor)
    key = str(Path(path).resolve())
    offset = read_offset(cursor, key)
    if not Path(path).exists():
        return IngestResult(0, 0, 0, offset)
    if Path(path).stat().st_size < offset:
        offset = 0
    rows: list[dict[str, Any]] = []
    parsed = added = rejected = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            line_at, offset = offset, offset + len(raw)
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                rows.append(parse_record(json.loads(line.decode("utf-8"))))
            except UnicodeDecodeError:
                rejected += reject_line(cursor, key, line_at, line, "not UTF-8")
                continue
            except json.JSONDecodeError as exc:
                rejected += reject_line(cursor, key, line_at, line, f"not JSON: {exc.msg}")
                continue
            except ValueError as exc:
                rejected += reject_line(cursor, key, line_at, line, str(exc))
                continue
            parsed += 1
            if len(rows) >= _BATCH:
                added += _insert(cursor, rows)
                rows = []
    added += _insert(cursor, rows)
    store_offset(cursor, key, offset)
    return IngestResult(added, parsed - added, rejected, offset)
