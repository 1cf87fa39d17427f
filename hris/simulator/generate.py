"""simulate(): draw one synthetic HRIS, its raw export and its truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from hris.contract import DIMENSIONS, RECOMMENDATIONS, ROLE_FAMILIES, ROUNDS
from hris.simulator import export as ex
from hris.simulator.abilities import draw_abilities
from hris.simulator.employment import Employment, build_employment
from hris.simulator.interviews import STATUS, Funnel, run_funnel
from hris.simulator.outcomes import (
    LabelDraws,
    draw_label_window,
    kpi_values,
    met_probability,
    performance_index,
)
from hris.simulator.people import EDUCATION, GENDERS, RACES, background, draw_gender, personal_data
from hris.simulator.truth import truth_tables
from hris.simulator.world import FAMILY_SHARE, NO_DAY, World, build_world

_ANSWER_TEXT = {
    True: ("Gave a structured answer: situation, concrete actions, a measurable result.",
           "Covered root cause, steps taken and how success was measured."),
    False: ("Partial answer: described the situation but not the actions or the result.",
            "Answer stayed general; no concrete example or measure given."),
}


@dataclass
class SimulatedHRIS:
    """One simulated HR system: the raw export, the truth, and the world that produced both."""

    raw: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    as_of: dt.date
    seed: int
    world: World = field(repr=False)
    scenario: str = "stable"


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


@dataclass
class Applicants:
    """Applicants drawn from one world: who applied when for which role, and their latent
    abilities and outcomes (the label window drawn as if hired, for every applicant)."""

    app_day: np.ndarray
    fam: np.ndarray
    role_idx: np.ndarray
    gender: np.ndarray
    shifted: np.ndarray
    drifted: np.ndarray
    abilities: np.ndarray
    eta: np.ndarray
    window: LabelDraws

    @property
    def female(self) -> np.ndarray:
        return self.gender == 0


def draw_applicants(world: World, n: int, first_day: int, last_day: int,
                    rng: list[np.random.Generator]) -> Applicants:
    """`n` applications on days first_day..last_day (streams rng[0..3]); the scenario acts on
    applications from `world.change_date` on."""
    app_day = np.sort(rng[0].integers(first_day, last_day + 1, n))
    fam_of_role = np.array([ROLE_FAMILIES.index(r.family) for r in world.roles])
    fam = rng[0].choice(len(ROLE_FAMILIES), n, p=[FAMILY_SHARE[f] for f in ROLE_FAMILIES])
    roles_of = [np.flatnonzero(fam_of_role == k) for k in range(len(ROLE_FAMILIES))]
    pick = rng[0].random(n)
    role_idx = np.empty(n, np.int64)
    for k, roles in enumerate(roles_of):
        sel = fam == k
        role_idx[sel] = roles[(pick[sel] * len(roles)).astype(np.int64)]
    after = app_day >= _day(world.change_date)
    shifted = after & (world.scenario == "covariate_shift")
    drifted = after & (world.scenario == "concept_drift")
    gender = draw_gender(n, world.female_share, rng[1])
    abilities = draw_abilities(world, n, shifted, rng[2])
    eta = performance_index(world, abilities, role_idx, drifted)
    window = draw_label_window(world, eta, rng[3])
    return Applicants(app_day, fam, role_idx, gender, shifted, drifted, abilities, eta, window)


# The history's span unless told otherwise (hireloop build/generate load this one).
HISTORY_START, HISTORY_END = "2022-01-01", "2024-12-31"


def simulate(n_candidates: int = 20_000, seed: int = 7, start: str = HISTORY_START,
             end: str = HISTORY_END, as_of: str = "2025-01-01", scenario: str = "stable",
             progress: bool = False, reveal_until: str | None = None) -> SimulatedHRIS:
    """Simulate `n_candidates` applications between start and end, exported at as_of.

    Deterministic in all arguments except `progress`. Scenarios other than "stable" change
    the world for applications (rater_drift: interviews) from `world.change_date` on.
    `reveal_until` (a later date) adds the hires' terminations and reviews that the same
    draws put between as_of and it, and changes nothing else: the history's future.
    """
    start_d, end_d, as_of_d = (dt.date.fromisoformat(x) for x in (start, end, as_of))
    if not start_d <= end_d:
        raise ValueError("start must not be after end")
    world = build_world(n_candidates, seed, start_d, end_d, as_of_d, scenario)
    rng = [np.random.default_rng([seed, 2, k]) for k in range(8)]
    bar = tqdm(total=5, desc="simulate", disable=not progress)
    n = n_candidates
    a = draw_applicants(world, n, _day(start_d), _day(end_d), rng)
    bar.update()

    funnel = run_funnel(world, a.fam, a.app_day, a.female, a.abilities, rng[4])
    bar.update()
    until = dt.date.fromisoformat(reveal_until) if reveal_until else None
    employment = build_employment(world, funnel.hire_day, a.eta, a.window, rng[5], until=until)
    bar.update()

    raw = _export(world, n, a.role_idx, a.app_day, a.gender, funnel, employment, rng[6])
    bar.update()
    truth = truth_tables(world, raw["candidates"]["candidate_id"].to_numpy(), a.role_idx,
                         a.app_day, a.gender, a.shifted, a.drifted, a.abilities, a.eta,
                         met_probability(world, a.eta), a.window, funnel.status)
    bar.update()
    bar.close()
    return SimulatedHRIS(raw=raw, truth=truth, as_of=as_of_d, seed=seed, world=world,
                         scenario=scenario)


@dataclass(frozen=True)
class Naming:
    """The source ids of one export's applicant-side rows (history and each simulated quarter
    number them apart, so no id is ever reused)."""

    candidate_ids: np.ndarray           # (n,) object
    employee_ids: np.ndarray            # (n,) object, None where not hired
    order: np.ndarray                   # (n,) sort key of each hire's reviews
    interview_ids: Callable[[int], np.ndarray]
    review_ids: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (employee ids, period starts)


def history_naming(n: int, n_staff: int, funnel: Funnel, emp: Employment) -> Naming:
    """C0000001.., hires numbered after the staff by hire date, I00000001.., R00000001.."""
    hire_order = emp.hire[np.argsort(funnel.hire_day[emp.hire], kind="stable")]
    emp_num = np.full(n, -1)
    emp_num[hire_order] = np.arange(n_staff + 1, n_staff + 1 + len(hire_order))
    emp_id_of_cand = np.full(n, None, dtype=object)
    emp_id_of_cand[hire_order] = ex.ids("E", emp_num[hire_order], 7)
    return Naming(ex.ids("C", np.arange(1, n + 1), 7), emp_id_of_cand, emp_num,
                  lambda m: ex.ids("I", np.arange(1, m + 1), 8),
                  lambda emp_ids, starts: ex.ids("R", np.arange(1, len(emp_ids) + 1), 8))


def role_tables(world: World) -> dict[str, pd.DataFrame]:
    """job_roles and interview_questions: the world's, the same in every export."""
    roles = world.roles
    return {"job_roles": ex.frame("job_roles", {
        "role_id": ex.obj([r.role_id for r in roles]),
        "role_family": ex.obj([r.family for r in roles]),
        "title": ex.obj([r.title for r in roles]),
        "level": ex.obj([str(r.level) for r in roles]),
        "kpi_name": ex.obj([r.kpi_name for r in roles]),
        "kpi_target": ex.obj([f"{r.kpi_target:g}" for r in roles]),
        "kpi_higher_is_better": ex.obj(["true" if r.higher_is_better else "false"
                                        for r in roles]),
    }), "interview_questions": ex.frame("interview_questions", {
        "question_id": ex.obj([q.question_id for q in world.questions]),
        "role_family": ex.obj([q.family for q in world.questions]),
        "scenario_type": ex.obj([q.scenario_type for q in world.questions]),
        "dimension": ex.obj([q.dimension for q in world.questions]),
        "prompt_text": ex.obj([q.prompt_text for q in world.questions]),
        "is_key_question": ex.obj(["true" if q.is_key else "false" for q in world.questions]),
    })}


def _export(world: World, n: int, role_idx: np.ndarray, app_day: np.ndarray, gender: np.ndarray,
            funnel: Funnel, emp: Employment, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    staff = world.staff
    n_staff = len(staff)
    fixed = role_tables(world)
    # people: candidates first, then staff, one stream so ids stay unique
    staff_gender = draw_gender(n_staff, world.female_share, rng)
    people = personal_data(np.concatenate([gender, staff_gender]), 1, rng)
    bg = background(n, _family_of(world)[role_idx], app_day, rng)
    staff_ids = staff.employee_id.to_numpy(dtype=object)
    staff_hire = rng.integers(_day(dt.date(2010, 1, 1)), _day(world.start) - 30, n_staff)
    staff_birth = staff_hire - (rng.uniform(28, 55, n_staff) * 365.25).astype(np.int64)
    none = np.full(n_staff, None, dtype=object)
    staff_rows = ex.frame("employees", {
        "employee_id": staff_ids, **{k: people[k][n:] for k in _PERSONAL},
        "gender": ex.obj(GENDERS)[staff_gender], "birth_date": ex.day_str(staff_birth),
        "hire_date": ex.day_str(staff_hire), "role_id": none,
        "department": staff.department.to_numpy(dtype=object),
        "manager_id": staff.manager_id.to_numpy(dtype=object),
        "termination_date": none, "termination_reason": none,
    })
    naming = history_naming(n, n_staff, funnel, emp)
    tables = applicant_tables(world, naming, role_idx, app_day, gender,
                              {k: people[k][:n] for k in _PERSONAL}, bg, funnel, emp, rng)
    tables["employees"] = pd.concat([staff_rows, tables["employees"]], ignore_index=True)
    return {"job_roles": fixed["job_roles"], **{k: tables[k] for k in (
        "candidates", "employees", "interviews", "interview_scores", "interview_answers")},
        "interview_questions": fixed["interview_questions"],
        "performance_reviews": tables["performance_reviews"]}


_PERSONAL = ("full_name", "national_id", "email", "phone")


def _family_of(world: World) -> np.ndarray:
    return np.array([ROLE_FAMILIES.index(r.family) for r in world.roles])


def applicant_tables(world: World, naming: Naming, role_idx: np.ndarray, app_day: np.ndarray,
                     gender: np.ndarray, people: dict[str, np.ndarray], bg: dict[str, np.ndarray],
                     funnel: Funnel, emp: Employment, rng: np.random.Generator
                     ) -> dict[str, pd.DataFrame]:
    """The applicant side of an export: candidates, the hires' employee rows, interviews,
    their scores and answers (answer texts drawn from `rng`), performance reviews."""
    roles = world.roles
    role_ids = ex.obj([r.role_id for r in roles])
    staff_ids = world.staff.employee_id.to_numpy(dtype=object)
    gender_str = ex.obj(GENDERS)
    cand_ids, emp_id_of_cand, emp_num = naming.candidate_ids, naming.employee_ids, naming.order
    raw: dict[str, pd.DataFrame] = {}
    raw["candidates"] = ex.frame("candidates", {
        "candidate_id": cand_ids, **{k: people[k] for k in _PERSONAL},
        "gender": gender_str[gender], "birth_date": ex.day_str(bg["birth_day"]),
        "race_ethnicity": np.where(bg["race"] >= 0, ex.obj(RACES)[bg["race"]], None),
        "education": ex.obj(EDUCATION)[bg["education"]],
        "years_experience": ex.int_str(bg["years"]),
        "applied_role_id": role_ids[role_idx], "application_date": ex.day_str(app_day),
        "status": ex.obj(STATUS)[funnel.status],
        "employee_id": np.where(funnel.hire_day != NO_DAY, emp_id_of_cand, None),
    })

    # employees: hires by hire date
    pos = np.empty(len(cand_ids), np.int64)
    pos[emp.hire] = np.arange(len(emp.hire))
    h = emp.hire[np.argsort(funnel.hire_day[emp.hire], kind="stable")]
    h = h[funnel.hire_day[h] != NO_DAY]
    hire_dept = ex.obj(["Sales", "Customer Service", "R&D", "Manufacturing"])
    raw["employees"] = ex.frame("employees", {
        "employee_id": emp_id_of_cand[h], **{k: people[k][h] for k in _PERSONAL},
        "gender": gender_str[gender[h]], "birth_date": ex.day_str(bg["birth_day"][h]),
        "hire_date": ex.day_str(funnel.hire_day[h]), "role_id": role_ids[role_idx[h]],
        "department": hire_dept[_family_of(world)[role_idx[h]]],
        "manager_id": staff_ids[funnel.manager[h]],
        "termination_date": ex.day_str(emp.termination_day[pos[h]]),
        "termination_reason": emp.termination_reason[pos[h]],
    })

    # interviews, scores, answers
    m = len(funnel.cand)
    iv_ids = naming.interview_ids(m)
    raw["interviews"] = ex.frame("interviews", {
        "interview_id": iv_ids, "candidate_id": cand_ids[funnel.cand],
        "round": ex.obj(ROUNDS)[funnel.round], "interviewer_id": staff_ids[funnel.interviewer],
        "interview_date": ex.day_str(funnel.day), "duration_minutes": ex.int_str(funnel.duration),
        "overall_rating": ex.int_str(funnel.rating),
        "recommendation": ex.obj(RECOMMENDATIONS)[funnel.recommendation],
    })
    dim_names = ex.obj(DIMENSIONS)
    k = funnel.dims.shape[1]
    ai_rows = np.flatnonzero(funnel.ai)
    cat = np.concatenate
    score_iv = cat([np.repeat(np.arange(m), k), np.repeat(ai_rows, k)])
    order = np.argsort(score_iv, kind="stable")
    human_str = ex.int_str(np.arange(11))[funnel.human.ravel()]
    raw["interview_scores"] = ex.frame("interview_scores", {
        "interview_id": iv_ids[score_iv[order]],
        "dimension": cat([dim_names[funnel.dims.ravel()],
                          dim_names[funnel.dims[ai_rows].ravel()]])[order],
        "score": cat([human_str, ex.lattice_str(funnel.ai_scores[ai_rows].ravel(), 1)])[order],
        "scored_by": cat([np.full(m * k, "interviewer", dtype=object),
                          np.full(len(ai_rows) * k, "ai", dtype=object)])[order],
    })
    asked = funnel.question >= 0
    a_iv, a_slot = np.nonzero(asked)
    full = funnel.full[a_iv, a_slot]
    q_ids = ex.obj([q.question_id for q in world.questions])
    texts = ex.obj(list(_ANSWER_TEXT[False]) + list(_ANSWER_TEXT[True]))
    raw["interview_answers"] = ex.frame("interview_answers", {
        "interview_id": iv_ids[a_iv], "question_id": q_ids[funnel.question[a_iv, a_slot]],
        "answer_text": texts[2 * full + rng.integers(0, 2, len(full))],
        "answered_fully": ex.TRUE_FALSE[full.astype(int)],
        "response_seconds": ex.int_str(funnel.seconds[a_iv, a_slot]),
    })

    # performance reviews, ordered by submission
    r_cand = emp.hire[emp.r_hire]
    order = np.lexsort((emp.r_start, emp_num[r_cand], emp.r_submitted))
    r_cand = r_cand[order]
    r_role = role_idx[r_cand]
    value = kpi_values(world, r_role, emp.r_y[order])
    decimals = np.array([r.kpi_decimals for r in roles])[r_role]
    starts = ex.day_str(emp.r_start[order])
    raw["performance_reviews"] = ex.frame("performance_reviews", {
        "review_id": naming.review_ids(emp_id_of_cand[r_cand], starts),
        "employee_id": emp_id_of_cand[r_cand],
        "period_start": starts,
        "period_end": ex.day_str(emp.r_end[order]),
        "kpi_name": ex.obj([r.kpi_name for r in roles])[r_role],
        "kpi_value": ex.float_str(value, decimals),
        "kpi_target": ex.obj([f"{r.kpi_target:g}" for r in roles])[r_role],
        "okr_score": ex.lattice_str(emp.r_okr[order], 2),
        "rating": ex.int_str(emp.r_rating[order]),
        "reviewer_id": staff_ids[funnel.manager[r_cand]],
        "submitted_at": ex.day_str(emp.r_submitted[order]),
    })
    return raw


__all__ = ["Applicants", "Naming", "SimulatedHRIS", "applicant_tables", "draw_applicants",
           "role_tables", "simulate"]
