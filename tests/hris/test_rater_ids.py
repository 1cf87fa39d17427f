"""The interview tool's rater lookup names interviewers exactly as the feature store does."""

from __future__ import annotations

import csv
import stat

from hris.rater_ids import interviewer_ids, rater_id_lookup, write_rater_id_lookup


def test_lookup_matches_the_pseudonyms_dbt_gives_interviewers(feature_store, tmp_path):
    conn = feature_store.connect()
    try:
        ids = interviewer_ids(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT interviewer_id FROM marts.dim_interviewers")
            in_store = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    lookup = rater_id_lookup(feature_store.key, ids)
    assert len(ids) > 10
    assert set(lookup.values()) == in_store

    path = write_rater_id_lookup(lookup, tmp_path / "lookup" / "rater_ids.csv")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["interviewer_id"]: r["rater_id"] for r in rows} == lookup


def test_a_lookup_with_another_key_is_detected(feature_store):
    from hris.rater_ids import key_matches_feature_store

    conn = feature_store.connect()
    try:
        assert key_matches_feature_store(conn, feature_store.key) is True
        assert key_matches_feature_store(conn, feature_store.key + b"x") is False
    finally:
        conn.close()
