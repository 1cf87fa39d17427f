"""Hand-made raw export frames for the raw-store and importer tests (and the load benchmark).

Not the synthetic HRIS (hris.simulator): only the shape of an export matters here, so the
values are cheap, seeded and vectorised, and the text fields carry what breaks naive
CSV handling (commas, quotes, newlines, non-ASCII, leading spaces, empty optionals).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from hris.contract import DIMENSIONS, RAW_TABLES, ROLE_FAMILIES, ROUNDS
from hris.raw_plain import read_plain

_NAMES = np.array(
    ["Ana Lima", "O'Brien, Pat", 'Zoë "Z" Müller', "  Li Wei", "Ngozi Okafor", "Jörg Ås"],
    dtype=object,
)
_ANSWERS = np.array(
    ["I would check the line first,\nthen the supplier.", 'Ask "why" five times', "—", None],
    dtype=object,
)


def _ids(prefix: str, n: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1)).astype(str)


def _num(values: np.ndarray, decimals: int = 0) -> pd.Series:
    if decimals == 0:
        return pd.Series(values.astype(np.int64)).astype(str)
    return pd.Series(np.round(values, decimals)).astype(str)


def _dates(
    rng: np.random.Generator, n: int, start: str = "2020-01-01", days: int = 1500
) -> pd.Series:
    base = np.datetime64(start)
    return pd.Series((base + rng.integers(0, days, n)).astype(str))


def _frame(table: str, data: dict[str, pd.Series | np.ndarray | list]) -> pd.DataFrame:
    columns = RAW_TABLES[table].columns
    frame = pd.DataFrame({c: pd.Series(data[c]).reset_index(drop=True) for c in columns})
    return frame.astype(object).where(frame.notna(), None)


def make_raw_frames(n_candidates: int = 200, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A consistent export of every contract table, values str/None, contract column order."""
    rng = np.random.default_rng(seed)
    n = n_candidates
    roles = _frame(
        "job_roles",
        {
            "role_id": _ids("R", 8),
            "role_family": np.repeat(ROLE_FAMILIES, 2),
            "title": [f"{f.replace('_', ' ').title()} {lvl}" for f in ROLE_FAMILIES
                      for lvl in ("I", "II")],
            "level": ["1", "2"] * 4,
            "kpi_name": np.repeat(["monthly_sales", "resolved_24h", "on_time", "yield"], 2),
            "kpi_target": np.repeat(["100000", "0.8", "0.9", "0.97"], 2),
            "kpi_higher_is_better": ["true"] * 8,
        },
    )
    questions = _frame(
        "interview_questions",
        {
            "question_id": _ids("Q", 20),
            "role_family": np.tile(ROLE_FAMILIES, 5),
            "scenario_type": np.tile(["kpi_scenario", "okr_open", "behavioral", "behavioral"], 5),
            "dimension": np.tile(DIMENSIONS, 2)[:20],
            "prompt_text": [f"Scenario {i}: what do you do, and why?" for i in range(20)],
            "is_key_question": np.where(np.arange(20) == 3, "true", "false"),
        },
    )
    cand_id = _ids("C", n)
    hired = rng.random(n) < 0.2
    emp_of_cand = pd.Series(np.cumsum(hired)).astype(str).radd("E").where(hired, None)
    candidates = _frame(
        "candidates",
        {
            "candidate_id": cand_id,
            "full_name": _NAMES[rng.integers(0, len(_NAMES), n)],
            "national_id": _num(rng.integers(10**8, 10**9, n)),
            "email": cand_id.str.lower() + "@example.org",
            "phone": pd.Series(_num(rng.integers(10**9, 10**10, n))).where(rng.random(n) < 0.8),
            "gender": np.array(["female", "male", "nonbinary"])[rng.integers(0, 3, n)],
            "birth_date": _dates(rng, n, "1960-01-01", 15000),
            "race_ethnicity": pd.Series(np.array(["a", "b", "c"])[rng.integers(0, 3, n)]).where(
                rng.random(n) < 0.6
            ),
            "education": np.array(["bachelor", "master", "phd", "none"])[rng.integers(0, 4, n)],
            "years_experience": _num(rng.integers(0, 30, n)),
            "applied_role_id": roles["role_id"].to_numpy()[rng.integers(0, 8, n)],
            "application_date": _dates(rng, n),
            "status": np.where(
                hired,
                "hired",
                np.array(["rejected", "withdrawn", "pending"])[rng.integers(0, 3, n)],
            ),
            "employee_id": emp_of_cand,
        },
    )
    n_emp = int(hired.sum())
    emp_id = _ids("E", n_emp)
    employees = _frame(
        "employees",
        {
            "employee_id": emp_id,
            "full_name": candidates["full_name"][hired].to_numpy(),
            "national_id": candidates["national_id"][hired].to_numpy(),
            "email": emp_id.str.lower() + "@corp.example",
            "phone": candidates["phone"][hired].to_numpy(),
            "gender": candidates["gender"][hired].to_numpy(),
            "birth_date": candidates["birth_date"][hired].to_numpy(),
            "hire_date": _dates(rng, n_emp, "2021-01-01", 900),
            "role_id": candidates["applied_role_id"][hired].to_numpy(),
            "department": np.array(["Ops", "Sales & Growth", "R&D"])[rng.integers(0, 3, n_emp)],
            "manager_id": _ids("M", n_emp).where(rng.random(n_emp) < 0.95),
            "termination_date": _dates(rng, n_emp, "2023-01-01", 600).where(
                rng.random(n_emp) < 0.1
            ),
            "termination_reason": pd.Series(["resigned"] * n_emp).where(rng.random(n_emp) < 0.1),
        },
    )
    rounds_per = rng.integers(1, 4, n)
    iv_cand = np.repeat(np.arange(n), rounds_per)
    n_iv = len(iv_cand)
    iv_round = np.concatenate([np.arange(k) for k in rounds_per]) if n else np.array([], int)
    iv_id = _ids("I", n_iv)
    interviews = _frame(
        "interviews",
        {
            "interview_id": iv_id,
            "candidate_id": cand_id.to_numpy()[iv_cand],
            "round": np.array(ROUNDS)[iv_round],
            "interviewer_id": _ids("U", 40).to_numpy()[rng.integers(0, 40, n_iv)],
            "interview_date": _dates(rng, n_iv),
            "duration_minutes": _num(rng.integers(20, 90, n_iv)),
            "overall_rating": _num(rng.integers(1, 6, n_iv)),
            "recommendation": np.array(["strong_yes", "yes", "no", "strong_no"])[
                rng.integers(0, 4, n_iv)
            ],
        },
    )
    # Every interview: interviewer scores on all dimensions; half also get AI scores.
    with_ai = rng.random(n_iv) < 0.5
    n_dim = len(DIMENSIONS)
    sc_iv = np.concatenate([np.repeat(np.arange(n_iv), n_dim),
                            np.repeat(np.flatnonzero(with_ai), n_dim)])
    sc_by = np.concatenate([np.full(n_iv * n_dim, "interviewer"),
                            np.full(int(with_ai.sum()) * n_dim, "ai")])
    n_sc = len(sc_iv)
    scores = _frame(
        "interview_scores",
        {
            "interview_id": iv_id.to_numpy()[sc_iv],
            "dimension": np.tile(DIMENSIONS, n_sc // n_dim),
            "score": np.where(sc_by == "ai", _num(rng.normal(5, 2, n_sc), 1),
                              _num(rng.integers(0, 11, n_sc))),
            "scored_by": sc_by,
        },
    )
    per_iv = 4
    an_iv = np.repeat(np.arange(n_iv), per_iv)
    n_an = len(an_iv)
    answers = _frame(
        "interview_answers",
        {
            "interview_id": iv_id.to_numpy()[an_iv],
            "question_id": questions["question_id"].to_numpy()[
                (np.tile(np.arange(per_iv), n_iv) * 5 + an_iv) % 20
            ],
            "answer_text": _ANSWERS[rng.integers(0, len(_ANSWERS), n_an)],
            "answered_fully": np.where(rng.random(n_an) < 0.7, "true", "false"),
            "response_seconds": _num(rng.integers(10, 600, n_an)),
        },
    )
    per_emp = 6
    rv_emp = np.repeat(np.arange(n_emp), per_emp)
    n_rv = len(rv_emp)
    quarter = np.tile(np.arange(per_emp), n_emp)
    start = np.datetime64("2022-01-01") + quarter * 91
    reviews = _frame(
        "performance_reviews",
        {
            "review_id": _ids("V", n_rv),
            "employee_id": emp_id.to_numpy()[rv_emp],
            "period_start": pd.Series(start.astype(str)),
            "period_end": pd.Series((start + 90).astype(str)),
            "kpi_name": np.full(n_rv, "monthly_sales"),
            "kpi_value": _num(rng.normal(100000, 20000, n_rv), 2),
            "kpi_target": np.full(n_rv, "100000"),
            "okr_score": _num(rng.random(n_rv), 2),
            "rating": _num(rng.integers(1, 6, n_rv)),
            "reviewer_id": _ids("M", n_rv),
            "submitted_at": pd.Series((start + 95).astype(str)) + "T09:30:00Z",
        },
    )
    return {
        "job_roles": roles,
        "candidates": candidates,
        "employees": employees,
        "interview_questions": questions,
        "interviews": interviews,
        "interview_scores": scores,
        "interview_answers": answers,
        "performance_reviews": reviews,
    }


def write_csv_export(frames: dict[str, pd.DataFrame], directory) -> None:
    """Write frames as an export directory of `<table>.csv` (None as the empty cell)."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(directory / f"{name}.csv", index=False)


def fingerprint(conn, table: str) -> tuple[int, str]:
    """(rows, md5 over the sorted rows' contract values and _dup_seq) of raw.<table>.

    Computed from the values themselves (personal ones decrypted), not from the loader's
    _record_hash.
    """
    with conn.cursor() as cur:
        frame = read_plain(cur, RAW_TABLES[table])
    rows = sorted(repr(tuple(r)) for r in frame.itertuples(index=False))
    return len(rows), hashlib.md5("\n".join(rows).encode()).hexdigest()


def fingerprints(conn) -> dict[str, tuple[int, str]]:
    return {t: fingerprint(conn, t) for t in RAW_TABLES}
