"""`hireloop rotate-key` end to end: with the key file, a new key replaces it (the old one
kept as data.key.old) and every row decrypts under the new key only; with the keys in the
environment, the operator's new key takes over; a wrong old key is refused, naming the
variable, and changes nothing."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from hris.contract import RAW_TABLES
from hris.data_crypto import DataCipher, DataKeyError, key_file
from hris.raw_plain import read_plain
from hris.raw_store import load_raw
from hris.simulator import simulate
from orchestration.cli import app

runner = CliRunner()


def _plain(conn, cipher):
    with conn.cursor() as cur:
        out = {t: read_plain(cur, RAW_TABLES[t], cipher) for t in ("candidates", "employees")}
    conn.rollback()
    return out


def test_rotate_key_with_the_key_file_then_with_the_environment(own_installation, monkeypatch):
    monkeypatch.delenv("HIRELOOP_DATA_KEY", raising=False)
    monkeypatch.delenv("HIRELOOP_DATA_KEY_OLD", raising=False)
    conn = own_installation.connect("hireloop")
    with conn:
        load_raw(conn, simulate(n_candidates=120, seed=5).raw, source="rotate-test")
    first = DataCipher.from_env(create=False)
    before = _plain(conn, first)

    done = runner.invoke(app, ["rotate-key"])
    assert done.exit_code == 0, done.output
    assert "re-encrypted" in done.output and "data.key.old" in done.output
    path = key_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert DataCipher.from_env().current != first.current
    assert (path.parent / "data.key.old").read_text().strip() == first.current.hex()
    second = DataCipher.from_env()
    after = _plain(conn, second)
    for name, frame in before.items():
        assert after[name].equals(frame), name
    with pytest.raises(DataKeyError):
        _plain(conn, first)

    third = bytes(range(32)).hex()
    monkeypatch.setenv("HIRELOOP_DATA_KEY", third)
    monkeypatch.setenv("HIRELOOP_DATA_KEY_OLD", first.current.hex())  # not the current one
    refused = runner.invoke(app, ["rotate-key"])
    assert refused.exit_code == 2
    assert "HIRELOOP_DATA_KEY_OLD" in refused.output
    for name, frame in _plain(conn, second).items():  # unchanged, still the second key's
        assert frame.equals(after[name]), name

    monkeypatch.setenv("HIRELOOP_DATA_KEY_OLD", second.current.hex())
    done = runner.invoke(app, ["rotate-key"])
    assert done.exit_code == 0, done.output
    assert "Unset HIRELOOP_DATA_KEY_OLD" in done.output
    monkeypatch.delenv("HIRELOOP_DATA_KEY_OLD")
    for name, frame in _plain(conn, DataCipher.from_env()).items():
        assert frame.equals(before[name]), name
    conn.close()
