"""Time moves on: a sandbox's synthetic HRIS advanced one calendar quarter at a time.

The history (hris.simulator.generate.simulate, as loaded by `hireloop build`/`generate`) is
the "before". Each simulated quarter q = 1, 2, ... brings a cohort of new applicants
(applying inside the quarter), drawn by the simulator's own pieces (draw_applicants,
run_funnel, build_employment, applicant_tables) from the same world, with the scenario acting
from the first simulated quarter on. Every draw of cohort q comes from streams seeded by
(installation seed, q): the same quarter of the same installation is the same whatever the
scenario, except for what the scenario changes, and whatever is run before or after it.

A candidate's rounds run to their end at once (the funnel); when the last round falls in the
quarter being simulated, the interview tool scores the candidate (the caller posts
`requests` to the endpoint) and a person decides (hris.simulator.recruiter), from the band
and the old process together. Decisions already made come back from the decision log
(`QuarterState.past`), so re-drawing a cohort in a later quarter reproduces it. A hire's
employment is drawn once, at the quarter of the decision, and revealed as the clock passes
it; the history's hires keep being revealed too (`simulate(reveal_until=...)`), as far as
the history drew them (N quarters after their first, N from the history's span).

The history's candidates still in process at its as-of go on as cohort 0 (their remaining
rounds are the history's own draws, replayed; the scenario does not reach them): scored and
decided like the new ones when their last round falls in a simulated quarter.

What reaches hireloop each quarter is an export: the rows new or changed since the last
as-of (`QuarterExport.frames`), written as a simulated export folder by the caller.
Limits: p_observable is not computed for the new cohorts (the benchmarks compute it on
demand from the truth's abilities).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from hris.ats_requests import candidate_requests
from hris.contract import ROLE_FAMILIES
from hris.pseudonym import pseudonym
from hris.simulator import export as ex
from hris.simulator.employment import Employment, build_employment
from hris.simulator.generate import (
    Applicants,
    Naming,
    SimulatedHRIS,
    applicant_tables,
    draw_applicants,
    history_naming,
    simulate,
)
from hris.simulator.interviews import (
    DECLINE_DAYS,
    REJECT_DAYS,
    START_DAYS,
    STATUS,
    Funnel,
    funnel_as_of,
    run_funnel,
)
from hris.simulator.outcomes import met_probability
from hris.simulator.people import background, draw_gender, personal_data
from hris.simulator.recruiter import OFFER, REJECTED_EARLY, REJECTED_FINAL, decide
from hris.simulator.truth import truth_tables
from hris.simulator.world import NO_DAY, SCENARIOS, World, build_world

HISTORY_START, HISTORY_END = "2022-01-01", "2024-12-31"  # hris.ingest.ingest_simulated's
HORIZON_YEARS = 15            # a new hire's employment is drawn this far ahead
MAX_PER_QUARTER = 100_000     # applicants a quarter (keeps every id and national id unique)
_SOURCE = re.compile(r"simulator:seed=(-?\d+):n=(\d+)(?::defects=[\d.e-]+)?")
_TABLES = ("candidates", "employees", "interviews", "interview_scores", "interview_answers",
           "performance_reviews")


class QuarterRefused(Exception):
    """This installation cannot be advanced; the message says what to do."""


@dataclass(frozen=True)
class History:
    """How the installation's history was simulated (its first export's source)."""

    n: int
    seed: int
    as_of: dt.date
    start: str = HISTORY_START
    end: str = HISTORY_END

    @classmethod
    def from_source(cls, source: str, as_of: dt.date) -> History:
        match = _SOURCE.fullmatch(source)
        if match is None:
            raise QuarterRefused(
                "the installation's history was not made by `hireloop build` or `hireloop "
                "generate` (its first load is not the simulator's), so there is no world to "
                "continue: start a sandbox with `hireloop build`")
        return cls(n=int(match.group(2)), seed=int(match.group(1)), as_of=as_of)

    def quarterly_volume(self) -> int:
        """Applicants per quarter at the history's rate."""
        days = (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days + 1
        return max(1, round(self.n * 365.25 / 4 / days))


def quarter_ends(history_as_of: dt.date, count: int) -> list[dt.date]:
    """The as-of dates of simulated quarters 1..count: each the first day of the calendar
    quarter after the previous as-of (the history's as-of first)."""
    out, day = [], history_as_of
    for _ in range(count):
        month = (day.month - 1) // 3 * 3 + 4
        day = dt.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        out.append(day)
    return out


def quarter_label(as_of: dt.date) -> str:
    """"YYYY-Qn" of the quarter that ends the day before `as_of`."""
    last = as_of - dt.timedelta(days=1)
    return f"{last.year}-Q{(last.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class CohortSpec:
    """One simulated quarter's applicants: its index (1 = the first after the history), the
    scenario and how many applied."""

    index: int
    scenario: str
    per_quarter: int


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


@dataclass
class Cohort:
    """One quarter's applicants, drawn to the end of their rounds before anyone decides."""

    spec: CohortSpec
    world: World
    applicants: Applicants
    funnel: Funnel                 # the old process, run to its end (world.as_of is far away)
    naming: Naming
    people: dict[str, np.ndarray]
    bg: dict[str, np.ndarray]
    verdict: np.ndarray            # recruiter verdict, None for those who withdrew
    last_day: np.ndarray           # day of the last round held (NO_DAY: none)
    u_person: np.ndarray           # the person's uniform draw
    accept: np.ndarray             # would accept an offer the old process did not make
    days: dict[str, np.ndarray]    # draws of days after the last round (reject/decline/start)
    seed: int

    @property
    def candidate_ids(self) -> np.ndarray:
        return self.naming.candidate_ids


def _cohort_world(history: History, spec: CohortSpec, first_day: dt.date, last_day: dt.date
                  ) -> World:
    """The history's world (same staff, questions, roles), the scenario acting from the
    first simulated quarter on, the clock far ahead (every process drawn to its end)."""
    world = build_world(history.n, history.seed, dt.date.fromisoformat(history.start),
                        dt.date.fromisoformat(history.end), history.as_of, spec.scenario)
    horizon = dt.date(last_day.year + HORIZON_YEARS, 1, 1)
    return dataclasses.replace(world, as_of=horizon, change_date=first_day)


def _person_draws(seed: int, index: int, n: int, world: World) -> dict[str, Any]:
    """The simulated person's draws and the days after a decision, per candidate."""
    rng = [np.random.default_rng([seed, 3, index, k]) for k in (7, 8)]
    days = {"reject": rng[0].integers(*REJECT_DAYS, n),
            "decline": rng[0].integers(*DECLINE_DAYS, n),
            "start": rng[0].integers(*START_DAYS, n)}
    return {"u_person": rng[1].random(n), "accept": rng[1].random(n) >= world.offer_decline,
            "days": days}


def _verdicts(funnel: Funnel, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(the old process's verdict, the day of the last round held) per candidate."""
    rounds = np.bincount(funnel.cand, minlength=n)
    last = np.full(n, NO_DAY)
    np.maximum.at(last, funnel.cand, funnel.day)
    status = np.asarray(STATUS, dtype=object)[funnel.status]
    verdict = np.full(n, None, dtype=object)
    verdict[(rounds == 3) & np.isin(status, ["hired", "withdrawn"])] = OFFER
    verdict[(rounds == 3) & (status == "rejected")] = REJECTED_FINAL
    verdict[(rounds < 3) & (status == "rejected")] = REJECTED_EARLY
    return verdict, last


def history_cohort(history: History) -> Cohort:
    """The history's candidates as cohort 0: those still in process at its as-of go on
    (their remaining rounds are the history's own draws); the others never change.

    The history's draws are replayed (simulate's streams): its whole funnel, and the
    personal data its export drew. Ids the history gave keep theirs; interviews after its
    as-of and the employees it hires later get ids of cohort 0's own (longer) form."""
    start, end = (dt.date.fromisoformat(x) for x in (history.start, history.end))
    world = build_world(history.n, history.seed, start, end, history.as_of, "stable")
    rng = [np.random.default_rng([history.seed, 2, k]) for k in range(8)]
    n = history.n
    a = draw_applicants(world, n, _day(start), _day(end), rng)
    far = dataclasses.replace(world, as_of=dt.date(history.as_of.year + 2 * HORIZON_YEARS, 1, 1))
    whole = run_funnel(far, a.fam, a.app_day, a.female, a.abilities, rng[4])
    cut = funnel_as_of(whole, _day(history.as_of))
    n_staff = len(world.staff)
    staff_gender = draw_gender(n_staff, world.female_share, rng[6])
    people = personal_data(np.concatenate([a.gender, staff_gender]), 1, rng[6])
    people = {k: v[:n] for k, v in people.items()}
    fam_of_role = np.array([ROLE_FAMILIES.index(r.family) for r in world.roles])
    bg = background(n, fam_of_role[a.role_idx], a.app_day, rng[6])
    base = history_naming(n, n_staff, cut, SimpleNamespace(
        hire=np.flatnonzero(cut.hire_day != NO_DAY)))
    emp_ids = np.where(base.employee_ids != None, base.employee_ids,  # noqa: E711
                       ex.ids("E", np.arange(1, n + 1), 9))
    kept = int((whole.day <= _day(history.as_of)).sum())  # a prefix: sorted by day
    naming = Naming(
        candidate_ids=base.candidate_ids, employee_ids=emp_ids, order=np.arange(1, n + 1),
        interview_ids=lambda m: np.concatenate([ex.ids("I", np.arange(1, kept + 1), 8),
                                                ex.ids("I", np.arange(1, m - kept + 1), 10)]),
        review_ids=lambda emp, starts: ex.obj([f"R{e[1:]}-{s}" for e, s in
                                               zip(emp, starts, strict=True)]))
    verdict, last = _verdicts(whole, n)
    verdict[whole.final_day <= _day(history.as_of)] = None  # over inside the history
    return Cohort(CohortSpec(0, "stable", n), far, a, whole, naming, people, bg, verdict, last,
                  seed=history.seed, **_person_draws(history.seed, 0, n, world))


def draw_cohort(history: History, spec: CohortSpec) -> Cohort:
    """The applicants of quarter `spec.index`, deterministic in (seed, index, scenario, n)."""
    if spec.scenario not in SCENARIOS:
        raise QuarterRefused(f"unknown scenario; expected one of {', '.join(SCENARIOS)}")
    if not 1 <= spec.per_quarter <= MAX_PER_QUARTER:
        raise QuarterRefused(f"applicants per quarter must be 1 to {MAX_PER_QUARTER}")
    ends = quarter_ends(history.as_of, spec.index)
    start = ends[-2] if spec.index > 1 else history.as_of
    first_sim_day = history.as_of + dt.timedelta(days=1)
    world = _cohort_world(history, spec, first_sim_day, ends[-1])
    rng = [np.random.default_rng([history.seed, 3, spec.index, k]) for k in range(10)]
    n = spec.per_quarter
    a = draw_applicants(world, n, _day(start) + 1, _day(ends[-1]), rng)
    funnel = run_funnel(world, a.fam, a.app_day, a.female, a.abilities, rng[4])
    base = spec.index * 10**6
    numbers = base + np.arange(1, n + 1)
    emp_ids = ex.ids("E", numbers, 9)
    naming = Naming(
        candidate_ids=ex.ids("C", numbers, 9), employee_ids=emp_ids, order=numbers,
        interview_ids=lambda m: ex.ids("I", spec.index * 10**7 + np.arange(1, m + 1), 10),
        review_ids=lambda emp, starts: ex.obj([f"R{e[1:]}-{s}" for e, s in
                                               zip(emp, starts, strict=True)]))
    people = personal_data(a.gender, 10**7 + spec.index * MAX_PER_QUARTER + 1, rng[6])
    fam_of_role = np.array([ROLE_FAMILIES.index(r.family) for r in world.roles])
    bg = background(n, fam_of_role[a.role_idx], a.app_day, rng[6])
    verdict, last = _verdicts(funnel, n)
    return Cohort(spec, world, a, funnel, naming, people, bg, verdict, last, seed=history.seed,
                  **_person_draws(history.seed, spec.index, n, world))


def decided_funnel(cohort: Cohort, decisions: Mapping[int, str]) -> Funnel:
    """The cohort's funnel once the person's decisions (candidate index -> offer/reject) are
    in: an offer withdrawn ends in a rejection, an offer the old process did not make in a
    hire (or a decline); candidates not decided yet keep the old process's fate."""
    f = cohort.funnel
    status, final, hire = f.status.copy(), f.final_day.copy(), f.hire_day.copy()
    for i, decision in decisions.items():
        verdict = cohort.verdict[i]
        if decision == "reject" and verdict == OFFER:
            status[i], hire[i] = STATUS.index("rejected"), NO_DAY
            final[i] = cohort.last_day[i] + cohort.days["reject"][i]
        elif decision == "offer" and verdict != OFFER:
            if cohort.accept[i]:
                status[i] = STATUS.index("hired")
                final[i] = hire[i] = cohort.last_day[i] + cohort.days["start"][i]
            else:
                status[i], hire[i] = STATUS.index("withdrawn"), NO_DAY
                final[i] = cohort.last_day[i] + cohort.days["decline"][i]
    return dataclasses.replace(f, status=status, final_day=final, hire_day=hire)


def _merge(parts: Sequence[Employment]) -> Employment:
    if not parts:
        empty = np.empty(0, np.int64)
        return Employment(empty, empty, np.empty(0, dtype=object), empty, empty, empty, empty,
                          np.empty(0), np.empty(0), empty)
    offsets = np.cumsum([0] + [len(p.hire) for p in parts[:-1]])
    cat = np.concatenate
    return Employment(
        hire=cat([p.hire for p in parts]),
        termination_day=cat([p.termination_day for p in parts]),
        termination_reason=cat([p.termination_reason for p in parts]),
        r_hire=cat([p.r_hire + o for p, o in zip(parts, offsets, strict=True)]),
        **{k: cat([getattr(p, k) for p in parts]) for k in (
            "r_start", "r_end", "r_submitted", "r_y", "r_okr", "r_rating")})


def cohort_employment(cohort: Cohort, funnel: Funnel, decision_quarter: Mapping[int, int]
                      ) -> Employment:
    """Employment of the cohort's hires, drawn per quarter of decision (stream (seed, cohort,
    100 + quarter)), so later decisions never change an earlier hire's future."""
    parts = []
    hired = funnel.hire_day != NO_DAY
    for q in sorted(set(decision_quarter.values())):
        batch = np.zeros(len(hired), bool)
        batch[[i for i, d in decision_quarter.items() if d == q]] = True
        hire_day = np.where(batch & hired, funnel.hire_day, NO_DAY)
        if (hire_day != NO_DAY).any():
            rng = np.random.default_rng([cohort.seed, 3, cohort.spec.index, 100 + q])
            a = cohort.applicants
            parts.append(build_employment(cohort.world, hire_day, a.eta, a.window, rng))
    return _merge(parts)


def cohort_tables(cohort: Cohort, funnel: Funnel, emp: Employment) -> dict[str, pd.DataFrame]:
    """The cohort's rows as the HR system will have held them at the end of time."""
    a = cohort.applicants
    rng = np.random.default_rng([cohort.seed, 3, cohort.spec.index, 9])
    return applicant_tables(cohort.world, cohort.naming, a.role_idx, a.app_day, a.gender,
                            cohort.people, cohort.bg, funnel, emp, rng)


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
        open_ = cands["candidate_id"].map(final_day).to_numpy() > _day(as_of)
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
        lo, hi = _day(self.previous), _day(self.as_of)
        for cohort in self.cohorts:
            due = np.flatnonzero((cohort.last_day > lo) & (cohort.last_day <= hi)
                                 & (cohort.verdict != None))  # noqa: E711 (object array)
            fam = cohort.applicants.fam
            for i in due:
                out.append(ToDecide(cohort.spec.index, int(i), str(cohort.candidate_ids[i]),
                                    ROLE_FAMILIES[fam[i]], str(cohort.verdict[i]),
                                    _date(cohort.last_day[i])))
        return out

    def requests(self, due: Sequence[ToDecide]) -> list[dict[str, Any]]:
        """What the interview tool sends for each candidate (records shape, HR ids), with a
        request id that names the quarter, never the candidate."""
        out = []
        for cohort in self.cohorts:
            mine = [d for d in due if d.cohort == cohort.spec.index]
            if not mine:
                continue
            tables = cohort_tables(cohort, cohort.funnel, _merge([]))
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
            late = (cohort.funnel.hire_day > _day(self.history.as_of)) & (
                cohort.last_day <= _day(self.history.as_of))
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
            truth = _truth(cohort, funnel_as_of(funnel, _day(self.as_of)))
            if cohort.spec.index == 0:  # the history's candidates who went on
                truth = truth[cohort.funnel.final_day > _day(self.history.as_of)]
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
