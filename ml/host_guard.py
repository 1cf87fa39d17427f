"""Which Host headers the scoring endpoint answers: a loopback name or the host it binds.

A web page can make a browser send requests to 127.0.0.1 under a name the attacker controls
(DNS rebinding): the browser then sends that name as Host. Refusing every Host but
loopback's names and the bind host closes that path.
"""

from __future__ import annotations

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


def _name(host: str) -> str:
    """A host as it appears in a Host header: an IPv6 address bracketed, lower case."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(bind_host: str) -> frozenset[str]:
    """Loopback's names plus the host the endpoint binds."""
    return LOOPBACK | {_name(bind_host)}


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Whether a Host header value (with or without a port) names one of `allowed`."""
    if not header:
        return False
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]") + 1
        if not end:
            return False
        name, rest = value[:end], value[end:]
    else:
        name, sep, port = value.partition(":")
        rest = sep + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return False
    return name in allowed
