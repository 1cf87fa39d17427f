"""An interview tool's records of a candidate, checked and turned into the model's features.

The interview tool (ATS) holds interviews, not features: rounds, interviewers, scores by
dimension and scorer, answers to questions, all under its own ids. `derive` checks a
request of such records (ml/endpoint_schema.py publishes the shape) and computes, per
candidate, the feature-store columns of `marts.fct_candidates_to_score` with the feature store's
definitions (dbt: int_interviews_aggregated, int_interview_scores_pivoted,
int_interview_answers_aggregated): means per dimension and scorer over interviews and
interviewers, human scores minus each interview's rater offset as the feature store
gives it (`ServingContext.rater_offset`, the steps of int_rater_offset_steps), round
ratings, recommendation share, answer shares per scenario type, response time. The SQL and
this module are two implementations proven equal, to 1e-9, for every candidate of
fct_candidates_to_score (tests/ml/test_interview_records_endpoint.py).

Ids are the ATS's own: `pseudonymise` (the installation's HMAC, given by the serving
process, which holds the key) turns them into the feature store's pseudonyms, so the
ATS never needs our pseudonyms and the key never reaches the model or its artifacts. The
candidate's pseudonym is what the scoring log keeps, so scores join to outcomes later.

Every problem is listed (row = candidate position, field = a path such as
`interviews[1].scores[0].score`), and no message repeats a value the caller sent.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ml.features import is_banned
from ml.scoring_input import (
    MAX_REQUEST_ID_CHARS,
    REQUEST_ID,
    ROLE_FAMILY,
    Problem,
    field_spec,
    safe_name,
)
from ml.serving_context import ServingContext

CANDIDATES = "candidates"
CANDIDATE_ID = "candidate_id"
MAX_CANDIDATES = 100
MAX_INTERVIEWS = 20
MAX_SCORES = 100       # per interview
MAX_ANSWERS = 50       # per interview
MAX_ID_CHARS = 200

CANDIDATE_FIELDS = (CANDIDATE_ID, REQUEST_ID, "role_id", "application_date", "education",
                    "years_experience", "interviews")
INTERVIEW_FIELDS = ("interview_id", "round", "interviewer_id", "date", "duration_minutes",
                    "overall_rating", "recommendation", "scores", "answers")
SCORE_FIELDS = ("dimension", "scored_by", "score")
ANSWER_FIELDS = ("question_id", "answered_fully", "response_seconds")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEARS = field_spec("years_experience")  # the same background field's rule as /invocations


@dataclass(frozen=True)
class DerivedCandidate:
    """One candidate's features (feature-store column names) and its pseudonym."""

    position: int
    candidate_pseudonym: str
    request_id: str | None
    features: dict[str, Any]  # role_family, education and the numeric feature columns


def feature_columns(context: ServingContext) -> list[str]:
    """The numeric feature columns derived, in the order of dbt's interview_feature_columns."""
    r = context.rules
    cols = [f"{sb}_{d}" for sb in r.scored_by for d in r.dimensions]
    cols += [f"interviewer_{d}_adj" for d in r.dimensions]
    cols += [f"overall_rating_{x}" for x in r.rounds]
    cols += [f"key_{s}_answered_fully_share" for s in r.scenario_types]
    return [*cols, "n_interviews", "n_interviewers", "overall_rating_mean", "recommend_share",
                   "mean_duration_minutes", "n_answers", "n_key_questions",
                   "key_answered_fully_share", "answered_fully_share", "mean_response_seconds",
                   "years_experience"]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class _Checker:
    """Collects the problems of one candidate; each check returns the clean value or None."""

    def __init__(self, row: int, problems: list[Problem]):
        self.row, self.problems = row, problems

    def add(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(self.row, path, rule, message))

    def fields(self, obj: Any, path: str, allowed: Sequence[str], what: str) -> bool:
        """`obj` is an object whose keys are all in `allowed` (else a problem per key)."""
        if not isinstance(obj, Mapping):
            self.add(path or None, "type", f"{what} must be a JSON object")
            return False
        for key in obj:
            if key in allowed:
                continue
            name = safe_name(key)
            where = f"{path}.{name}" if path else name
            if isinstance(key, str) and is_banned(key):
                self.add(where, "protected", f"field {name!r} is a protected attribute or "
                         "personal data: it may never be sent to the model; remove it")
                continue
            close = (difflib.get_close_matches(key, list(allowed), n=1)
                     if isinstance(key, str) else [])
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.add(where, "unknown", f"field {name!r} is not part of {what}{hint}")
        return True

    def present(self, obj: Mapping, key: str, path: str, required: bool
                ) -> tuple[str, Any]:
        """The field's path and value (None when absent or null: a problem if required)."""
        where = f"{path}.{key}" if path else key
        v = obj.get(key)
        if v is None and required:
            self.add(where, "required", f"missing required field {key!r}")
        return where, v

    def text(self, obj: Mapping, key: str, path: str, required: bool,
             max_chars: int = MAX_ID_CHARS) -> str | None:
        where, v = self.present(obj, key, path, required)
        if v is None:
            return None
        if not isinstance(v, str) or not v.strip():
            self.add(where, "type", f"field {key!r} must be a non-empty string")
            return None
        if len(v) > max_chars:
            self.add(where, "length", f"field {key!r} is longer than {max_chars} characters")
            return None
        return v

    def choice(self, obj: Mapping, key: str, path: str, allowed: Sequence[str],
               required: bool) -> str | None:
        v = self.text(obj, key, path, required)
        if v is not None and v not in allowed:
            self.add(f"{path}.{key}" if path else key, "category",
                     f"field {key!r} must be one of {', '.join(allowed)}")
            return None
        return v

    def number(self, obj: Mapping, key: str, path: str, low: float, high: float | None,
               required: bool) -> float | None:
        where, v = self.present(obj, key, path, required)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.add(where, "type", f"field {key!r} must be a JSON number")
            return None
        x = float(v)
        if not math.isfinite(x) or x < low or (high is not None and x > high):
            upper = "∞)" if high is None else f"{high:g}]"
            self.add(where, "range", f"field {key!r} must be in [{low:g}, {upper}")
            return None
        return x

    def day(self, obj: Mapping, key: str, path: str, required: bool, today: date
            ) -> date | None:
        v = self.text(obj, key, path, required)
        where = f"{path}.{key}" if path else key
        if v is None:
            return None
        try:
            if not _DATE.fullmatch(v):
                raise ValueError
            parsed = date.fromisoformat(v)
        except ValueError:
            self.add(where, "format", f"field {key!r} must be a date as YYYY-MM-DD")
            return None
        if parsed > today:
            self.add(where, "future", f"field {key!r} is after today ({today.isoformat()})")
            return None
        return parsed

    def items(self, obj: Mapping, key: str, path: str, limit: int, required: bool
              ) -> list[Any]:
        where, v = self.present(obj, key, path, required)
        if v is None:
            return []
        if not isinstance(v, list):
            self.add(where, "type", f"field {key!r} must be a JSON array")
            return []
        if required and not v:
            self.add(where, "required", f"field {key!r} must hold at least one entry")
        if len(v) > limit:
            self.add(where, "length", f"field {key!r} holds {len(v)} entries; at most {limit}")
            return []
        return v


def candidate_records(data: Any) -> list[Any]:
    """The candidates of a request body, `{"candidates": [...]}`; ValueError otherwise."""
    if (isinstance(data, Mapping) and set(data) == {CANDIDATES}
            and isinstance(data[CANDIDATES], list)):
        return data[CANDIDATES]
    raise ValueError('the body must be {"candidates": [ {candidate record}, ... ]}')


def derive(candidates: Sequence[Any], context: ServingContext,
           pseudonymise: Callable[[str], str], today: date,
           max_candidates: int = MAX_CANDIDATES
           ) -> tuple[list[DerivedCandidate], list[Problem]]:
    """Check every candidate and derive the features of each one without a problem.

    Returns the derived candidates (in request order) and every problem found; a caller
    that scores all-or-nothing refuses the request when the problems are not empty.
    """
    problems: list[Problem] = []
    if not candidates:
        return [], [Problem(None, CANDIDATES, "batch", "the request holds no candidates")]
    if len(candidates) > max_candidates:
        return [], [Problem(None, CANDIDATES, "batch", f"{len(candidates)} candidates exceed "
                            f"the maximum of {max_candidates} per request; split them")]
    out = []
    for i, record in enumerate(candidates):
        before = len(problems)
        derived = _derive_one(i, record, context, pseudonymise, today, _Checker(i, problems))
        if derived is not None and len(problems) == before:
            out.append(derived)
    return out, problems


def _derive_one(i: int, rec: Any, context: ServingContext, pseudonymise: Callable[[str], str],
                today: date, check: _Checker) -> DerivedCandidate | None:
    rules = context.rules
    if not check.fields(rec, "", CANDIDATE_FIELDS, "a candidate record"):
        return None
    candidate = check.text(rec, CANDIDATE_ID, "", required=True)
    request_id = check.text(rec, REQUEST_ID, "", required=False,
                            max_chars=MAX_REQUEST_ID_CHARS)
    role = check.text(rec, "role_id", "", required=True)
    family = None
    if role is not None:
        family = context.role_families.get(pseudonymise(role))
        if family is None:
            check.add("role_id", "unknown_id", "field 'role_id' names a role the feature "
                      "store does not know: export the role (job_roles) and rebuild")
    check.day(rec, "application_date", "", required=True, today=today)
    education = check.choice(rec, "education", "", rules.education_levels, required=False)
    years = check.number(rec, "years_experience", "", _YEARS.low, _YEARS.high, required=False)

    interviews = []
    for j, item in enumerate(check.items(rec, "interviews", "", MAX_INTERVIEWS, True)):
        interviews.append(_interview(f"interviews[{j}]", item, context, pseudonymise, today,
                                     check))
    if candidate is None or family is None or any(v is None for v in interviews):
        return None
    features = _features(interviews, context)
    features[ROLE_FAMILY] = family
    features["education"] = education
    features["years_experience"] = years
    return DerivedCandidate(i, pseudonymise(candidate), request_id, features)


@dataclass(frozen=True)
class _Interview:
    round: str
    interviewer: str | None  # pseudonym
    day: date
    duration: float | None
    rating: float | None
    recommendation: str | None
    scores: list[tuple[str, str, float]]            # scored_by, dimension, score
    answers: list[tuple[str, bool, float | None]]   # question pseudonym, fully, seconds


def _interview(path: str, item: Any, context: ServingContext,
               pseudonymise: Callable[[str], str], today: date, check: _Checker
               ) -> _Interview | None:
    rules = context.rules
    if not check.fields(item, path, INTERVIEW_FIELDS, "an interview"):
        return None
    before = len(check.problems)
    check.text(item, "interview_id", path, required=False)
    rnd = check.choice(item, "round", path, rules.rounds, required=True)
    interviewer = check.text(item, "interviewer_id", path, required=False)
    day = check.day(item, "date", path, required=True, today=today)
    duration = check.number(item, "duration_minutes", path, 0.0, None, required=False)
    rating = check.number(item, "overall_rating", path, *rules.rating_range, required=False)
    recommendation = check.choice(item, "recommendation", path, rules.recommendations,
                                  required=False)
    scores, seen = [], set()
    for k, s in enumerate(check.items(item, "scores", path, MAX_SCORES, False)):
        where = f"{path}.scores[{k}]"
        if not check.fields(s, where, SCORE_FIELDS, "a score"):
            continue
        dim = check.choice(s, "dimension", where, rules.dimensions, required=True)
        by = check.choice(s, "scored_by", where, rules.scored_by, required=True)
        value = check.number(s, "score", where, *rules.score_range, required=True)
        if dim is not None and by is not None:
            if (by, dim) in seen:
                check.add(where, "duplicate", f"the interview already has a {by} score for "
                          f"{dim}: send one score per dimension and scorer")
            seen.add((by, dim))
        if dim is not None and by is not None and value is not None:
            scores.append((by, dim, value))
    answers, asked = [], set()
    for k, a in enumerate(check.items(item, "answers", path, MAX_ANSWERS, False)):
        where = f"{path}.answers[{k}]"
        if not check.fields(a, where, ANSWER_FIELDS, "an answer"):
            continue
        question = check.text(a, "question_id", where, required=True)
        fully = a.get("answered_fully")
        if not isinstance(fully, bool):
            check.add(f"{where}.answered_fully", "required" if fully is None else "type",
                      "field 'answered_fully' must be true or false")
            fully = None
        seconds = check.number(a, "response_seconds", where, 0.0, None, required=False)
        pseudo = None
        if question is not None:
            pseudo = pseudonymise(question)
            if pseudo not in context.questions:
                check.add(f"{where}.question_id", "unknown_id", "field 'question_id' names a "
                          "question the feature store does not know: export the question "
                          "(interview_questions) and rebuild")
                pseudo = None
            elif pseudo in asked:
                check.add(where, "duplicate", "the interview already answers this question")
            asked.add(pseudo)
        if pseudo is not None and fully is not None:
            answers.append((pseudo, fully, seconds))
    if len(check.problems) > before or rnd is None or day is None:
        return None
    return _Interview(rnd, pseudonymise(interviewer) if interviewer else None, day, duration,
                      rating, recommendation, scores, answers)


def _features(interviews: Sequence[_Interview], context: ServingContext) -> dict[str, Any]:
    """The feature store's aggregation of one candidate's interviews (see module docstring)."""
    rules = context.rules
    out: dict[str, Any] = {}
    by_column: dict[str, list[float]] = {}
    adjusted: dict[str, list[float]] = {}
    for iv in interviews:
        offset = context.rater_offset(iv.interviewer, iv.day)
        for by, dim, value in iv.scores:
            by_column.setdefault(f"{by}_{dim}", []).append(value)
            if by == "interviewer":
                adjusted.setdefault(f"interviewer_{dim}_adj", []).append(value - offset)
    for by in rules.scored_by:
        for dim in rules.dimensions:
            out[f"{by}_{dim}"] = _mean(by_column.get(f"{by}_{dim}", []))
    for dim in rules.dimensions:
        out[f"interviewer_{dim}_adj"] = _mean(adjusted.get(f"interviewer_{dim}_adj", []))
    ratings = [iv.rating for iv in interviews if iv.rating is not None]
    for rnd in rules.rounds:
        out[f"overall_rating_{rnd}"] = _mean([iv.rating for iv in interviews
                                              if iv.round == rnd and iv.rating is not None])
    out["n_interviews"] = float(len(interviews))
    out["n_interviewers"] = float(len({iv.interviewer for iv in interviews
                                       if iv.interviewer is not None}))
    out["overall_rating_mean"] = _mean(ratings)
    out["recommend_share"] = _mean([
        1.0 if iv.recommendation in rules.positive_recommendations else 0.0
        for iv in interviews if iv.recommendation is not None])
    out["mean_duration_minutes"] = _mean([iv.duration for iv in interviews
                                          if iv.duration is not None])
    answers = [(context.questions[q], fully, s) for iv in interviews for q, fully, s in iv.answers]
    key = [(q, fully) for q, fully, _ in answers if q.is_key]
    for scenario in rules.scenario_types:
        out[f"key_{scenario}_answered_fully_share"] = _mean(
            [float(fully) for q, fully in key if q.scenario_type == scenario])
    out["n_answers"] = float(len(answers))
    out["n_key_questions"] = float(len(key)) if answers else None
    out["key_answered_fully_share"] = _mean([float(fully) for _, fully in key])
    out["answered_fully_share"] = _mean([float(fully) for _, fully, _ in answers])
    out["mean_response_seconds"] = _mean([s for _, _, s in answers if s is not None])
    return out

