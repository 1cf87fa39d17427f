"""What an interview tool (ATS) sends the scoring endpoint, built from an HR export's tables.

The ATS holds interviews under the HR system's own ids; this turns an export's raw tables
(text, as exported) into the records shape of `POST /candidates/score`
(ml/interview_records.py): one object per candidate with its interviews, their scores and
answers. Used by the tests, the benchmarks and the demo, which play the interview tool;
the ids it sends are raw, so what it builds stays on the HR-system side (never logged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from hris.contract import BOOL_FALSE, BOOL_TRUE


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    text = str(v).strip()
    return text or None


def _number(v: Any) -> float | str | None:
    """A number as the tool holds it; text that is no number is sent as it is (the endpoint
    refuses it with its reason, as it would a real tool's typo)."""
    text = _text(v)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _flag(v: Any) -> bool | str | None:
    text = _text(v)
    if text is None:
        return None
    low = text.lower()
    return True if low in BOOL_TRUE else False if low in BOOL_FALSE else text


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def candidate_requests(raw: Mapping[str, pd.DataFrame], candidate_ids: Iterable[str]
                       ) -> list[dict[str, Any]]:
    """One records-shape object per candidate id (raw ids), in the order given.

    `raw` holds the export's tables by name (candidates, interviews, interview_scores,
    interview_answers), as loaded or as the simulator writes them. Empty values are left
    out, as an interview tool leaves out what it does not hold.
    """
    wanted = [str(c) for c in candidate_ids]
    candidates = raw["candidates"].drop_duplicates("candidate_id").set_index("candidate_id")
    interviews = raw["interviews"][raw["interviews"]["candidate_id"].isin(wanted)]
    scores = raw["interview_scores"][raw["interview_scores"]["interview_id"].isin(
        interviews["interview_id"])]
    answers = raw["interview_answers"][raw["interview_answers"]["interview_id"].isin(
        interviews["interview_id"])]
    scores_of: dict[str, list[dict[str, Any]]] = {}
    for row in scores.itertuples(index=False):
        scores_of.setdefault(row.interview_id, []).append(
            {"dimension": row.dimension, "scored_by": row.scored_by,
             "score": _number(row.score)})
    answers_of: dict[str, list[dict[str, Any]]] = {}
    for row in answers.itertuples(index=False):
        answer = {"question_id": row.question_id, "answered_fully": _flag(row.answered_fully)}
        _put(answer, "response_seconds", _number(row.response_seconds))
        answers_of.setdefault(row.interview_id, []).append(answer)
    interviews_of: dict[str, list[dict[str, Any]]] = {}
    for row in interviews.sort_values(["interview_date", "interview_id"]).itertuples(
            index=False):
        interview: dict[str, Any] = {"interview_id": row.interview_id, "round": row.round,
                                     "date": _text(row.interview_date)}
        _put(interview, "interviewer_id", _text(row.interviewer_id))
        _put(interview, "duration_minutes", _number(row.duration_minutes))
        _put(interview, "overall_rating", _number(row.overall_rating))
        _put(interview, "recommendation", _text(row.recommendation))
        interview["scores"] = scores_of.get(row.interview_id, [])
        interview["answers"] = answers_of.get(row.interview_id, [])
        interviews_of.setdefault(row.candidate_id, []).append(interview)
    out = []
    for cid in wanted:
        person = candidates.loc[cid]
        record: dict[str, Any] = {"candidate_id": cid, "role_id": _text(person.applied_role_id),
                                  "application_date": _text(person.application_date)}
        _put(record, "education", _text(person.education))
        _put(record, "years_experience", _number(person.years_experience))
        record["interviews"] = interviews_of.get(cid, [])
        out.append(record)
    return out



# The columns an interview tool holds of each staged table (never a personal or protected
# one), and which of them are ids the HR system knows by its own name.
_TOOL_COLUMNS = {
    "candidates": ("candidate_id", "applied_role_id", "application_date", "education",
                   "years_experience"),
    "interviews": ("interview_id", "candidate_id", "round", "interviewer_id",
                   "interview_date", "duration_minutes", "overall_rating", "recommendation"),
    "interview_scores": ("interview_id", "dimension", "score", "scored_by"),
    "interview_answers": ("interview_id", "question_id", "answered_fully",
                          "response_seconds"),
}
_ID_SOURCES = {  # pseudonymised column -> the raw table and column holding its raw ids
    "candidate_id": ("candidates", "candidate_id"),
    "applied_role_id": ("job_roles", "role_id"),
    "interview_id": ("interviews", "interview_id"),
    "interviewer_id": ("interviews", "interviewer_id"),
    "question_id": ("interview_questions", "question_id"),
}


def _raw_ids(cur, key: bytes, table: str, column: str) -> dict[str, str]:
    """Pseudonym -> the raw id it was made from, for one raw column."""
    from hris.pseudonym import pseudonym

    cur.execute(f"SELECT DISTINCT trim({column}) FROM raw.{table} "
                f"WHERE nullif(trim({column}), '') IS NOT NULL")
    return {pseudonym(key, raw): raw for (raw,) in cur.fetchall()}


def waiting_candidate_requests(conn, key: bytes, waiting: Iterable[str]
                               ) -> list[dict[str, Any]]:
    """The requests an interview tool would send for the waiting candidates (feature-store
    pseudonyms `waiting`, e.g. fct_candidates_to_score's): the export's rows the feature
    store accepted (staging), under the HR system's own ids again, as the tool holds them.
    Rows the feature store quarantined are the export's defects, not the tool's records."""
    wanted = list(waiting)
    with conn.cursor() as cur:
        ids = {col: _raw_ids(cur, key, *src) for col, src in _ID_SOURCES.items()}
        queries = {
            "candidates": "candidate_id = ANY(%s)",
            "interviews": "candidate_id = ANY(%s)",
            "interview_scores": "interview_id IN (SELECT interview_id FROM "
                                "staging.stg_hris__interviews WHERE candidate_id = ANY(%s))",
            "interview_answers": "interview_id IN (SELECT interview_id FROM "
                                 "staging.stg_hris__interviews WHERE candidate_id = ANY(%s))",
        }
        tables = {}
        for table, where in queries.items():
            columns = _TOOL_COLUMNS[table]
            cur.execute(f"SELECT {', '.join(columns)} FROM staging.stg_hris__{table} "
                        f"WHERE {where}", (wanted,))
            frame = pd.DataFrame(cur.fetchall(), columns=list(columns), dtype=object)
            for col in columns:
                if col in ids:
                    frame[col] = frame[col].map(ids[col])
            tables[table] = frame
    raw_of = ids["candidate_id"]
    return candidate_requests(tables, [raw_of[p] for p in wanted if p in raw_of])
