"""The raw store against a real PostgreSQL: versions, duplicates, NULL keys, transactions."""

from __future__ import annotations

import pandas as pd
import pytest

from hris.contract import RAW_TABLES
from hris.raw_store import ensure_raw_schema, load_raw
from tests.hris.raw_fixtures import fingerprints, make_raw_frames


def _scores(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    return {"interview_scores": pd.DataFrame(rows, columns=RAW_TABLES["interview_scores"].columns,
                                             dtype=object)}


def _fetch(conn, query: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()


def test_first_load_inserts_every_row_and_reload_changes_nothing(new_db):
    conn = new_db()
    frames = make_raw_frames(150, seed=1)
    first = load_raw(conn, frames, "export-1")
    conn.commit()
    assert first.inserted == first.rows_read == sum(len(f) for f in frames.values())
    before = fingerprints(conn)
    loaded_at = _fetch(conn, "SELECT min(_loaded_at), max(_loaded_at) FROM raw.candidates")

    again = load_raw(conn, frames, "export-1-again")
    conn.commit()
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, again.rows_read)
    assert fingerprints(conn) == before
    assert _fetch(conn, "SELECT min(_loaded_at), max(_loaded_at) FROM raw.candidates") == loaded_at
    assert _fetch(conn, "SELECT DISTINCT _source FROM raw.candidates") == [("export-1",)]
    for table in RAW_TABLES:
        assert _fetch(conn, f"SELECT count(*) FROM raw.{table}__replaced") == [(0,)]


def test_changed_row_replaces_its_version_and_keeps_the_old_one(new_db):
    conn = new_db()
    load_raw(conn, _scores([("I1", "logic", "4", "ai"), ("I1", "empathy", "6", "ai")]), "v1")
    conn.commit()
    report = load_raw(conn, _scores([("I1", "logic", "9", "ai"), ("I1", "empathy", "6", "ai")]),
                      "v2")
    conn.commit()
    t = report.tables["interview_scores"]
    assert (t.inserted, t.updated, t.unchanged) == (0, 1, 1)
    assert _fetch(conn, "SELECT dimension, score, _source FROM raw.interview_scores "
                        "ORDER BY dimension") == [("empathy", "6", "v1"), ("logic", "9", "v2")]
    assert _fetch(conn, "SELECT dimension, score, _source, _replaced_at IS NOT NULL "
                        "FROM raw.interview_scores__replaced") == [("logic", "4", "v1", True)]


def test_rows_absent_from_a_later_export_are_kept(new_db):
    conn = new_db()
    load_raw(conn, _scores([("I1", "logic", "4", "ai"), ("I2", "logic", "5", "ai")]), "full")
    report = load_raw(conn, _scores([("I3", "logic", "7", "ai")]), "incremental")
    assert report.inserted == 1
    assert _fetch(conn, "SELECT interview_id FROM raw.interview_scores ORDER BY 1") == [
        ("I1",), ("I2",), ("I3",)]


def test_duplicates_and_null_keys_are_kept_numbered_in_file_order(new_db):
    conn = new_db()
    rows = [
        ("I1", "logic", "4", "ai"),
        ("I1", "logic", "4", "ai"),  # exact duplicate
        ("I1", "logic", "8", "ai"),  # same key, other value
        (None, "logic", "1", "ai"),  # NULL key part, twice
        ("", "logic", "2", "ai"),  # '' is the same missing value as None
    ]
    report = load_raw(conn, _scores(rows), "dups")
    conn.commit()
    assert report.tables["interview_scores"].duplicates == 3
    assert _fetch(conn, "SELECT interview_id, score, _dup_seq FROM raw.interview_scores "
                        "ORDER BY interview_id NULLS LAST, _dup_seq") == [
        ("I1", "4", 1), ("I1", "4", 2), ("I1", "8", 3), (None, "1", 1), (None, "2", 2)]

    # Re-loading the same rows, NULL keys included, matches them all.
    again = load_raw(conn, _scores(rows), "dups")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    # A changed value under a NULL key is an update, found null-safely.
    rows[3] = (None, "logic", "3", "ai")
    changed = load_raw(conn, _scores(rows), "dups-2")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 4)
    assert _fetch(conn, "SELECT score FROM raw.interview_scores__replaced") == [("1",)]


def test_optional_columns_may_be_missing_and_extra_columns_are_ignored(new_db):
    conn = new_db()
    frame = make_raw_frames(20, seed=2)["candidates"].drop(columns=["phone", "race_ethnicity"])
    frame["favourite_colour"] = "blue"
    load_raw(conn, {"candidates": frame}, "partial")
    assert _fetch(conn, "SELECT count(*), count(phone), count(race_ethnicity) "
                        "FROM raw.candidates") == [(20, 0, 0)]


def test_rejects_unknown_tables_and_missing_required_columns(new_db):
    conn = new_db()
    with pytest.raises(ValueError, match="unknown raw table"):
        load_raw(conn, {"salaries": pd.DataFrame({"x": ["1"]})}, "bad")
    frame = make_raw_frames(5, seed=3)["candidates"].drop(columns=["email"])
    with pytest.raises(ValueError, match="email"):
        load_raw(conn, {"candidates": frame}, "bad")


def test_load_does_not_commit(new_db, pg_server):
    conn = new_db()
    with conn.cursor() as cur:
        ensure_raw_schema(cur)
        ensure_raw_schema(cur)  # idempotent
    conn.commit()
    load_raw(conn, make_raw_frames(10, seed=4), "uncommitted")
    dbname = conn.get_dsn_parameters()["dbname"]
    other = pg_server.endpoint.connect(dbname)
    try:
        assert _fetch(other, "SELECT count(*) FROM raw.candidates") == [(0,)]
        conn.rollback()
        assert _fetch(conn, "SELECT count(*) FROM raw.candidates") == [(0,)]
    finally:
        other.close()


def test_report_reads_as_a_table(new_db):
    conn = new_db()
    report = load_raw(conn, make_raw_frames(30, seed=5), "report")
    text = str(report)
    assert "interview_scores" in text and "total" in text
    assert f"{report.rows_read:,}" in text
