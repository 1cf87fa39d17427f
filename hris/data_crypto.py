"""Encryption at rest of the personal columns of schema `raw` (AES-256-GCM).

A stored value is ``v1:<key id>:<base64(nonce || ciphertext || tag)>``: the key id (first 8
hex digits of sha256(key)) says which key wrote it, so a rotation can run over rows of
both keys and a wrong key is named, not guessed at. The associated data is the column
name: a value copied into another column does not decrypt. GCM authenticates, so a wrong
key or a changed byte raises DataKeyError, never returns garbage.

The key (32 bytes, 64 hex digits) comes from HIRELOOP_DATA_KEY, else from the key file
``$HIRELOOP_HOME/secrets/data.key`` (created 0600 on first use). During a rotation the old
key is HIRELOOP_DATA_KEY_OLD, else ``data.key.old`` beside the key file (hris.key_rotation).
Nothing of a key is kept in the database or the repository.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
PREFIX = f"{VERSION}:"
KEY_ENV = "HIRELOOP_DATA_KEY"
OLD_KEY_ENV = "HIRELOOP_DATA_KEY_OLD"
_NONCE = 12
_HOW = (f"set {KEY_ENV} (64 hex digits) or the key file $HIRELOOP_HOME/secrets/data.key to the "
        f"key that wrote the data, or, during a rotation, {OLD_KEY_ENV} to the old key")


class DataKeyError(RuntimeError):
    """A value cannot be decrypted with the keys at hand (wrong, missing or damaged)."""


def key_id(key: bytes) -> str:
    """The short fingerprint stored beside each ciphertext (not secret, not the key)."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str, where: str) -> bytes:
    """A key from its 64 hex digits; ValueError naming `where` otherwise."""
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{where}: the data key must be 64 hex digits (32 bytes)")
    return key


def write_private(path: Path, text: str, *, replace: bool = False) -> bool:
    """Write `text` to `path` with mode 0600, whole or not at all (a reader never sees half
    of it); `replace`: over what is there, else False if the file exists already (another
    process got there first). The one definition: orchestration's secrets and the embedded
    server's password file are written with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        if replace:
            os.replace(tmp, path)
            return True
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return True


def create_secret_file(path: Path, secret: str) -> bool:
    """`secret` written to `path` (0600) unless the file exists (then False)."""
    return write_private(path, secret)


def home() -> Path:
    """$HIRELOOP_HOME as orchestration.config.Settings resolves it."""
    return Path(os.environ.get("HIRELOOP_HOME", "./.hireloop")).expanduser().resolve()


def key_file(base: Path | None = None) -> Path:
    return (base or home()) / "secrets" / "data.key"


def new_key_hex() -> str:
    return secrets.token_hex(32)


class DataCipher:
    """Encrypts with the current key; decrypts with any key it holds, chosen by key id."""

    def __init__(self, current: bytes, others: Iterable[bytes] = ()):
        self.current = current
        self.current_id = key_id(current)
        self._aead = {key_id(k): AESGCM(k) for k in (*others, current)}

    @classmethod
    def from_env(cls, *, create: bool = True, home: Path | None = None) -> DataCipher:
        """The installation's key: HIRELOOP_DATA_KEY, else the key file under `home`
        (default $HIRELOOP_HOME), made on first use when `create`."""
        if os.environ.get(KEY_ENV):
            return cls(parse_key(os.environ[KEY_ENV], KEY_ENV))
        path = key_file(home)
        if not path.exists():
            if not create:
                raise DataKeyError(f"no data key: {KEY_ENV} is unset and {path} is missing")
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.chmod(0o700)  # mkdir's mode is masked by the umask
            create_secret_file(path, new_key_hex())
        return cls(parse_key(path.read_text(), str(path)))

    def encrypt(self, column: str, value: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead[self.current_id].encrypt(nonce, value.encode("utf-8"),
                                                     column.encode())
        return f"{PREFIX}{self.current_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, column: str, value: str) -> str:
        parts = value.split(":", 2)
        if len(parts) != 3 or parts[0] != VERSION:
            raise DataKeyError(f"{column}: not an encrypted value (expected {PREFIX}...)")
        aead = self._aead.get(parts[1])
        if aead is None:
            raise DataKeyError(f"{column}: written with data key {parts[1]}, which is not "
                               f"at hand (have {', '.join(self._aead)}): {_HOW}")
        try:
            raw = base64.b64decode(parts[2], validate=True)
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], column.encode()).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise DataKeyError(f"{column}: the value does not decrypt under data key "
                               f"{parts[1]} (damaged, or moved from another column)") from exc

    def encrypt_text(self, column: str, value: str | None) -> str | None:
        """None and blank (spaces only: NULL to staging's trim) stay as they are."""
        if value is None or not value.strip(" "):
            return value
        return self.encrypt(column, value)

    def decrypt_text(self, column: str, value: str | None) -> str | None:
        """The inverse of encrypt_text."""
        if value is None or not value.strip(" "):
            return value
        return self.decrypt(column, value)


def is_encrypted(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)
