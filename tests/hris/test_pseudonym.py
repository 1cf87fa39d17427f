"""The precomputed HMAC pads reproduce HMAC-SHA256 (what the dbt macro relies on)."""

from __future__ import annotations

import hashlib

import pytest

from hris.pseudonym import hmac_pads, pseudonym


def _hmac_from_pads(key: bytes, message: bytes) -> str:
    """The dbt macro's formula, in Python: sha256(opad || sha256(ipad || m))."""
    ipad, opad = hmac_pads(key)
    return hashlib.sha256(opad + hashlib.sha256(ipad + message).digest()).hexdigest()[:32]


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"long key " * 20, bytes(range(256))])
def test_pads_reproduce_hmac(key):
    for value in ("C0000001", "E-42", "ünïcødé"):
        assert _hmac_from_pads(key, value.encode()) == pseudonym(key, value)


def test_pseudonym_format_and_key_dependence():
    p = pseudonym(b"key-a", "C0000001")
    assert len(p) == 32 and p == p.lower() and int(p, 16) >= 0
    assert p == pseudonym(b"key-a", " C0000001 ")
    assert p != pseudonym(b"key-b", "C0000001")
    assert p != pseudonym(b"key-a", "C0000002")


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        hmac_pads(b"")
