"""Keyed pseudonyms for ids (HMAC-SHA256), shared by Python and the dbt staging models.

The embedded PostgreSQL has no pgcrypto, so dbt computes the HMAC in core SQL as
``sha256(opad || sha256(ipad || value))``. The XOR pads depend only on the key, so they are
precomputed here and stored in ``private.pseudonym_key``, a table only the transform role
reads; the key itself never becomes a dbt var (vars land in run_results.json and logs).
`pseudonym` is the reference implementation the SQL macro must match.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_HEX_CHARS = 32  # 128 bits: collision-free at HR scale, short enough to read
_BLOCK = 64  # SHA-256 block size in bytes
KEY_SCHEMA = "private"
KEY_TABLE = f"{KEY_SCHEMA}.pseudonym_key"


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The (ipad, opad) blocks of HMAC-SHA256 for `key` (RFC 2104)."""
    if not key:
        raise ValueError("the pseudonym key must not be empty")
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the id, lowercase hex, first 32 characters.

    Leading and trailing spaces are ignored, as SQL's trim() does in the dbt macro.
    """
    digest = hmac.new(key, value.strip(" ").encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_CHARS]


def install_pseudonym_key(cursor, key: bytes) -> None:
    """Store the HMAC pads of `key` as the single row of private.pseudonym_key.

    Replaces any earlier key; the caller commits. PUBLIC gets no access, so only the
    owner (the transform role) can read the pads.
    """
    ipad, opad = hmac_pads(key)
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {KEY_SCHEMA}")
    cursor.execute(f"REVOKE ALL ON SCHEMA {KEY_SCHEMA} FROM PUBLIC")
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (ipad bytea NOT NULL, opad bytea NOT NULL)"
    )
    cursor.execute(f"REVOKE ALL ON {KEY_TABLE} FROM PUBLIC")
    cursor.execute(f"DELETE FROM {KEY_TABLE}")
    cursor.execute(f"INSERT INTO {KEY_TABLE} (ipad, opad) VALUES (%s, %s)", (ipad, opad))
