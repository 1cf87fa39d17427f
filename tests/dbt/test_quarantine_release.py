"""A fixed row re-imported later leaves quarantine, and takes its quarantined children along.

Its own database: the session's `dbt_world` stays as built. The fixture export is imported
through the real importer (CSV files), rebuilt, then an incremental export with the fixed
interview is imported over it and rebuilt.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets

import pandas as pd

from hris.contract import RAW_TABLES
from hris.ingest import ingest_export
from hris.pseudonym import install_pseudonym_key, pseudonym
from tests.dbt.conftest import run_dbt
from tests.dbt.hr_fixture import AS_OF

BAD = "I-BADDATE"  # an interview dated 2024-13-45, with one score (parent_quarantined)
MODELS = ("staging", "quarantine")
TARGET = ("--target-path", "target/release_test")


def _write(directory, frames: dict[str, pd.DataFrame]) -> None:
    directory.mkdir()
    for name, frame in frames.items():
        frame.to_csv(directory / f"{name}.csv", index=False)


def test_reimported_fix_is_released_from_quarantine(dbt_world, pg_server, tmp_path):
    database = pg_server.create_database("dbt_release")
    env = {**os.environ, **pg_server.env(database)}
    key = secrets.token_bytes(32)
    first, fixed = tmp_path / "export_1", tmp_path / "export_2"
    _write(first, dbt_world.frames)
    interviews = dbt_world.frames["interviews"]
    bad = interviews[interviews.interview_id == BAD].iloc[0]
    # A valid date that is no near duplicate: a day after its twin of the same round.
    twin = interviews[(interviews.candidate_id == bad.candidate_id)
                      & (interviews["round"] == bad["round"])
                      & (interviews.interviewer_id == bad.interviewer_id)
                      & (interviews.interview_id != BAD)].iloc[0]
    good_date = dt.date.fromisoformat(twin.interview_date) + dt.timedelta(days=1)
    _write(fixed, {"interviews": bad.to_frame().T.assign(interview_date=good_date.isoformat())})

    def quarantined(table: str) -> list[tuple]:
        return query(f"select reject_reason from quarantine.quarantine_{table} "
                     "where interview_id = %s", (pseudonym(key, BAD),))

    def staged(table: str) -> int:
        return query(f"select count(*) from staging.stg_hris__{table} where interview_id = %s",
                     (pseudonym(key, BAD),))[0][0]

    def query(sql: str, params: tuple = ()) -> list[tuple]:
        conn = pg_server.endpoint.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def import_and_build(directory) -> None:
        conn = pg_server.endpoint.connect(database)
        try:
            ingest_export(conn, directory, as_of=AS_OF)
            with conn.cursor() as cur:
                install_pseudonym_key(cur, key)
            conn.commit()
        finally:
            conn.close()
        built = run_dbt(env, "run", "--select", *MODELS, *TARGET)
        assert built.returncode == 0, built.stdout[-3000:]
        for table in RAW_TABLES:
            raw, staged_rows, quarantined_rows = query(
                f"select (select count(*) from raw.{table}), "
                f"(select count(*) from staging.stg_hris__{table}), "
                f"(select count(*) from quarantine.quarantine_{table})")[0]
            assert raw == staged_rows + quarantined_rows, table

    import_and_build(first)
    assert quarantined("interviews") == [("unparseable_value",)]
    assert quarantined("interview_scores") == [("parent_quarantined",)]
    assert staged("interviews") == staged("interview_scores") == 0
    (raw_before,) = query("select count(*) from raw.interviews")[0]

    import_and_build(fixed)
    assert quarantined("interviews") == quarantined("interview_scores") == []
    assert staged("interviews") == staged("interview_scores") == 1
    assert query("select interview_date from staging.stg_hris__interviews "
                 "where interview_id = %s", (pseudonym(key, BAD),)) == [(good_date,)]
    # The fix replaced the row (its old version is kept aside), it did not add one.
    assert query("select count(*) from raw.interviews")[0][0] == raw_before
    assert query("select interview_date from raw.interviews__replaced "
                 "where interview_id = %s", (BAD,)) == [("2024-13-45",)]
