"""The rules every load obeys (hris.exports.admit), through the real load paths and PostgreSQL.

As-of: a real export states it; the last load governs (not the greatest date); the same one
again is a no-op; an earlier one is refused unless corrected, with a reason, on the record.
Sandbox or real: the first export decides; simulated data never joins real data or the
reverse, whether generated or arriving as an export folder. A refused load leaves `raw`
byte-identical and the register without a row.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hris.contract import RAW_TABLES
from hris.exports import (
    LoadRefused,
    installation_kind,
    latest_as_of,
    parse_as_of,
    record_export,
)
from hris.ingest import (
    SIMULATOR_AS_OF,
    history_clock,
    ingest_export,
    ingest_simulated,
    load_simulated,
)
from hris.simulated_export import MANIFEST_NAME, write_simulated_export
from hris.simulator import simulate
from hris.simulator.generate import HISTORY_END
from tests.hris.raw_fixtures import fingerprints, make_raw_frames, write_csv_export

JAN, MAR, JUN = dt.date(2025, 1, 1), dt.date(2025, 3, 1), dt.date(2025, 6, 30)
TODAY = dt.date(2025, 12, 31)


def _rows(conn, query: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()


def _state(conn) -> dict[str, object]:
    """Everything a load could change: raw values, versions, load times, history, register."""
    conn.rollback()
    if _rows(conn, "SELECT to_regclass('raw.candidates')") == [(None,)]:
        state: dict[str, object] = {"raw": "absent"}
    else:
        state = dict(fingerprints(conn))
        for table in RAW_TABLES:
            state[table, "meta"] = _rows(
                conn, f"SELECT md5(string_agg(_loaded_at::text || _source, ',' ORDER BY "
                      f"_loaded_at, _source)), (SELECT count(*) FROM raw.{table}__replaced) "
                      f"FROM raw.{table}")
    state["sim_truth"] = _rows(conn, "SELECT to_regclass('sim_truth.planted_defects')")
    state["register"] = _register(conn)
    return state


def _register(conn) -> list[tuple]:
    if _rows(conn, "SELECT to_regclass('raw._exports')") == [(None,)]:
        return []
    return _rows(conn, "SELECT export_id, source, kind, as_of_date, corrects_as_of, "
                       "correction_reason FROM raw._exports ORDER BY export_id")


@pytest.fixture(scope="module")
def real_export(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("real_export")
    write_csv_export(make_raw_frames(40, seed=4), directory)
    return directory


@pytest.fixture
def changed_export(real_export, tmp_path) -> Path:
    """The real export with one candidate's status changed: loading it would change raw."""
    directory = Path(shutil.copytree(real_export, tmp_path / "changed"))
    frame = pd.read_csv(directory / "candidates.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "status"] = "withdrawn" if frame.loc[0, "status"] != "withdrawn" else "pending"
    frame.to_csv(directory / "candidates.csv", index=False)
    return directory


def _import(conn, directory, as_of, **kw):
    return ingest_export(conn, directory, as_of, today=TODAY, **kw)


def test_a_real_import_without_an_as_of_is_refused_and_loads_nothing(new_db, real_export):
    conn = new_db()
    with pytest.raises(LoadRefused, match="as-of") as refused:
        _import(conn, real_export, None)
    assert "\n" not in str(refused.value)
    assert _state(conn) == {"raw": "absent", "sim_truth": [(None,)], "register": []}


def test_an_as_of_after_today_is_refused(new_db, real_export):
    conn = new_db()
    with pytest.raises(LoadRefused, match="after today"):
        ingest_export(conn, real_export, JUN, today=MAR)
    assert _state(conn)["register"] == []


@pytest.mark.parametrize("text", ["2025-13-01", "20250101", "30/06/2025", "yesterday", ""])
def test_a_bad_date_is_a_one_line_refusal(text):
    with pytest.raises(LoadRefused) as refused:
        parse_as_of(text)
    message = str(refused.value)
    assert "YYYY-MM-DD" in message and "\n" not in message


def test_the_same_as_of_again_is_a_noop(new_db, real_export):
    conn = new_db()
    _import(conn, real_export, JUN)
    before = _state(conn)
    report = _import(conn, real_export, JUN)
    assert report.load.inserted == report.load.updated == 0
    assert _state(conn) == before
    assert len(before["register"]) == 1


def test_an_earlier_as_of_is_refused_naming_the_correction(new_db, real_export,
                                                           changed_export):
    conn = new_db()
    _import(conn, real_export, JUN)
    before = _state(conn)
    with pytest.raises(LoadRefused) as refused:
        _import(conn, changed_export, MAR)
    message = str(refused.value)
    assert "earlier than the as-of in force" in message and "--correct-as-of" in message
    assert str(JUN) in message and "\n" not in message
    assert _state(conn) == before  # the changed row was not loaded


def test_a_correction_is_recorded_and_the_last_load_governs(new_db, real_export,
                                                            changed_export):
    conn = new_db()
    _import(conn, real_export, JUN)
    _import(conn, changed_export, MAR, correct_as_of="the export was dated by the wall clock")
    register = _register(conn)
    assert [r[3:] for r in register] == [
        (JUN, None, None), (MAR, JUN, "the export was dated by the wall clock")]
    with conn.cursor() as cur:
        assert latest_as_of(cur) == MAR  # the last load, not the greatest date
    # the corrected date is now the one in force: loading at it needs no flag
    _import(conn, changed_export, MAR)
    assert len(_register(conn)) == 2


@pytest.mark.parametrize(("as_of", "reason", "expected"), [
    (MAR, "  ", "needs a reason"),
    (JUN, "typo", "moves the as-of in force back"),
    (dt.date(2025, 9, 1), "typo", "moves the as-of in force back"),
])
def test_a_correction_needs_a_reason_and_an_earlier_date(new_db, real_export, as_of, reason,
                                                        expected):
    conn = new_db()
    _import(conn, real_export, JUN)
    before = _state(conn)
    with pytest.raises(LoadRefused, match=expected):
        _import(conn, real_export, as_of, correct_as_of=reason)
    assert _state(conn) == before


def test_a_later_as_of_advances_without_a_flag(new_db, real_export):
    conn = new_db()
    _import(conn, real_export, MAR)
    _import(conn, real_export, JUN)
    assert [r[3] for r in _register(conn)] == [MAR, JUN]


def test_generating_into_a_real_installation_is_refused(new_db, real_export):
    conn = new_db()
    _import(conn, real_export, JUN)
    before = _state(conn)
    with pytest.raises(LoadRefused, match="HIRELOOP_HOME") as refused:
        ingest_simulated(conn, 50, 1, JUN)
    conn.rollback()
    assert "real" in str(refused.value)
    assert _state(conn) == before
    with conn.cursor() as cur:
        assert installation_kind(cur) == "real"


def test_a_real_export_into_a_sandbox_is_refused(new_db, real_export):
    conn = new_db()
    with conn:
        ingest_simulated(conn, 80, 2, JAN)
    before = _state(conn)
    with pytest.raises(LoadRefused, match="sandbox") as refused:
        _import(conn, real_export, JAN)
    assert "HIRELOOP_HOME" in str(refused.value)
    assert _state(conn) == before
    with conn.cursor() as cur:
        assert installation_kind(cur) == "sandbox"


@pytest.fixture(scope="module")
def simulated_folder(tmp_path_factory):
    sim = simulate(n_candidates=150, seed=12)
    return sim, write_simulated_export(sim, tmp_path_factory.mktemp("sim") / "q1")


def test_a_simulated_export_folder_imports_into_a_sandbox(new_db, simulated_folder):
    sim, folder = simulated_folder
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["kind"] == "simulated" and manifest["as_of"] == str(sim.as_of)

    via_import = new_db()
    _import(via_import, folder, None)  # the manifest brings the as-of
    generated = new_db()
    with generated:
        load_simulated(generated, sim, "direct")
    assert fingerprints(via_import) == fingerprints(generated)
    register = _register(via_import)
    assert [(r[2], r[3]) for r in register] == [("simulator", sim.as_of)]
    with via_import.cursor() as cur:
        assert installation_kind(cur) == "sandbox"
    # the sandbox goes on taking simulated data, generated or imported, and no real export
    with via_import:
        ingest_simulated(via_import, 60, 3, sim.as_of)
    assert installation_kind(via_import.cursor()) == "sandbox"


def test_a_simulated_export_folder_is_refused_by_a_real_installation(
        new_db, real_export, simulated_folder):
    _, folder = simulated_folder
    conn = new_db()
    _import(conn, real_export, JUN)
    before = _state(conn)
    with pytest.raises(LoadRefused, match="real"):
        _import(conn, folder, None)
    assert _state(conn) == before


def test_a_simulated_export_keeps_its_own_as_of(new_db, simulated_folder):
    sim, folder = simulated_folder
    conn = new_db()
    with pytest.raises(LoadRefused, match="differs"):
        _import(conn, folder, sim.as_of - dt.timedelta(days=1))
    assert _state(conn)["register"] == []


def test_an_unreadable_manifest_is_refused(new_db, real_export, tmp_path):
    folder = Path(shutil.copytree(real_export, tmp_path / "odd"))
    (folder / MANIFEST_NAME).write_text("{not json")
    conn = new_db()
    with pytest.raises(LoadRefused, match=MANIFEST_NAME):
        _import(conn, folder, JUN)
    assert _state(conn)["register"] == []


def test_an_older_register_is_brought_up_to_date_and_read_in_load_order(new_db, real_export):
    """A register made before corrections existed gains the columns; its last row governs."""
    conn = new_db()
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA raw; CREATE TABLE raw._exports (export_id bigserial "
                    "PRIMARY KEY, source text NOT NULL, kind text NOT NULL, as_of_date date "
                    "NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("INSERT INTO raw._exports (source, kind, as_of_date) VALUES "
                    "('a', 'import', '2025-06-30'), ('b', 'import', '2025-03-01')")
        assert latest_as_of(cur) == MAR
        record_export(cur, "c", "import", JUN)
        assert latest_as_of(cur) == JUN
    conn.commit()
    _import(conn, real_export, JUN)
    assert _register(conn)[-1][1:] == (str(real_export), "import", JUN, None, None)


def test_two_loads_cannot_decide_an_installation_at_once(new_db, pg_server):
    """The first admitted load holds the register until it ends: a second one waits."""
    from psycopg2.errors import LockNotAvailable

    from hris.exports import REAL, SIMULATED, admit

    first = new_db()
    with first.cursor() as cur:
        cur.execute("CREATE SCHEMA raw")
    first.commit()
    with first.cursor() as cur:
        admit(cur, REAL, JUN, source="a", today=TODAY)  # transaction left open
    second = pg_server.endpoint.connect(first.info.dbname)
    try:
        with second.cursor() as cur:
            cur.execute("SET lock_timeout = '50ms'")
            with pytest.raises(LockNotAvailable):
                admit(cur, SIMULATED, JUN, source="b")
    finally:
        second.close()
    first.rollback()


def test_the_historys_end_and_clock_default_to_todays_and_follow_a_given_end():
    assert history_clock(None, None) == (HISTORY_END, SIMULATOR_AS_OF)
    assert history_clock(None, MAR) == (HISTORY_END, MAR)  # unchecked, as it always was
    assert history_clock("2024-06-30", None) == ("2024-06-30", dt.date(2024, 7, 1))
    assert history_clock(" 2024-06-30 ", JAN) == ("2024-06-30", JAN)


@pytest.mark.parametrize(("end", "as_of", "expected"), [
    ("June", None, "history end 'June' is not a date: write it as YYYY-MM-DD"),
    ("2024-02-30", None, "history end '2024-02-30' is not a date"),
    ("20240630", None, "history end '20240630' is not a date"),
    ("2022-12-30", None, "must span at least 1 year(s), to 2022-12-31 or later"),
    ("2024-06-30", dt.date(2024, 6, 30), "as-of 2024-06-30 is not after the history's end, "
                                         "2024-06-30"),
    ("2024-06-30", dt.date(2024, 1, 1), "drop the as-of for 2024-07-01"),
])
def test_a_bad_history_end_is_refused_saying_why(end, as_of, expected):
    with pytest.raises(LoadRefused) as refused:
        history_clock(end, as_of)
    assert expected in str(refused.value)


def test_a_simulated_load_with_a_bad_span_is_refused_before_anything(new_db):
    conn = new_db()
    with pytest.raises(LoadRefused, match="not after the history's end"):
        ingest_simulated(conn, 50, 1, dt.date(2024, 6, 1), end="2024-06-30")
    conn.rollback()
    assert _rows(conn, "SELECT to_regclass('raw._exports')") == [(None,)]
