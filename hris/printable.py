"""Names from the outside world (file names, folder names), made safe to print.

A file name may hold control characters (an ANSI escape can rewrite the terminal, a
carriage return hide what was printed before it) or bytes that are not text. Every
message that names a file goes through `printable`, so what reaches a terminal, a log or
Dagster's event log is the name with those characters escaped.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with every non-printable character escaped (\\x1b, \\u202e; raw bytes \\xff)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
