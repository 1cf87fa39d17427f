"""Bulk loading of DataFrames into PostgreSQL with COPY (the one fast path we use)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd

_CHUNK_ROWS = 200_000


def copy_frame(cursor, table: str, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> int:
    """COPY `frame` into `table` (schema-qualified, already created) and return rows written.

    Values are written as CSV; None/NaN become SQL NULL, empty strings stay empty strings.
    Chunked so memory stays bounded on million-row frames.
    """
    columns = list(columns or frame.columns)
    cols_sql = ", ".join(f'"{c}"' for c in columns)
    sql = f"COPY {table} ({cols_sql}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    written = 0
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS][columns]
        buf = io.StringIO()
        chunk.to_csv(buf, index=False, header=False, na_rep="\\N")
        buf.seek(0)
        cursor.copy_expert(sql, buf)
        written += len(chunk)
    return written
