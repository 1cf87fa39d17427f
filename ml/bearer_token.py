"""The scoring endpoint's bearer token: who may call it (mlflow#3965: `mlflow models serve`
has no authentication, and on a shared machine anyone can reach loopback).

The token reaches the server as a file's path (`--token-file`), else as the inherited
$HIRELOOP_ENDPOINT_TOKEN, never on the command line (`ps` shows it to every user) nor in
the options the workers get. It is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
from pathlib import Path

TOKEN_ENV = "HIRELOOP_ENDPOINT_TOKEN"
OPEN_PATHS = frozenset({"/ping", "/health"})  # the supervisor's liveness probes


class TokenFileError(RuntimeError):
    """The token file named cannot be read or is empty: the endpoint must not start open."""


def read_token_file(path: str | Path) -> str:
    """The token in `path` (surrounding whitespace stripped); TokenFileError otherwise."""
    try:
        token = Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"cannot read the endpoint's token file {path}: "
                             f"{getattr(exc, 'strerror', None) or type(exc).__name__}"
                             ) from None
    if not token:
        raise TokenFileError(f"the endpoint's token file {path} is empty")
    return token


def authorised(header: str | None, token: str) -> bool:
    """Whether an Authorization header value is `Bearer <token>` (scheme case-insensitive),
    compared in constant time."""
    if header is None:
        return False
    scheme, _, presented = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def bearer_header(token: str | None) -> dict[str, str]:
    """The header a client sends (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}
