"""One transaction over a psycopg2 connection, whatever its autocommit setting.

An import, its registration and its profile are kept whole or not at all; the callers
(hris.importer, hris.ingest) share this one definition of that rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_transaction(conn) -> Iterator[None]:
    """Run the block in one transaction, also on an autocommit connection; roll back on error.

    The block commits (or rolls back) itself; an error rolls back whatever it had begun.
    """
    autocommit = conn.autocommit
    if autocommit:
        conn.autocommit = False
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    finally:
        if autocommit:
            conn.autocommit = True
