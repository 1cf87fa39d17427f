"""Cohorts of applicants for simulated quarters, drawn by the simulator's own pieces.

Quarter q = 1, 2, ... after the history (the "before") brings a cohort applying inside it,
drawn from the history's world (same staff, questions, roles) by draw_applicants,
run_funnel, build_employment and applicant_tables, with the scenario acting from the first
simulated quarter on. Every draw of cohort q comes from streams seeded by (installation
seed, q): the same quarter is the same whatever the scenario, except for what the scenario
changes, and whatever is run before or after it. The history's candidates still in process
at its as-of are cohort 0 (the history's own draws replayed; the scenario does not reach
them). A cohort's rounds run to their end at once; the person's decisions
(hris.simulator.recruiter) then change who is hired, and a hire's employment is drawn per
quarter of decision, so a later decision never changes an earlier hire's future.
"""


from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from hris.calendar import quarter_of
from hris.contract import ROLE_FAMILIES
from hris.simulator import export as ex
from hris.simulator.employment import Employment, build_employment
from hris.simulator.generate import (
    HISTORY_END,
    HISTORY_START,
    Applicants,
    Naming,
    applicant_tables,
    draw_applicants,
    history_naming,
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
from hris.simulator.people import background, draw_gender, personal_data
from hris.simulator.recruiter import OFFER, REJECTED_EARLY, REJECTED_FINAL
from hris.simulator.world import NO_DAY, SCENARIOS, World, build_world

HORIZON_YEARS = 15            # a new hire's employment is drawn this far ahead
MAX_PER_QUARTER = 100_000     # applicants a quarter (keeps every id and national id unique)
# hris.ingest.simulated_source: `:end=` only where the history's end is not HISTORY_END
_SOURCE = re.compile(
    r"simulator:seed=(-?\d+):n=(\d+)(?::defects=[\d.e-]+)?(?::end=(\d{4}-\d{2}-\d{2}))?")


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
        """The history named by its first load's source (hris.ingest.simulated_source), so
        the quarters continue the world from where that history ended."""
        match = _SOURCE.fullmatch(source)
        if match is None:
            raise QuarterRefused(
                "the installation's history was not made by `hireloop build` or `hireloop "
                "generate` (its first load is not the simulator's), so there is no world to "
                "continue: start a sandbox with `hireloop build`")
        return cls(n=int(match.group(2)), seed=int(match.group(1)), as_of=as_of,
                   end=match.group(3) or HISTORY_END)

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
    return quarter_of(as_of - dt.timedelta(days=1))


@dataclass(frozen=True)
class CohortSpec:
    """One simulated quarter's applicants: its index (1 = the first after the history), the
    scenario and how many applied."""

    index: int
    scenario: str
    per_quarter: int


def day_number(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def day_date(day: int) -> dt.date:
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
    a = draw_applicants(world, n, day_number(start), day_number(end), rng)
    far = dataclasses.replace(world, as_of=dt.date(history.as_of.year + 2 * HORIZON_YEARS, 1, 1))
    whole = run_funnel(far, a.fam, a.app_day, a.female, a.abilities, rng[4])
    cut = funnel_as_of(whole, day_number(history.as_of))
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
    kept = int((whole.day <= day_number(history.as_of)).sum())  # a prefix: sorted by day
    naming = Naming(
        candidate_ids=base.candidate_ids, employee_ids=emp_ids, order=np.arange(1, n + 1),
        interview_ids=lambda m: np.concatenate([ex.ids("I", np.arange(1, kept + 1), 8),
                                                ex.ids("I", np.arange(1, m - kept + 1), 10)]),
        review_ids=lambda emp, starts: ex.obj([f"R{e[1:]}-{s}" for e, s in
                                               zip(emp, starts, strict=True)]))
    verdict, last = _verdicts(whole, n)
    verdict[whole.final_day <= day_number(history.as_of)] = None  # over inside the history
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
    a = draw_applicants(world, n, day_number(start) + 1, day_number(ends[-1]), rng)
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


def merge_employment(parts: Sequence[Employment]) -> Employment:
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
    return merge_employment(parts)


def cohort_tables(cohort: Cohort, funnel: Funnel, emp: Employment) -> dict[str, pd.DataFrame]:
    """The cohort's rows as the HR system will have held them at the end of time."""
    a = cohort.applicants
    rng = np.random.default_rng([cohort.seed, 3, cohort.spec.index, 9])
    return applicant_tables(cohort.world, cohort.naming, a.role_idx, a.app_day, a.gender,
                            cohort.people, cohort.bg, funnel, emp, rng)
