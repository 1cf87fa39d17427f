"""A tiny hand-made HR export (str/None values, like a CSV) with known planted problems.

Used until the simulator lands and, afterwards, for the exact checks the simulator cannot
give: every planted bad value is listed in `PLANTED` with the reason staging must give.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pandas as pd

from hris.contract import DIMENSIONS, RAW_TABLES, ROUNDS, SCENARIO_TYPES, SCORED_BY

AS_OF = dt.date(2025, 6, 30)

ROLES = [
    # role_id, family, kpi_name, target, higher_is_better
    ("R-SAL", "sales", "monthly_sales", "100000", "true"),
    ("R-CS", "customer_service", "resolved_24h_share", "0.8", "true"),
    ("R-RND", "rnd", "on_time_delivery", "0.9", "true"),
    ("R-MFG", "manufacturing", "defect_rate", "0.05", "false"),
]


@dataclass(frozen=True)
class Planted:
    """A bad raw row and where staging must route it."""

    table: str
    key: tuple[str | None, ...]
    dup_seq: int
    reason: str
    column: str | None


@dataclass(frozen=True)
class Voided:
    """A bad descriptive value: the field is voided (NULL in staging), the row staged."""

    table: str
    key: tuple[str | None, ...]
    column: str
    reason: str
    value: str | None  # as quarantine.field_defects shows it (vocabulary columns only)


PLANTED: list[Planted] = []
VOIDED: list[Voided] = []
# Voided fields of these rows; the profile tests map the values (男 -> male, 本科 -> bachelor).
GENDER_CANDIDATE, EDUCATION_CANDIDATE = "C-GENDER", "C-EDU"
VOID_INTERVIEW = "I-REC"
# A hire with an interview on the hire date (staged, but must not feed features), one
# after it (quarantined: interview_after_hire) and a review before the hire date
# (quarantined: review_before_hire).
LATE_INTERVIEW_CANDIDATE = "C0001"
EARLY_REVIEW_EMPLOYEE = "E0001"


def _d(day: dt.date) -> str:
    return day.isoformat()


def build_export(n_candidates: int = 80, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The export's tables as DataFrames of str/None, with the planted rows appended."""
    PLANTED.clear()
    VOIDED.clear()
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {name: [] for name in RAW_TABLES}
    for role_id, family, kpi, target, hib in ROLES:
        rows["job_roles"].append(dict(
            role_id=role_id, role_family=family, title=f"{family} associate", level="2",
            kpi_name=kpi, kpi_target=target, kpi_higher_is_better=hib))
        for s, scenario in enumerate(SCENARIO_TYPES):
            rows["interview_questions"].append(dict(
                question_id=f"Q-{role_id}-{s}", role_family=family, scenario_type=scenario,
                dimension=DIMENSIONS[(s * 3) % len(DIMENSIONS)],
                prompt_text=f"{scenario} question for {family}",
                is_key_question="true" if scenario == "kpi_scenario" else "false"))

    n_interview = 0
    n_review = 0
    for i in range(1, n_candidates + 1):
        cid, eid = f"C{i:04d}", f"E{i:04d}"
        role_id, family, _, target, hib = ROLES[i % len(ROLES)]
        applied = dt.date(2022, 1, 3) + dt.timedelta(days=rng.randrange(0, 1200))
        if i <= 2 or (applied < dt.date(2024, 1, 1) and rng.random() < 0.6):
            status = "hired"
        elif applied > dt.date(2024, 11, 1):
            status = "pending"
        else:
            status = rng.choice(["rejected", "withdrawn"])
        if i <= 2:
            applied = dt.date(2022, 3, 1)
        rows["candidates"].append(dict(
            candidate_id=cid, full_name=f"Alexandra Testperson{i}",
            national_id=f"NID{i:07d}X", email=f"alexandra.testperson{i}@example.org",
            phone=f"+44 7700 9{i:05d}", gender=rng.choice(["female", "male"]),
            birth_date=_d(dt.date(1965 + rng.randrange(35), 1 + rng.randrange(12), 15)),
            race_ethnicity=rng.choice(["asian", "white", None]),
            education=rng.choice(["bachelor", "master", "high_school"]),
            years_experience=str(rng.randrange(0, 20)), applied_role_id=role_id,
            application_date=_d(applied), status=status,
            employee_id=eid if status == "hired" else None))
        day = applied
        n_rounds = rng.randrange(1, 4)
        for r in range(n_rounds):
            day += dt.timedelta(days=rng.randrange(3, 15))
            if day > AS_OF:
                break
            n_interview += 1
            iid = f"I{n_interview:05d}"
            rows["interviews"].append(dict(
                interview_id=iid, candidate_id=cid, round=ROUNDS[r],
                interviewer_id=f"P{rng.randrange(1, 9):03d}", interview_date=_d(day),
                duration_minutes=str(rng.randrange(20, 60)),
                overall_rating=str(rng.randrange(1, 6)),
                recommendation=rng.choice(["strong_yes", "yes", "no", "strong_no"])))
            for by in SCORED_BY:
                for dim in DIMENSIONS:
                    rows["interview_scores"].append(dict(
                        interview_id=iid, dimension=dim, score=f"{rng.uniform(2, 9):.1f}",
                        scored_by=by))
            for s in range(len(SCENARIO_TYPES)):
                rows["interview_answers"].append(dict(
                    interview_id=iid, question_id=f"Q-{role_id}-{s}", answer_text="...",
                    answered_fully=rng.choice(["true", "false"]),
                    response_seconds=str(rng.randrange(30, 300))))
        if status != "hired":
            continue
        hire = day + dt.timedelta(days=rng.randrange(14, 40))
        left = hire + dt.timedelta(days=200) if i % 7 == 3 else None
        rows["employees"].append(dict(
            employee_id=eid, full_name=f"Alexandra Testperson{i}",
            national_id=f"NID{i:07d}X", email=f"alexandra.testperson{i}@example.org",
            phone=None, gender="female", birth_date=_d(dt.date(1980, 5, 5)),
            hire_date=_d(hire), role_id=role_id, department=family,
            manager_id=f"M{i % 5:03d}", termination_date=_d(left) if left else None,
            termination_reason="resigned" if left else None))
        start = hire
        for _ in range(6):
            end = start + dt.timedelta(days=90)
            submitted = end + dt.timedelta(days=10)
            if submitted > AS_OF or (left and start > left):
                break
            n_review += 1
            value = float(target) * rng.uniform(0.7, 1.3)
            rows["performance_reviews"].append(dict(
                review_id=f"V{n_review:05d}", employee_id=eid, period_start=_d(start),
                period_end=_d(end), kpi_name="kpi", kpi_value=f"{value:.4f}",
                kpi_target=target, okr_score=f"{rng.uniform(0, 1):.2f}",
                rating=str(rng.randrange(1, 6)), reviewer_id=f"M{i % 5:03d}",
                submitted_at=_d(submitted)))
            start = end + dt.timedelta(days=1)
    _plant(rows)
    _reapply(rows)
    return {
        name: pd.DataFrame(rows[name], columns=list(RAW_TABLES[name].columns)).astype(object)
        for name in RAW_TABLES
    }


def _plant(rows: dict[str, list[dict]]) -> None:
    """Append the known-bad rows (and the point-in-time traps) and record them."""
    cand = rows["candidates"][-1]  # a generated row (planted ones are appended)
    first_iv = next(r for r in rows["interviews"] if r["candidate_id"] == LATE_INTERVIEW_CANDIDATE)
    hire = next(r for r in rows["employees"] if r["employee_id"] == "E0001")["hire_date"]
    # Point-in-time trap (a valid row): an interview ON the hire date with extreme scores.
    rows["interviews"].append({**first_iv, "interview_id": "I-LATE", "interview_date": hire,
                               "round": "director", "overall_rating": "5"})
    for by in SCORED_BY:
        for dim in DIMENSIONS:
            rows["interview_scores"].append(dict(interview_id="I-LATE", dimension=dim,
                                                 score="10", scored_by=by))

    scores = rows["interview_scores"]
    s0 = scores[0]

    def expect(table: str, row: dict, reason: str, column: str | None, dup_seq: int = 1):
        key = tuple(row[k] for k in RAW_TABLES[table].key)
        PLANTED.append(Planted(table, key, dup_seq, reason, column))

    def plant(table: str, row: dict, reason: str, column: str | None, dup_seq: int = 1):
        rows[table].append(row)
        expect(table, row, reason, column, dup_seq)

    def cascade(interview_id: str) -> None:
        """The scores and answers of a quarantined interview follow it."""
        for table in ("interview_scores", "interview_answers"):
            for row in rows[table]:
                if row["interview_id"] == interview_id:
                    expect(table, row, "parent_quarantined", "interview_id")

    # Implausible dates (from the hire's own history) and the future.
    early = dt.date.fromisoformat(hire) - dt.timedelta(days=30)
    plant("performance_reviews", dict(
        review_id="V-EARLY", employee_id=EARLY_REVIEW_EMPLOYEE, period_start=_d(early),
        period_end=hire, kpi_name="kpi", kpi_value="999999999", kpi_target="1",
        okr_score="0.5", rating="3", reviewer_id="M001", submitted_at=hire),
        "review_before_hire", "period_start")
    after = _d(dt.date.fromisoformat(hire) + dt.timedelta(days=5))
    plant("interviews", {**first_iv, "interview_id": "I-AFTER", "interview_date": after,
                         "interviewer_id": "P-AFTER"}, "interview_after_hire", "interview_date")
    plant("interview_scores", {**s0, "interview_id": "I-AFTER"}, "parent_quarantined",
          "interview_id")
    future = _d(AS_OF + dt.timedelta(days=40))
    plant("interviews", {**first_iv, "interview_id": "I-FUTURE", "interview_date": future,
                         "interviewer_id": "P-FUTURE"}, "future_date", "interview_date")
    plant("candidates", {**rows["candidates"][0], "candidate_id": "C-FUTURE",
                         "application_date": future}, "future_date", "application_date")
    plant("performance_reviews", {**rows["performance_reviews"][1], "review_id": "V-FUTURE",
                                  "period_start": future, "period_end": future,
                                  "submitted_at": future}, "future_date", "period_start")
    # Near duplicates: the same candidate, round, interviewer and date under another id.
    # The lowest id (text order) is kept: a higher copy goes, a lower copy stays and the
    # original goes (its scores and answers with it).
    near = rows["interviews"][10]
    plant("interviews", {**near, "interview_id": "I99999", "overall_rating": "1"},
          "near_duplicate", "interview_id")
    replaced = rows["interviews"][12]
    rows["interviews"].append({**replaced, "interview_id": "I-0COPY"})
    expect("interviews", replaced, "near_duplicate", "interview_id")
    cascade(replaced["interview_id"])

    plant("interview_scores", {**s0}, "exact_duplicate", None, dup_seq=2)
    # The same id but for spaces: staging would read both as one id (one pseudonym).
    spaced = rows["candidates"][3]
    plant("candidates", {**spaced, "candidate_id": f" {spaced['candidate_id']} "},
          "duplicate_key", None, dup_seq=2)
    plant("interview_scores", {**s0, "score": "0.5"}, "duplicate_key", None, dup_seq=3)
    def corrupt(table: str, match: dict, change: dict, reason: str, column: str) -> None:
        row = next(r for r in rows[table] if all(r[k] == v for k, v in match.items()))
        row.update(change)
        key = tuple(row[k] for k in RAW_TABLES[table].key)
        PLANTED.append(Planted(table, key, 1, reason, column))

    corrupt("interview_scores", {"interview_id": "I00002", "dimension": "empathy"},
            {"score": "n/a"}, "unparseable_value", "score")
    corrupt("interview_scores", {"interview_id": "I00003", "dimension": "logic"},
            {"score": "11"}, "out_of_range", "score")
    plant("interview_scores", {**s0, "dimension": "charisma"}, "invalid_value", "dimension")
    plant("interview_scores", {**s0, "interview_id": "I-NOPE"}, "orphan", "interview_id")
    plant("interview_scores", {**s0, "interview_id": None}, "missing_key", None)
    iv = rows["interviews"][5]
    plant("interviews", {**iv, "interview_id": "I-BADDATE", "interview_date": "2024-13-45"},
          "unparseable_value", "interview_date")
    plant("interviews", {**iv, "interview_id": "I-FEB30", "interview_date": "2024-02-30"},
          "unparseable_value", "interview_date")
    # Another interviewer, or it would be a near duplicate of `iv` (and, the lower id, kept).
    plant("interviews", {**iv, "interview_id": "I-RATING", "overall_rating": "6",
                         "interviewer_id": "P-RATING"}, "out_of_range", "overall_rating")
    plant("interviews", {**iv, "interview_id": "I-ROUND", "round": "final"},
          "invalid_value", "round")
    plant("interviews", {**iv, "interview_id": "I-GHOST", "candidate_id": "C-GHOST"},
          "orphan", "candidate_id")
    plant("candidates", {**cand, "candidate_id": "C-BDAY", "birth_date": "1990-02-30"},
          "unparseable_value", "birth_date")
    plant("candidates", {**cand, "candidate_id": None}, "missing_key", None)
    plant("candidates", {**cand, "candidate_id": "C-STATUS", "status": "maybe"},
          "invalid_value", "status")
    plant("candidates", {**cand, "candidate_id": "C-ROLE", "applied_role_id": "R-NONE"},
          "orphan", "applied_role_id")
    # Descriptive fields: voided with a recorded defect, the row staged.
    def void(table: str, row: dict, column: str, reason: str, shown: bool = True) -> None:
        rows[table].append(row)
        key = tuple(row[k] for k in RAW_TABLES[table].key)
        VOIDED.append(Voided(table, key, column, reason, row[column] if shown else None))

    void("candidates", {**cand, "candidate_id": "C-YEARS", "years_experience": "-3"},
         "years_experience", "out_of_range", shown=False)
    void("candidates", {**cand, "candidate_id": GENDER_CANDIDATE, "gender": "男"}, "gender",
         "invalid_value")
    void("candidates", {**cand, "candidate_id": EDUCATION_CANDIDATE, "education": "本科"},
         "education", "invalid_value")
    void("candidates", {**cand, "candidate_id": "C-RACE", "race_ethnicity": "martian"},
         "race_ethnicity", "invalid_value")
    # an interview whose recommendation another HR system spells "hire": its scores stay
    rec = rows["interviews"][20]
    void("interviews", {**rec, "interview_id": VOID_INTERVIEW, "recommendation": "hire",
                        "interviewer_id": "P-REC", "duration_minutes": "45"},
         "recommendation", "invalid_value")
    for by in SCORED_BY:
        for dim in DIMENSIONS:
            rows["interview_scores"].append(dict(interview_id=VOID_INTERVIEW, dimension=dim,
                                                 score="7", scored_by=by))
    void("interviews", {**rec, "interview_id": "I-DUR", "duration_minutes": "half an hour",
                        "interviewer_id": "P-DUR"}, "duration_minutes", "unparseable_value",
         shown=False)
    answer = rows["interview_answers"][1]
    answer["response_seconds"] = "-5"
    VOIDED.append(Voided("interview_answers", (answer["interview_id"], answer["question_id"]),
                         "response_seconds", "out_of_range", None))
    left = next(r for r in rows["employees"] if r["termination_reason"])
    left["termination_reason"] = "Fired"
    VOIDED.append(Voided("employees", (left["employee_id"],), "termination_reason",
                         "invalid_value", "Fired"))
    rv = rows["performance_reviews"][0]
    plant("performance_reviews", {**rv, "review_id": "V-OKR", "okr_score": "1.5"},
          "out_of_range", "okr_score")
    plant("performance_reviews", {**rv, "review_id": "V-KPI", "kpi_value": "lots"},
          "unparseable_value", "kpi_value")
    # Children of quarantined rows follow them, transitively: role -> candidate ->
    # interview -> score; role -> employee -> review; question -> answer.
    plant("interview_scores", {**s0, "interview_id": "I-BADDATE"}, "parent_quarantined",
          "interview_id")
    plant("interviews", {**iv, "interview_id": "I-OFSTATUS", "candidate_id": "C-STATUS"},
          "parent_quarantined", "candidate_id")
    plant("interview_scores", {**s0, "interview_id": "I-OFSTATUS"}, "parent_quarantined",
          "interview_id")
    role = rows["job_roles"][0]
    plant("job_roles", {**role, "role_id": "R-BAD", "role_family": "astrology"},
          "invalid_value", "role_family")
    plant("candidates", {**cand, "candidate_id": "C-OFBADROLE", "applied_role_id": "R-BAD"},
          "parent_quarantined", "applied_role_id")
    emp = next(r for r in rows["employees"] if r["employee_id"] == rv["employee_id"])
    plant("employees", {**emp, "employee_id": "E-BADROLE", "role_id": "R-BAD"},
          "parent_quarantined", "role_id")
    plant("employees", {**emp, "employee_id": "E-LEFTFIRST", "termination_date": "2020-01-01"},
          "out_of_range", "termination_date")
    plant("performance_reviews", {**rv, "review_id": "V-OFBAD", "employee_id": "E-LEFTFIRST"},
          "parent_quarantined", "employee_id")
    question = rows["interview_questions"][0]
    plant("interview_questions", {**question, "question_id": "Q-BAD",
                                  "scenario_type": "riddle"}, "invalid_value", "scenario_type")
    answer = rows["interview_answers"][0]
    plant("interview_answers", {**answer, "question_id": "Q-BAD"}, "parent_quarantined",
          "question_id")


# Repeat applications (valid rows, none quarantined), appended after the planted ones so
# every generated and planted row stays as it was. Each is its own candidate row; the
# label belongs to the application that led to the hire date (the last application on or
# before it whose status is hired).
INTERNAL_MOVE = "C-MOVE"  # hired again, after E0004's hire date (an internal move)
PENDING_REAPPLICATION = "C-AGAIN"  # E0005 applies again; pending at the as-of date
EARLIER_APPLICATION = "C-EARLIER"  # hired too, but before C0006's application (same E0006)
REHIRE = "C-REHIRE"  # C0066's person, hired again after leaving: a new employee E-REHIRE
REHIRE_EMPLOYEE = "E-REHIRE"
# Hire applications whose employee applied more than once -> that employee.
REAPPLIED_HIRES = {"C0004": "E0004", "C0005": "E0005", "C0006": "E0006"}
# Re-applications -> (employee linked, the hire application that keeps the label or None).
REAPPLICATIONS = {INTERNAL_MOVE: ("E0004", "C0004"), PENDING_REAPPLICATION: ("E0005", "C0005"),
                  EARLIER_APPLICATION: ("E0006", "C0006"), REHIRE: (REHIRE_EMPLOYEE, REHIRE)}


def _reapply(rows: dict[str, list[dict]]) -> None:
    """Append the repeat applications: an internal move, a pending re-application, an
    earlier hired application of the same employee, and a rehire under a new employee id."""
    candidates = {r["candidate_id"]: r for r in rows["candidates"]}
    employees = {r["employee_id"]: r for r in rows["employees"]}

    def hire_of(cid: str) -> dt.date:
        return dt.date.fromisoformat(employees[candidates[cid]["employee_id"]]["hire_date"])

    def application(cid: str, of: str, status: str, applied: dt.date, employee: str,
                    role_id: str, interview_days: tuple[int, ...]) -> None:
        rows["candidates"].append({**candidates[of], "candidate_id": cid, "status": status,
                                   "application_date": _d(applied), "employee_id": employee,
                                   "applied_role_id": role_id})
        for n, days in enumerate(interview_days):
            iid = f"I-{cid[2:]}-{n + 1}"
            rows["interviews"].append(dict(
                interview_id=iid, candidate_id=cid, round=ROUNDS[n], interviewer_id="P001",
                interview_date=_d(applied + dt.timedelta(days=days)), duration_minutes="45",
                overall_rating=str(3 + n), recommendation="yes"))
            for by in SCORED_BY:
                for k, dim in enumerate(DIMENSIONS):
                    rows["interview_scores"].append(dict(
                        interview_id=iid, dimension=dim, score=f"{4 + (k + n) % 5}.5",
                        scored_by=by))
            for s in range(len(SCENARIO_TYPES)):
                rows["interview_answers"].append(dict(
                    interview_id=iid, question_id=f"Q-{role_id}-{s}", answer_text="...",
                    answered_fully="true" if (s + n) % 2 else "false",
                    response_seconds=str(60 + 30 * s)))

    application(INTERNAL_MOVE, "C0004", "hired", hire_of("C0004") + dt.timedelta(days=400),
                "E0004", "R-CS", (9, 20))
    application(PENDING_REAPPLICATION, "C0005", "pending", AS_OF - dt.timedelta(days=60),
                "E0005", "R-RND", (10, 24))
    earlier = dt.date.fromisoformat(candidates["C0006"]["application_date"])
    application(EARLIER_APPLICATION, "C0006", "hired", earlier - dt.timedelta(days=90),
                "E0006", "R-RND", (10,))
    # The rehire: C0066 left in year one; the same person comes back as a new employee.
    left = dt.date.fromisoformat(employees["E0066"]["termination_date"])
    applied = left + dt.timedelta(days=30)
    application(REHIRE, "C0066", "hired", applied, REHIRE_EMPLOYEE, "R-RND", (10, 21))
    hire = applied + dt.timedelta(days=50)
    rows["employees"].append({**employees["E0066"], "employee_id": REHIRE_EMPLOYEE,
                              "hire_date": _d(hire), "termination_date": None,
                              "termination_reason": None})
    start = hire
    for n in range(4):
        end = start + dt.timedelta(days=90)
        rows["performance_reviews"].append(dict(
            review_id=f"V-REHIRE-{n + 1}", employee_id=REHIRE_EMPLOYEE, period_start=_d(start),
            period_end=_d(end), kpi_name="kpi", kpi_value=f"{0.85 + 0.03 * n:.4f}",
            kpi_target="0.9", okr_score="0.6", rating="4", reviewer_id="M001",
            submitted_at=_d(end + dt.timedelta(days=10))))
        start = end + dt.timedelta(days=1)
