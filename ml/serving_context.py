"""What the scoring endpoint needs from the feature store to read an interview tool's records.

An interview tool (ATS) sends a candidate's interview records with its own ids; turning
them into the model's features takes, besides the pseudonym key: which role family each
role is in, which questions are key questions of which scenario type, the rater offsets in
force (`marts.fct_rater_offset_steps`, the steps of the one estimator the feature store
uses), and the record rules (vocabularies and ranges of the raw contract). The pipeline
writes this context after every build (`write_serving_context`), and the endpoint reloads it
when the file changes, so a candidate scored today gets the features the feature store
would compute for them today, not the offsets frozen with the model version.

It holds pseudonyms, dates and figures, nothing personal. `read_serving_context` takes the
rules from its caller: ml never reads the raw contract itself (orchestration derives them
from the one rule spec).
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ml.rater_offsets import RaterOffsets

CONTEXT_VERSION = 1


@dataclass(frozen=True)
class RecordRules:
    """The interview record's vocabularies and ranges (from the raw contract's rule spec)."""

    rounds: tuple[str, ...]
    dimensions: tuple[str, ...]
    scored_by: tuple[str, ...]
    recommendations: tuple[str, ...]
    positive_recommendations: tuple[str, ...]  # count as "recommended" in recommend_share
    scenario_types: tuple[str, ...]
    education_levels: tuple[str, ...]
    score_range: tuple[float, float]
    rating_range: tuple[float, float]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordRules:
        return cls(**{k: tuple(v) for k, v in data.items()})


@dataclass(frozen=True)
class Question:
    is_key: bool
    scenario_type: str | None


@dataclass(frozen=True)
class OffsetSteps:
    """One interviewer's offsets: `offsets[i]` is in force on days after `days[i]`
    (ordinals, ascending)."""

    days: tuple[int, ...]
    offsets: tuple[float, ...]

    def before(self, day: date) -> float:
        """The offset of an interview on `day`: the last step strictly before it, else 0."""
        i = bisect.bisect_left(self.days, day.toordinal())
        return self.offsets[i - 1] if i else 0.0


_NO_STEPS = OffsetSteps((), ())  # an interviewer never seen: the average rater, offset 0


@dataclass(frozen=True)
class ServingContext:
    """The feature store's side of reading interview records (see the module docstring)."""

    as_of: date
    rules: RecordRules
    role_families: Mapping[str, str]          # role pseudonym -> role family
    questions: Mapping[str, Question]         # question pseudonym -> key / scenario type
    offset_steps: Mapping[str, OffsetSteps]   # interviewer pseudonym -> steps
    source: str = ""                          # where it was read (database, as-of date)
    key_check: str = ""                       # pseudonym of a fixed id: tells the key
    version: int = CONTEXT_VERSION

    def rater_offset(self, interviewer: str | None, day: date) -> float:
        """The offset the feature store gives an interview by `interviewer` on `day`."""
        if interviewer is None:
            return 0.0
        return self.offset_steps.get(interviewer, _NO_STEPS).before(day)

    @functools.cached_property
    def offsets_in_force(self) -> RaterOffsets:
        """Each interviewer's offset for an interview after the as-of date (the last step):
        what `/invocations` applies to the raters a request lists."""
        return RaterOffsets({i: s.offsets[-1] for i, s in self.offset_steps.items()
                             if s.offsets})

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version, "as_of": self.as_of.isoformat(), "source": self.source,
            "key_check": self.key_check,
            "rules": asdict(self.rules), "role_families": dict(self.role_families),
            "questions": {q: [v.is_key, v.scenario_type] for q, v in self.questions.items()},
            "offset_steps": {i: [list(s.days), list(s.offsets)]
                             for i, s in self.offset_steps.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServingContext:
        if data.get("version") != CONTEXT_VERSION:
            raise ValueError(f"serving context version {data.get('version')!r} is not "
                             f"{CONTEXT_VERSION}: rebuild the feature store (hireloop build)")
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            rules=RecordRules.from_dict(data["rules"]),
            role_families=dict(data["role_families"]),
            questions={q: Question(bool(k), s) for q, (k, s) in data["questions"].items()},
            offset_steps={i: OffsetSteps(tuple(d), tuple(float(x) for x in o))
                          for i, (d, o) in data["offset_steps"].items()},
            source=str(data.get("source", "")),
            key_check=str(data.get("key_check", "")),
        )


def read_serving_context(conn, rules: RecordRules, as_of: date, source: str = "",
                         key_check: str = "") -> ServingContext:
    """The context as of the feature store's last build (psycopg2 connection)."""
    with conn.cursor() as cur:
        cur.execute("SELECT role_id, role_family FROM marts.dim_job_roles")
        families = {r: f for r, f in cur.fetchall() if f is not None}
        cur.execute("SELECT question_id, is_key_question, scenario_type "
                    "FROM marts.dim_interview_questions")
        questions = {q: Question(bool(k), s) for q, k, s in cur.fetchall()}
        cur.execute("SELECT interviewer_id, through_date, offset_after "
                    "FROM marts.fct_rater_offset_steps ORDER BY interviewer_id, through_date")
        steps: dict[str, tuple[list[int], list[float]]] = {}
        for interviewer, day, offset in cur.fetchall():
            days, offsets = steps.setdefault(interviewer, ([], []))
            days.append(day.toordinal())
            offsets.append(float(offset))
    return ServingContext(
        as_of=as_of, rules=rules, role_families=families, questions=questions,
        offset_steps={i: OffsetSteps(tuple(d), tuple(o)) for i, (d, o) in steps.items()},
        source=source, key_check=key_check)


def write_serving_context(context: ServingContext, path: Path) -> Path:
    """Write atomically (the endpoint may be reading it), owner read/write only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(context.to_json(), handle, separators=(",", ":"))
    os.replace(tmp, path)
    return path


def load_serving_context(path: Path) -> ServingContext:
    with open(path) as handle:
        return ServingContext.from_json(json.load(handle))
