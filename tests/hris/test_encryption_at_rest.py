"""Encryption at rest in schema `raw`: every personal value is ciphertext after a simulator
load and after a foreign export's import; what staging needs is derived at load in the
clear; a key rotation keeps every row, decryptable under the new key only, with the same
row hashes, so a re-import after it is still a no-op."""

from __future__ import annotations

import pytest

from hris.contract import RAW_TABLES
from hris.data_crypto import DataCipher, DataKeyError
from hris.importer import import_export
from hris.key_rotation import rotate_data_key
from hris.profile import load_profile, profile_change
from hris.raw_plain import read_plain
from hris.raw_protect import personal_columns
from hris.raw_store import load_raw
from hris.simulator import simulate
from tests.hris.foreign_export import PROFILE, import_only_profile, write_foreign_export

PERSONAL_TABLES = [t for t in RAW_TABLES.values() if personal_columns(t)]


@pytest.fixture(scope="module")
def history():
    return simulate(n_candidates=150, seed=29).raw


def _stored(conn, table, column) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f'SELECT "{column}" FROM raw.{table} WHERE "{column}" IS NOT NULL')
        return [v for (v,) in cur.fetchall()]


def _assert_all_ciphertext(conn, history, cipher):
    for table in PERSONAL_TABLES:
        for column in personal_columns(table):
            stored = _stored(conn, table.name, column)
            assert stored, (table.name, column)
            assert all(v.startswith(f"v1:{cipher.current_id}:") for v in stored), column
            plain = set(history[table.name][column].dropna())
            assert plain.isdisjoint(stored), (table.name, column)


def _plain(conn, cipher):
    with conn.cursor() as cur:
        return {t.name: read_plain(cur, t, cipher) for t in PERSONAL_TABLES}


def _hashes(conn):
    with conn.cursor() as cur:
        out = {}
        for t in PERSONAL_TABLES:
            cur.execute(f"SELECT _record_hash FROM raw.{t.name} ORDER BY 1")
            out[t.name] = cur.fetchall()
        return out


def test_a_simulator_load_stores_ciphertext_that_decrypts_to_the_export(new_db, history):
    conn = new_db()
    cipher = DataCipher.from_env()
    load_raw(conn, history, "sim")
    conn.commit()
    _assert_all_ciphertext(conn, history, cipher)
    plain = _plain(conn, cipher)
    for table in PERSONAL_TABLES:
        got = plain[table.name].sort_values(list(table.key)).reset_index(drop=True)
        want = history[table.name].sort_values(list(table.key)).reset_index(drop=True)
        for column in personal_columns(table):
            assert got[column].fillna("").tolist() == want[column].fillna("").tolist()
    with conn.cursor() as cur:  # derived in the clear: the age at application
        cur.execute("SELECT count(*), count(_age_band), count(*) FILTER (WHERE _age_40_plus = "
                    "'true') FROM raw.candidates")
        rows, banded, over_40 = cur.fetchone()
    assert rows == banded and 0 < over_40 < rows


def test_a_foreign_export_import_stores_ciphertext(new_db, history, tmp_path):
    directory = tmp_path / "foreign"
    write_foreign_export(history, directory)
    (tmp_path / "p.yaml").write_text(PROFILE, encoding="utf-8")
    conn = new_db()
    import_export(conn, directory, profile=load_profile(tmp_path / "p.yaml"))
    _assert_all_ciphertext(conn, history, DataCipher.from_env())
    with conn.cursor() as cur:  # its YYYY/MM/DD birth dates parsed with the profile
        cur.execute("SELECT count(*) FILTER (WHERE _birth_date_check IS NOT NULL), "
                    "count(_age_band) FROM raw.candidates")
        unparsed, banded = cur.fetchone()
    assert unparsed == 0 and banded > 0


def _checks(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE _birth_date_check = 'unparseable_value'), "
                    "count(_age_band) FROM raw.candidates")
        return cur.fetchone()


def test_a_profile_recorded_later_judges_the_stored_birth_dates_again(new_db, history,
                                                                      tmp_path):
    """`hireloop profile` acts on the next build without a re-import: the birth dates are
    ciphertext, so recording it recomputes the checks made at load."""
    directory = tmp_path / "foreign"
    write_foreign_export(history, directory)
    (tmp_path / "bare.yaml").write_text(import_only_profile(), encoding="utf-8")
    (tmp_path / "full.yaml").write_text(PROFILE, encoding="utf-8")
    conn = new_db()
    import_export(conn, directory, profile=load_profile(tmp_path / "bare.yaml"))
    unparsed, banded = _checks(conn)
    born = history["candidates"]["birth_date"].notna().sum()
    assert unparsed == born and banded == 0
    hashes = _hashes(conn)
    with conn, conn.cursor() as cur:
        assert profile_change(cur, load_profile(tmp_path / "full.yaml"), "full.yaml").recorded
    unparsed, banded = _checks(conn)
    assert unparsed == 0 and banded == born
    assert _hashes(conn) == hashes


def test_a_wrong_key_raises_on_read(new_db, history):
    conn = new_db()
    load_raw(conn, history, "sim")
    with conn.cursor() as cur, pytest.raises(DataKeyError, match="HIRELOOP_DATA_KEY"):
        read_plain(cur, RAW_TABLES["candidates"], DataCipher(bytes(32)))


def test_rotation_keeps_every_row_under_the_new_key_only(new_db, history):
    conn = new_db()
    old = DataCipher.from_env()
    load_raw(conn, history, "sim")
    conn.commit()
    before, hashes = _plain(conn, old), _hashes(conn)
    new_key = bytes(range(32))
    report = rotate_data_key(conn, old.current, new_key)
    new = DataCipher(new_key)
    assert report.rows["candidates"] == len(history["candidates"])
    assert report.values == sum(history[t.name][c].dropna().str.strip(" ").astype(bool).sum()
                                for t in PERSONAL_TABLES for c in personal_columns(t))
    _assert_all_ciphertext(conn, history, new)
    after = _plain(conn, new)
    for name, frame in before.items():
        assert after[name].equals(frame), name
    assert _hashes(conn) == hashes
    with conn.cursor() as cur, pytest.raises(DataKeyError):
        read_plain(cur, RAW_TABLES["employees"], old)
    conn.rollback()
    again = load_raw(conn, history, "sim again", cipher=new)
    assert again.inserted == again.updated == 0
    assert again.unchanged == again.rows_read


def test_a_rotation_with_the_wrong_old_key_changes_nothing(new_db, history):
    conn = new_db()
    load_raw(conn, history, "sim")
    conn.commit()
    stored = _stored(conn, "candidates", "email")
    with pytest.raises(DataKeyError):
        rotate_data_key(conn, bytes(32), bytes(range(32)))
    assert _stored(conn, "candidates", "email") == stored
