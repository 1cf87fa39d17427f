"""One real dbt build of the feature store over a small hand-made export, per session.

The build runs in its own database on the session's PostgreSQL (other test packages load
their own raw data into `hireloop`), with the pseudonym key installed through
hris.pseudonym (never a dbt var).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from hris.profile import ImportProfile, record_profile
from hris.pseudonym import install_pseudonym_key, pseudonym
from hris.raw_store import load_raw
from tests.dbt.hr_fixture import AS_OF, build_export

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
VARS = json.dumps({"as_of_date": AS_OF.isoformat()})


@dataclass
class DbtWorld:
    """A built feature store: the export it was built from and how to reach it."""

    frames: dict[str, pd.DataFrame]
    key: bytes
    env: dict[str, str]
    connect: object  # () -> psycopg2 connection to the build's database
    build: subprocess.CompletedProcess

    def dbt(self, *args: str, with_vars: bool = True) -> subprocess.CompletedProcess:
        return run_dbt(self.env, *args, with_vars=with_vars)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def install_key(self, key: bytes) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                install_pseudonym_key(cur, key)
            conn.commit()
        finally:
            conn.close()


def run_dbt(env: dict[str, str], *args: str, with_vars: bool = True) -> subprocess.CompletedProcess:
    """Run the real dbt CLI on the project; output captured for assertion messages."""
    cmd = [str(DBT), *args, "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR)]
    if with_vars:
        cmd += ["--vars", VARS]
    return subprocess.run(cmd, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
                          timeout=600)


def _built_world(pg_server, name: str, frames: dict[str, pd.DataFrame]) -> DbtWorld:
    """`frames` loaded into a database of its own and built by dbt."""
    database = pg_server.create_database(name)
    env = {**os.environ, **pg_server.env(database),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "true"}

    def connect():
        return pg_server.endpoint.connect(database)

    key = secrets.token_bytes(32)
    conn = connect()
    try:
        load_raw(conn, frames, source="tests/dbt fixture")
        with conn.cursor() as cur:
            install_pseudonym_key(cur, key)
        conn.commit()
    finally:
        conn.close()
    build = run_dbt(env, "build")
    return DbtWorld(frames=frames, key=key, env=env, connect=connect, build=build)


@pytest.fixture(scope="session")
def dbt_world(pg_server) -> Iterator[DbtWorld]:
    yield _built_world(pg_server, "dbt", build_export())


# The import profile of another HR system (hris.profile): its spellings of gender, education
# and recommendation, and its review submission dates as YYYY/MM/DD.
FOREIGN_PROFILE = ImportProfile(
    values={("candidates", "gender"): {"男": "male", "女": "female"},
            ("candidates", "education"): {"本科": "bachelor"},
            ("interview_questions", "is_key_question"): {"是": "true", "否": "false"},
            ("interviews", "recommendation"): {"Hire": "yes", "no_hire": "no"}},
    dates={("performance_reviews", "submitted_at"): "YYYY/MM/DD"})
# A review whose foreign date is not a calendar date: unparseable even with the profile.
BAD_FOREIGN_DATE = "2024/02/31"
# A candidate exported as 女, and a question whose yes/no says 是 (both mapped by the profile).
FEMALE_CANDIDATE, YES_QUESTION = "C0005", "Q-YES"


@dataclass
class ProfileWorld:
    """The hr fixture with foreign review dates, built before and after its profile was
    recorded (no re-import in between)."""

    world: DbtWorld
    before: dict  # what the first build gave (see profile_world)
    bad_date_review: str  # raw review_id of the BAD_FOREIGN_DATE row


def _raw_digest(world: DbtWorld) -> dict[str, tuple]:
    return {t: world.query(f"select count(*), md5(string_agg(_record_hash || ':' || _dup_seq, "
                           f"',' order by _record_hash, _dup_seq)) from raw.{t}")[0]
            for t in world.frames}


@pytest.fixture(scope="session")
def profile_world(pg_server) -> Iterator[ProfileWorld]:
    frames = build_export()
    reviews = frames["performance_reviews"]
    reviews["submitted_at"] = reviews["submitted_at"].map(
        lambda v: v if v is None else v.replace("-", "/"))
    bad = reviews.index[2]
    reviews.loc[bad, "submitted_at"] = BAD_FOREIGN_DATE
    candidates = frames["candidates"]
    candidates.loc[candidates["candidate_id"] == FEMALE_CANDIDATE, "gender"] = "女"
    questions = frames["interview_questions"]
    questions.loc[len(questions)] = {**questions.iloc[0].to_dict(), "question_id": YES_QUESTION,
                                     "is_key_question": "是"}
    world = _built_world(pg_server, "dbt_profile", frames)
    before = {
        "build": world.build,
        "raw": _raw_digest(world),
        "staged_reviews": world.query(
            "select count(*) from staging.stg_hris__performance_reviews")[0][0],
        "field_defects": world.query("select table_name, column_name, reason, value "
                                     "from quarantine.field_defects"),
        "yes_question": world.query(
            "select reject_reason, reject_column from quarantine.quarantine_interview_questions "
            "where question_id = %s", (pseudonym(world.key, YES_QUESTION),)),
    }
    conn = world.connect()
    try:
        with conn.cursor() as cur:
            record_profile(cur, FOREIGN_PROFILE, "tests/dbt foreign profile")
        conn.commit()
    finally:
        conn.close()
    world.build = run_dbt(world.env, "build")
    yield ProfileWorld(world, before, reviews.loc[bad, "review_id"])
