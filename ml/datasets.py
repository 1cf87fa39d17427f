"""Reading the feature store's marts into frames the model code accepts.

psycopg2 returns NUMERIC as `decimal.Decimal`, which the input contract rightly refuses as
"not a number" and which pandas keeps as object columns; here NUMERIC arrives as float.
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions as pgext

TRAINING_SET = "marts.fct_training_examples"
CANDIDATES_TO_SCORE = "marts.fct_candidates_to_score"

_NUMERIC_AS_FLOAT = pgext.new_type(
    pgext.DECIMAL.values, "HIRELOOP_NUMERIC_AS_FLOAT",
    lambda value, cursor: None if value is None else float(value),
)


def read_frame(conn, sql: str, params=None) -> pd.DataFrame:
    """Run `sql` on a psycopg2 connection; NUMERIC columns come back as float."""
    with conn.cursor() as cur:
        pgext.register_type(_NUMERIC_AS_FLOAT, cur)
        cur.execute(sql, params)
        columns = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def read_training_set(conn) -> pd.DataFrame:
    """Every labelled hire of the feature store (the time split picks the mature cohorts)."""
    return read_frame(conn, f"SELECT * FROM {TRAINING_SET} ORDER BY candidate_id")


def read_candidates_to_score(conn) -> pd.DataFrame:
    """Pending candidates with interviews, features as of the export date."""
    return read_frame(conn, f"SELECT * FROM {CANDIDATES_TO_SCORE} ORDER BY candidate_id")


EARLY_OUTCOMES = "marts.fct_early_outcomes"


def read_early_outcomes(conn, columns: list[str] | None = None) -> pd.DataFrame:
    """Hires whose label has not matured, with their reviews so far (n_reviews_so_far,
    attainment_so_far) and the training set's feature columns (`columns`: keep only these
    plus the two, e.g. the training frame's columns)."""
    frame = read_frame(conn, f"SELECT * FROM {EARLY_OUTCOMES} ORDER BY candidate_id")
    if columns is not None:
        keep = [c for c in columns if c in frame.columns]
        frame = frame[keep + [c for c in ("n_reviews_so_far", "attainment_so_far")
                              if c not in keep]]
    return frame
