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
# Until marts.fct_early_outcomes is built (issue 11, monitoring), the same rows from the
# intermediate models it reads: immature hires with their reviews so far.
_EARLY_FROM_INTERMEDIATE = """
SELECT features.*, labels.role_id, labels.hire_date,
       to_char(labels.hire_date, 'YYYY') || '-Q' || extract(quarter from labels.hire_date)
           AS cohort_quarter,
       labels.n_label_reviews AS n_reviews_so_far,
       CASE WHEN labels.n_label_reviews > 0 THEN labels.kpi_attainment END
           AS attainment_so_far,
       labels.first_review_period_start
FROM intermediate.int_hires_labeled AS labels
JOIN intermediate.int_candidate_features_joined AS features
  ON features.candidate_id = labels.candidate_id
WHERE NOT labels.label_mature AND features.n_interviews > 0
ORDER BY labels.candidate_id
"""


def _exists(conn, relation: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [relation])
        return bool(cur.fetchone()[0])


def read_early_outcomes(conn, columns: list[str] | None = None) -> pd.DataFrame:
    """Hires whose label has not matured, with their reviews so far (n_reviews_so_far,
    attainment_so_far) and the training set's feature columns (`columns`: keep only these
    plus the two, e.g. the training frame's columns)."""
    if _exists(conn, EARLY_OUTCOMES):
        frame = read_frame(conn, f"SELECT * FROM {EARLY_OUTCOMES} ORDER BY candidate_id")
    else:
        frame = read_frame(conn, _EARLY_FROM_INTERMEDIATE)
        frame = frame.loc[:, ~frame.columns.duplicated()]
    if columns is not None:
        keep = [c for c in columns if c in frame.columns]
        frame = frame[keep + [c for c in ("n_reviews_so_far", "attainment_so_far")
                              if c not in keep]]
    return frame
