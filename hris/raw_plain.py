"""The raw tables' contract values in the clear: the personal columns decrypted with the
installation's data key (hris.data_crypto), for the few readers that need the values
themselves (export_raw, the personal-data scan, the tests' fingerprints).
"""

from __future__ import annotations

import pandas as pd
from psycopg2 import sql

from hris.contract import RAW_SCHEMA, RawTable
from hris.data_crypto import DataCipher
from hris.raw_protect import personal_columns


def decrypt_columns(table: RawTable, columns: list[str], rows: list[tuple],
                    cipher: DataCipher) -> list[tuple]:
    """`rows` (of `columns`) with the personal columns decrypted; DataKeyError if one does
    not decrypt."""
    at = [(i, c) for i, c in enumerate(columns) if c in personal_columns(table)]
    if not at:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i, c in at:
            row[i] = cipher.decrypt_text(c, row[i])
        out.append(tuple(row))
    return out


def read_plain(cur, table: RawTable, cipher: DataCipher | None = None,
               extra: tuple[str, ...] = ("_dup_seq",)) -> pd.DataFrame:
    """Every row of raw.<table> (contract columns and `extra`), ordered by key and
    _dup_seq, personal values decrypted."""
    columns = [*table.columns, *extra]
    cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY {}, _dup_seq").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(RAW_SCHEMA, table.name),
        sql.SQL(", ").join(sql.SQL('{} COLLATE "C"').format(sql.Identifier(k))
                           for k in table.key)))
    rows = cur.fetchall()
    if personal_columns(table):
        rows = decrypt_columns(table, columns, rows, cipher or DataCipher.from_env(create=False))
    return pd.DataFrame(rows, columns=columns, dtype=object)
