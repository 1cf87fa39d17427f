"""AES-256-GCM of one personal value: a round trip with the right key; a wrong key, a value
moved to another column, a damaged value or plaintext raises, never returns garbage."""

from __future__ import annotations

import os
import stat

import pytest

from hris.data_crypto import DataCipher, DataKeyError, key_id, parse_key

KEY, OTHER = bytes(range(32)), bytes(range(1, 33))


def test_round_trip_with_the_right_key_and_a_new_nonce_each_time():
    cipher = DataCipher(KEY)
    first, second = cipher.encrypt("email", "ann@example.com"), cipher.encrypt("email",
                                                                               "ann@example.com")
    assert first != second and first.startswith(f"v1:{key_id(KEY)}:")
    assert "ann" not in first
    assert cipher.decrypt("email", first) == cipher.decrypt("email", second) == "ann@example.com"
    assert cipher.decrypt("full_name", cipher.encrypt("full_name", "张伟")) == "张伟"


def test_a_wrong_key_raises_and_says_what_to_set():
    sealed = DataCipher(KEY).encrypt("email", "ann@example.com")
    with pytest.raises(DataKeyError, match="HIRELOOP_DATA_KEY"):
        DataCipher(OTHER).decrypt("email", sealed)


def test_a_wrong_key_with_the_same_key_id_still_raises():
    sealed = DataCipher(KEY).encrypt("email", "ann@example.com")
    forged = sealed.replace(key_id(KEY), key_id(OTHER))
    with pytest.raises(DataKeyError, match="does not decrypt"):
        DataCipher(OTHER).decrypt("email", forged)


def test_a_value_moved_to_another_column_or_damaged_does_not_decrypt():
    cipher = DataCipher(KEY)
    sealed = cipher.encrypt("email", "ann@example.com")
    with pytest.raises(DataKeyError, match="another column"):
        cipher.decrypt("phone", sealed)
    head, body = sealed.rsplit(":", 1)
    damaged = f"{head}:{'A' if body[0] != 'A' else 'B'}{body[1:]}"
    with pytest.raises(DataKeyError):
        cipher.decrypt("email", damaged)
    with pytest.raises(DataKeyError, match="not an encrypted value"):
        cipher.decrypt("email", "ann@example.com")


def test_blank_values_stay_blank_and_keys_must_be_32_bytes():
    cipher = DataCipher(KEY)
    assert cipher.encrypt_text("phone", None) is None
    assert cipher.encrypt_text("phone", "  ") == "  "
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_key("abcd", "HIRELOOP_DATA_KEY")


def test_the_key_file_is_made_once_with_mode_0600(monkeypatch, tmp_path):
    monkeypatch.delenv("HIRELOOP_DATA_KEY", raising=False)
    monkeypatch.setenv("HIRELOOP_HOME", str(tmp_path))
    first = DataCipher.from_env()
    path = tmp_path / "secrets" / "data.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert DataCipher.from_env().current == first.current
    monkeypatch.setenv("HIRELOOP_DATA_KEY", OTHER.hex())
    assert DataCipher.from_env().current == OTHER


def test_an_installation_finds_its_key_file_without_hireloop_home(monkeypatch, tmp_path):
    """A run worker started without HIRELOOP_HOME reads its resource's home's key file."""
    from orchestration.config import Settings

    monkeypatch.delenv("HIRELOOP_DATA_KEY", raising=False)
    monkeypatch.setenv("HIRELOOP_HOME", str(tmp_path / "home"))
    first = DataCipher.from_env()
    monkeypatch.setenv("HIRELOOP_HOME", str(tmp_path / "elsewhere"))
    assert Settings(home=tmp_path / "home").data_cipher().current == first.current
