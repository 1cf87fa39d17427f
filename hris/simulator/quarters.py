"""Time moves on: a sandbox's synthetic HRIS advanced one calendar quarter at a time.

`QuarterState` holds one quarter: the history, every cohort so far (hris.simulator.cohorts)
and the decisions already made (from the decision log, so re-drawing a cohort in a later
quarter reproduces it). A candidate whose last round falls in the quarter is scored (the
caller posts `requests` to the endpoint) and decided by a person (hris.simulator.recruiter)
from the band and the old process together. Hires' employment is revealed as the clock
passes it; the history's hires keep being revealed too (`simulate(reveal_until=...)`), as
far as the history drew them (N quarters after their first, N from the history's span).

What reaches hireloop each quarter is an export: the rows new or changed since the last
as-of (`QuarterExport.frames`), written as a simulated export folder by the caller, and the
truth of every applicant so far. Limits: p_observable is not computed for the new cohorts
(the benchmarks compute it on demand from the truth's abilities).
"""


from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hris.ats_requests import candidate_requests
from hris.contract import ROLE_FAMILIES
from hris.pseudonym import pseudonym
from hris.simulator.cohorts import (
    Cohort,
    CohortSpec,
    History,
    QuarterRefused,
    cohort_employment,
    cohort_tables,
    day_date,
    day_number,
    decided_funnel,
    draw_cohort,
    history_cohort,
    merge_employment,
    quarter_ends,
    quarter_label,
)
from hris.simulator.generate import (
    SimulatedHRIS,
    simulate,
)
from hris.simulator.interviews import (
    Funnel,
    funnel_as_of,
)
from hris.simulator.outcomes import met_probability
from hris.simulator.recruiter import decide
from hris.simulator.truth import truth_tables

_TABLES = ("candidates", "employees", "interviews", "interview_scores", "interview_answers",
           "performance_reviews")


def visible_at(tables: Mapping[str, pd.DataFrame], as_of: dt.date,
               final_day: Mapping[str, int] | None = None) -> dict[str, pd.DataFrame]:
    """What the HR system holds on `as_of` of rows drawn to the end of time: applications,
    interviews, hires and reviews up to it; a process ending later is pending; a later
    termination is not known yet. `final_day` (candidate id -> day) gives each process's
    end (None: the candidates' rows are already as of the date)."""
    day = as_of.isoformat()
    out = {}
    cands = tables["candidates"]
    cands = cands[cands["application_date"] <= day].copy()
    if final_day is not None:
        open_ = cands["candidate_id"].map(final_day).to_numpy() > day_number(as_of)
        cands.loc[open_, "status"] = "pending"
        cands.loc[open_, "employee_id"] = None
    out["candidates"] = cands
    iv = tables["interviews"]
    out["interviews"] = iv[iv["interview_date"] <= day]
    kept = set(out["interviews"]["interview_id"])
    for name in ("interview_scores", "interview_answers"):
        frame = tables[name]
        out[name] = frame[frame["interview_id"].isin(kept)]
    emp = tables["employees"]
    emp = emp[emp["hire_date"] <= day].copy()
    later = emp["termination_date"].notna() & (emp["termination_date"] > day)
    emp.loc[later, ["termination_date", "termination_reason"]] = None
    out["employees"] = emp
    reviews = tables["performance_reviews"]
    out["performance_reviews"] = reviews[reviews["submitted_at"] <= day]
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def changed_rows(new: pd.DataFrame, old: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of `new` that `old` does not hold exactly (new rows and updated ones)."""
    if old is None or old.empty:
        return new.reset_index(drop=True)
    seen = set(pd.util.hash_pandas_object(old.astype(object), index=False))
    fresh = ~pd.util.hash_pandas_object(new.astype(object), index=False).isin(seen)
    return new[fresh.to_numpy()].reset_index(drop=True)


@dataclass
class ToDecide:
    """A candidate whose rounds ended in the quarter: scored, then decided."""

    cohort: int
    index: int
    candidate_id: str            # the HR system's id (stays on the HR side)
    role_family: str
    verdict: str
    last_day: dt.date


@dataclass
class Decision:
    """The person's decision on one candidate, beside the score it answers."""

    candidate_pseudonym: str
    role_family: str
    decision: str
    reason: str
    decided_on: dt.date
    model_version: str | None = None
    probability: float | None = None
    band: str | None = None
    request_id: str | None = None


@dataclass
class QuarterExport:
    """The quarter's export (rows new or changed since the last as-of) and its truth."""

    frames: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    hires_started: int
    reviews: int
    terminations: int


@dataclass
class QuarterState:
    """Everything needed to simulate quarter `specs[-1].index`: the history, one spec per
    simulated quarter so far (this one last) and the decisions already made (candidate
    pseudonym -> (decision, quarter index))."""

    history: History
    specs: list[CohortSpec]
    key: bytes
    past: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = self.specs[-1].index
        ends = quarter_ends(self.history.as_of, self.index)
        self.as_of = ends[-1]
        self.previous = ends[-2] if self.index > 1 else self.history.as_of
        self.label = quarter_label(self.as_of)
        self.cohorts = [history_cohort(self.history),
                        *(draw_cohort(self.history, s) for s in self.specs)]
        self._pseudonyms = [np.array([pseudonym(self.key, c) for c in cohort.candidate_ids],
                                     dtype=object) for cohort in self.cohorts]

    def to_decide(self) -> list[ToDecide]:
        """Candidates whose last round fell in this quarter (all decided here)."""
        out = []
        lo, hi = day_number(self.previous), day_number(self.as_of)
        for cohort in self.cohorts:
            due = np.flatnonzero((cohort.last_day > lo) & (cohort.last_day <= hi)
                                 & (cohort.verdict != None))  # noqa: E711 (object array)
            fam = cohort.applicants.fam
            for i in due:
                out.append(ToDecide(cohort.spec.index, int(i), str(cohort.candidate_ids[i]),
                                    ROLE_FAMILIES[fam[i]], str(cohort.verdict[i]),
                                    day_date(cohort.last_day[i])))
        return out

    def requests(self, due: Sequence[ToDecide]) -> list[dict[str, Any]]:
        """What the interview tool sends for each candidate (records shape, HR ids), with a
        request id that names the quarter, never the candidate."""
        out = []
        for cohort in self.cohorts:
            mine = [d for d in due if d.cohort == cohort.spec.index]
            if not mine:
                continue
            tables = cohort_tables(cohort, cohort.funnel, merge_employment([]))
            built = candidate_requests(tables, [d.candidate_id for d in mine])
            out += [{**r, "request_id": f"sim-{self.label}-c{d.cohort}-{d.index}"}
                    for r, d in zip(built, mine, strict=True)]
        return out

    def decide(self, due: Sequence[ToDecide], answers: Mapping[str, Mapping[str, Any]]
               ) -> list[Decision]:
        """The person's decisions; `answers` maps request id -> the endpoint's prediction
        (absent: refused or not scored)."""
        out = []
        for cohort, pseudonyms in zip(self.cohorts, self._pseudonyms, strict=True):
            mine = [d for d in due if d.cohort == cohort.spec.index]
            if not mine:
                continue
            ids = [f"sim-{self.label}-c{d.cohort}-{d.index}" for d in mine]
            got = [answers.get(r) for r in ids]
            band = np.array([g.get("band") if g else None for g in got], dtype=object)
            verdict = np.array([d.verdict for d in mine], dtype=object)
            u = cohort.u_person[[d.index for d in mine]]
            decisions, reasons = decide(verdict, band, u)
            for d, g, rid, dec, why in zip(mine, got, ids, decisions, reasons, strict=True):
                out.append(Decision(
                    candidate_pseudonym=str(pseudonyms[d.index]), role_family=d.role_family,
                    decision=str(dec), reason=why, decided_on=d.last_day,
                    model_version=None if g is None else str(g.get("model_version")),
                    probability=None if g is None else float(g["probability"]),
                    band=None if g is None else g.get("band"),
                    request_id=rid if g is not None else None))
        return out

    def _decisions_of(self, cohort_pos: int, new: Sequence[Decision]
                      ) -> tuple[dict[int, str], dict[int, int]]:
        pseudonyms = self._pseudonyms[cohort_pos]
        position = {p: i for i, p in enumerate(pseudonyms)}
        decided, when = {}, {}
        for p, (decision, quarter) in self.past.items():
            if p in position:
                decided[position[p]], when[position[p]] = decision, quarter
        for d in new:
            if d.candidate_pseudonym in position:
                i = position[d.candidate_pseudonym]
                decided[i], when[i] = d.decision, self.index
        cohort = self.cohorts[cohort_pos]
        if cohort.spec.index == 0:  # hired by the history's rounds, starting after it
            late = (cohort.funnel.hire_day > day_number(self.history.as_of)) & (
                cohort.last_day <= day_number(self.history.as_of))
            when.update({int(i): 0 for i in np.flatnonzero(late)})
        return decided, when

    def export(self, new: Sequence[Decision]) -> QuarterExport:
        """The rows new or changed between the last as-of and this one, for the history's
        hires and every cohort, and the cohorts' truth as of now."""
        history = simulate(n_candidates=self.history.n, seed=self.history.seed,
                           start=self.history.start, end=self.history.end,
                           as_of=self.history.as_of.isoformat(),
                           reveal_until=self.as_of.isoformat())
        now = _history_part(history, self.as_of)
        before = _history_part(history, self.previous)
        truths = []
        for pos, cohort in enumerate(self.cohorts):
            decided, when = self._decisions_of(pos, new)
            funnel = decided_funnel(cohort, decided)
            emp = cohort_employment(cohort, funnel, when)
            tables = cohort_tables(cohort, funnel, emp)
            final = dict(zip(cohort.candidate_ids, funnel.final_day.tolist(), strict=True))
            for frames, day in ((now, self.as_of), (before, self.previous)):
                for name, frame in visible_at(tables, day, final).items():
                    frames[name].append(frame)
            truth = _truth(cohort, funnel_as_of(funnel, day_number(self.as_of)))
            if cohort.spec.index == 0:  # the history's candidates who went on
                truth = truth[cohort.funnel.final_day > day_number(self.history.as_of)]
            truths.append(truth)
        frames = {}
        for name in _TABLES:
            frames[name] = changed_rows(pd.concat(now[name], ignore_index=True),
                                        pd.concat(before[name], ignore_index=True))
        reviews = len(frames["performance_reviews"])
        emp_rows = frames["employees"]
        started = emp_rows["hire_date"] > self.previous.isoformat()
        terminated = emp_rows["termination_date"].notna() & (
            emp_rows["termination_date"] > self.previous.isoformat())
        return QuarterExport(frames, pd.concat(truths, ignore_index=True),
                             int(started.sum()), reviews, int(terminated.sum()))


def _history_part(history: SimulatedHRIS, as_of: dt.date) -> dict[str, list[pd.DataFrame]]:
    """The history's hires and reviews as of `as_of` (its candidates and interviews are the
    history's own: nothing of theirs changes)."""
    seen = visible_at({**history.raw}, as_of)
    return {name: [seen[name]] if name in ("employees", "performance_reviews") else []
            for name in _TABLES}


def _truth(cohort: Cohort, funnel: Funnel) -> pd.DataFrame:
    a, world = cohort.applicants, cohort.world
    return truth_tables(world, cohort.candidate_ids, a.role_idx, a.app_day, a.gender,
                        a.shifted, a.drifted, a.abilities, a.eta, met_probability(world, a.eta),
                        a.window, funnel.status)["candidates"]


__all__ = ["CohortSpec", "Decision", "History", "QuarterExport", "QuarterRefused",
           "QuarterState", "ToDecide", "changed_rows", "cohort_employment", "cohort_tables",
           "decided_funnel", "draw_cohort", "history_cohort", "quarter_ends", "quarter_label",
           "visible_at"]
