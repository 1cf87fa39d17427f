"""The simulated world: roles, question bank, interviewer pool and every planted parameter.

Everything the generative model needs lives in one `World`, so that the ceilings
(`p_true`, `p_observable`) are computed from exactly the parameters that generated the data,
and benchmarks can read the planted effect sizes back (`World.planted()`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hris.contract import DIMENSIONS, ROLE_FAMILIES

SCENARIOS = ("stable", "covariate_shift", "concept_drift", "rater_drift")
NO_DAY = -(10**9)  # "no date" in day-number arrays (days since 1970-01-01)
DIM_INDEX = {d: i for i, d in enumerate(DIMENSIONS)}
N_DIM = len(DIMENSIONS)

# Dimensions each role family's interviews assess (the rest are never scored for it).
ASSESSED: dict[str, tuple[str, ...]] = {
    "sales": ("communication", "persuasion", "resilience", "teamwork", "problem_solving",
              "data_awareness"),
    "customer_service": ("communication", "empathy", "problem_solving", "resilience",
                         "teamwork", "learning_agility"),
    "rnd": ("technical_depth", "logic", "problem_solving", "innovation", "learning_agility",
            "communication"),
    "manufacturing": ("problem_solving", "technical_depth", "data_awareness", "teamwork",
                      "resilience", "communication"),
}

# Performance drivers (ability units -> latent quarterly performance), per regime.
DRIVERS: dict[str, dict[str, float]] = {
    "sales": {"communication": 0.48, "persuasion": 0.48, "resilience": 0.15},
    "customer_service": {"empathy": 0.42, "problem_solving": 0.38, "resilience": 0.12},
    "rnd": {"technical_depth": 0.50, "learning_agility": 0.15, "innovation": 0.10},
    "manufacturing": {"problem_solving": 0.45, "data_awareness": 0.18, "technical_depth": 0.12},
}
# concept_drift: the KPI's drivers after the change date.
DRIFTED_DRIVERS: dict[str, dict[str, float]] = {
    "sales": {"data_awareness": 0.45, "communication": 0.25, "resilience": 0.2},
    "customer_service": {"learning_agility": 0.4, "communication": 0.3, "empathy": 0.15},
    "rnd": {"innovation": 0.4, "learning_agility": 0.35, "technical_depth": 0.2},
    "manufacturing": {"teamwork": 0.4, "technical_depth": 0.3, "problem_solving": 0.15},
}

# How interviewers weigh dimensions into their overall impression (rnd over-weights logic).
IMPRESSION_WEIGHTS: dict[str, dict[str, float]] = {
    "sales": {"communication": 1.5, "persuasion": 1.2},
    "customer_service": {"communication": 1.5, "empathy": 1.5},
    "rnd": {"logic": 4.0, "technical_depth": 0.7, "problem_solving": 1.0},
    "manufacturing": {"technical_depth": 1.5},
}

LENIENCY_SD = 0.35  # persistent interviewer leniency, ability units
FAMILY_SHARE = {"sales": 0.3, "customer_service": 0.3, "rnd": 0.2, "manufacturing": 0.2}
DEPARTMENT = {"sales": "Sales", "customer_service": "Customer Service", "rnd": "R&D",
              "manufacturing": "Manufacturing"}


@dataclass(frozen=True)
class Role:
    role_id: str
    family: str
    title: str
    level: int
    kpi_name: str
    kpi_target: float
    higher_is_better: bool
    intercept: float      # latent performance intercept: harder roles are lower
    kpi_scale: float      # how strongly latent performance moves the KPI value
    kpi_decimals: int


ROLES: tuple[Role, ...] = (
    Role("SAL-SDR", "sales", "Sales Development Representative", 1, "monthly_sales",
         100000.0, True, -0.05, 0.30, 2),
    Role("SAL-AE", "sales", "Account Executive", 2, "monthly_sales", 100000.0, True,
         -0.20, 0.30, 2),
    Role("SAL-SAE", "sales", "Senior Account Executive", 3, "monthly_sales", 100000.0, True,
         -0.35, 0.30, 2),
    Role("CS-AGT", "customer_service", "Customer Service Agent", 1,
         "complaints_resolved_24h_share", 0.80, True, -0.05, 0.55, 3),
    Role("CS-SPC", "customer_service", "Customer Service Specialist", 2,
         "complaints_resolved_24h_share", 0.80, True, -0.20, 0.55, 3),
    Role("CS-TL", "customer_service", "Customer Service Team Lead", 3,
         "complaints_resolved_24h_share", 0.80, True, -0.30, 0.55, 3),
    Role("RND-SWE", "rnd", "Software Engineer", 2, "on_time_delivery_share", 0.85, True,
         -0.10, 0.60, 3),
    Role("RND-SSE", "rnd", "Senior Software Engineer", 3, "on_time_delivery_share", 0.85,
         True, -0.30, 0.60, 3),
    Role("RND-RS", "rnd", "Research Scientist", 3, "on_time_delivery_share", 0.80, True,
         -0.25, 0.60, 3),
    Role("MFG-TEC", "manufacturing", "Production Technician", 1, "yield_rate", 0.95, True,
         -0.05, 0.60, 4),
    Role("MFG-PE", "manufacturing", "Process Engineer", 2, "scrap_rate", 0.03, False,
         -0.20, 0.35, 4),
    Role("MFG-QI", "manufacturing", "Quality Inspector", 1, "first_pass_yield", 0.92, True,
         -0.10, 0.60, 4),
)


@dataclass(frozen=True)
class Question:
    question_id: str
    family: str
    scenario_type: str
    dimension: str
    prompt_text: str
    is_key: bool
    difficulty: float     # probit intercept of answering fully
    slope: float          # probit slope on the ability it measures
    base_seconds: float   # typical response time


_QUESTION_SPECS: dict[str, list[tuple[str, str, str, bool]]] = {
    "sales": [
        ("kpi_scenario", "persuasion", "A key account cut its order by 40% this quarter. "
         "Walk us through how you would recover the monthly sales target.", True),
        ("kpi_scenario", "data_awareness", "Your pipeline covers 70% of next month's target. "
         "Which numbers do you look at first and why?", False),
        ("kpi_scenario", "problem_solving", "A competitor undercuts your price by 15%. "
         "How do you protect the deal?", False),
        ("okr_open", "resilience", "Describe an objective you missed and what you changed "
         "the following quarter.", False),
        ("okr_open", "teamwork", "Propose one team OKR for the next quarter and how you "
         "would measure it.", False),
        ("behavioral", "communication", "Tell us about a time you had to explain a complex "
         "offer to a sceptical buyer.", False),
        ("behavioral", "persuasion", "Describe a deal you won that others had given up on.",
         False),
        ("behavioral", "resilience", "Tell us about a month with many rejections. What kept "
         "you going?", False),
    ],
    "customer_service": [
        ("kpi_scenario", "problem_solving", "Complaint backlog doubled overnight after a "
         "release. How do you get back to resolving 80% within 24 hours?", True),
        ("kpi_scenario", "empathy", "An angry customer has called three times about the "
         "same issue. How do you handle the fourth call?", False),
        ("kpi_scenario", "learning_agility", "A new product line launches next week and you "
         "have not been trained on it. What do you do?", False),
        ("okr_open", "teamwork", "Propose an OKR that would reduce repeat complaints.",
         False),
        ("okr_open", "resilience", "Describe a quarter when your resolution rate dropped and "
         "how you recovered.", False),
        ("behavioral", "empathy", "Tell us about a customer whose problem you could not "
         "solve. How did you leave the conversation?", False),
        ("behavioral", "communication", "Describe how you explained a policy the customer "
         "disagreed with.", False),
        ("behavioral", "teamwork", "Tell us about a time you covered for a colleague during "
         "a peak.", False),
    ],
    "rnd": [
        ("kpi_scenario", "technical_depth", "A release is two weeks late because of a "
         "performance regression. How do you find and fix it in time?", True),
        ("kpi_scenario", "problem_solving", "Three teams depend on a component that keeps "
         "failing integration tests. What is your plan?", False),
        ("kpi_scenario", "logic", "Estimate the capacity needed to deliver the roadmap "
         "on time and state your assumptions.", False),
        ("okr_open", "innovation", "Propose an objective that would shorten our delivery "
         "cycle and how you would measure it.", False),
        ("okr_open", "learning_agility", "Which technology would you learn next quarter and "
         "what key result would show it paid off?", False),
        ("behavioral", "communication", "Tell us about a design disagreement and how it was "
         "resolved.", False),
        ("behavioral", "technical_depth", "Describe the hardest bug you have fixed.", False),
        ("behavioral", "logic", "Walk us through a puzzle or proof you enjoyed solving.",
         False),
    ],
    "manufacturing": [
        ("kpi_scenario", "problem_solving", "Production anomaly: line 3 yield dropped from "
         "96% to 89% overnight with no change logged. What do you do in the first hour?",
         True),
        ("kpi_scenario", "data_awareness", "Scrap rate creeps up 0.2 points a week. Which "
         "data would you pull and how?", False),
        ("kpi_scenario", "technical_depth", "A machine's tolerance drifts at high "
         "temperature. How would you diagnose it?", False),
        ("okr_open", "teamwork", "Propose a shift-level OKR for first-pass yield.", False),
        ("okr_open", "resilience", "Describe a target you missed on the line and what you "
         "changed.", False),
        ("behavioral", "teamwork", "Tell us about a handover between shifts that went wrong.",
         False),
        ("behavioral", "communication", "Describe how you reported a safety issue to a "
         "supervisor.", False),
        ("behavioral", "technical_depth", "Tell us about equipment you know inside out.",
         False),
    ],
}


def build_questions(rng: np.random.Generator) -> tuple[Question, ...]:
    """The question bank; difficulty and discrimination are drawn once per world."""
    questions = []
    for family in ROLE_FAMILIES:
        prefix = {"sales": "SAL", "customer_service": "CS", "rnd": "RND",
                  "manufacturing": "MFG"}[family]
        for i, (stype, dim, prompt, key) in enumerate(_QUESTION_SPECS[family], start=1):
            questions.append(Question(
                question_id=f"Q-{prefix}-{i:02d}", family=family, scenario_type=stype,
                dimension=dim, prompt_text=prompt, is_key=key,
                difficulty=float(rng.normal(0.1, 0.3)),
                slope=1.1 if key else float(rng.uniform(0.45, 0.7)),
                base_seconds=float(rng.uniform(90, 240)),
            ))
    return tuple(questions)


@dataclass
class World:
    """All parameters of one simulated world (fixed by seed, size, dates and scenario)."""

    seed: int
    scenario: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    change_date: dt.date
    roles: tuple[Role, ...]
    questions: tuple[Question, ...]
    staff: pd.DataFrame   # employee_id, family, kind (recruiter/manager/director), leniency...
    # ability model
    ability_cov: np.ndarray
    shift_mean: np.ndarray          # ability mean of applicants after change_date
    # measurement model (ability units; score = centre + scale * (ability + leniency + noise))
    human_centre: float = 5.0
    human_scale: float = 1.5
    human_noise_sd: float = 0.8
    leniency_sd: float = LENIENCY_SD
    rater_drift_shift: float = 0.0  # added to every human leniency on/after change_date
    ai_centre: float = 5.2
    ai_scale: float = 1.3
    ai_noise_sd: float = 1.0
    ai_share: float = 0.4           # share of interviews the AI also scores
    communication_bias_points: float = 0.8   # women's human communication scores lowered by
    female_share: float = 0.48
    # performance model: quarterly latent y = eta + u + e, KPI met iff y > 0
    person_sd: float = 0.55         # persistent unobserved (manager, territory, motivation)
    quarter_sd: float = 0.65
    early_leave: float = 0.04       # leaves before the first review period ends
    leave_if_met: float = 0.03      # leaves after a review that met the KPI (first year)
    leave_if_missed: float = 0.12   # leaves after a review that missed it (first year)
    later_leave: float = 0.03       # quarterly attrition after the label window
    drivers: dict[str, dict[str, float]] = field(default_factory=lambda: DRIVERS)
    drifted_drivers: dict[str, dict[str, float]] = field(default_factory=dict)
    assessed: dict[str, tuple[str, ...]] = field(default_factory=lambda: ASSESSED)
    impression_weights: dict[str, dict[str, float]] = field(
        default_factory=lambda: IMPRESSION_WEIGHTS)
    impression_noise_sd: float = 0.25
    pass_thresholds: tuple[float, float, float] = (-0.15, 0.15, 0.35)
    stage_withdraw: float = 0.025
    offer_decline: float = 0.10

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.role_id == role_id)

    def driver_vector(self, family: str, drifted: bool = False) -> np.ndarray:
        """Weights of the abilities in latent performance for one family and regime."""
        table = self.drifted_drivers if drifted and self.drifted_drivers else self.drivers
        beta = np.zeros(N_DIM)
        for dim, w in table[family].items():
            beta[DIM_INDEX[dim]] = w
        return beta

    def planted(self) -> dict:
        """The planted effect sizes and parameters, as plain JSON-able values."""
        return {
            "seed": self.seed, "scenario": self.scenario, "as_of": self.as_of.isoformat(),
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "change_date": self.change_date.isoformat(),
            "communication_bias_points": self.communication_bias_points,
            "communication_bias_applies_to": "human interviewer scores of women",
            "female_share": self.female_share,
            "human_scale": self.human_scale, "human_noise_sd": self.human_noise_sd,
            "leniency_sd": self.leniency_sd, "rater_drift_shift": self.rater_drift_shift,
            "ai_scale": self.ai_scale, "ai_noise_sd": self.ai_noise_sd,
            "ai_share": self.ai_share,
            "person_sd": self.person_sd, "quarter_sd": self.quarter_sd,
            "early_leave": self.early_leave, "leave_if_met": self.leave_if_met,
            "leave_if_missed": self.leave_if_missed,
            "drivers": self.drivers, "drifted_drivers": self.drifted_drivers,
            "assessed_dimensions": {k: list(v) for k, v in self.assessed.items()},
            "impression_weights": self.impression_weights,
            "shift_mean": dict(zip(DIMENSIONS, map(float, self.shift_mean), strict=True)),
            "role_intercepts": {r.role_id: r.intercept for r in self.roles},
        }


def ability_covariance() -> np.ndarray:
    """Correlated abilities: a general factor plus interpersonal/analytic/adaptive clusters."""
    clusters = {
        "interpersonal": (("communication", "persuasion", "empathy", "teamwork"), 0.45),
        "analytic": (("problem_solving", "technical_depth", "logic", "data_awareness"), 0.45),
        "adaptive": (("resilience", "learning_agility", "innovation"), 0.35),
    }
    load = np.zeros((N_DIM, 1 + len(clusters)))
    load[:, 0] = 0.5
    for j, (dims, w) in enumerate(clusters.values(), start=1):
        for d in dims:
            load[DIM_INDEX[d], j] = w
    cov = load @ load.T
    np.fill_diagonal(cov, 1.0)
    return cov


def build_staff(n_candidates: int, rng: np.random.Generator) -> pd.DataFrame:
    """Interviewers and managers: recruiters (hr round), hiring managers, directors."""
    rows = []
    n_rec = max(6, n_candidates // 1500)
    n_mgr = max(5, n_candidates // 2500)
    n_dir = max(2, n_candidates // 15000)
    rows += [("hr", "recruiter", "Human Resources")] * n_rec
    for fam in ROLE_FAMILIES:
        rows += [(fam, "director", DEPARTMENT[fam])] * n_dir
        rows += [(fam, "manager", DEPARTMENT[fam])] * n_mgr
    staff = pd.DataFrame(rows, columns=["family", "kind", "department"])
    staff.insert(0, "employee_id", [f"E{i:07d}" for i in range(1, len(staff) + 1)])
    staff["leniency"] = rng.normal(0.0, LENIENCY_SD, len(staff))
    # managers report to a director of their family; directors and recruiters to the HR head
    head = staff.index[staff.kind == "recruiter"][0]
    mgr_of = np.full(len(staff), head)
    for fam in ROLE_FAMILIES:
        dirs = staff.index[(staff.family == fam) & (staff.kind == "director")].to_numpy()
        mgrs = staff.index[(staff.family == fam) & (staff.kind == "manager")].to_numpy()
        mgr_of[mgrs] = dirs[np.arange(len(mgrs)) % len(dirs)]
    staff["manager_id"] = staff.employee_id.to_numpy()[mgr_of]
    staff.loc[head, "manager_id"] = None
    return staff


def build_world(n_candidates: int, seed: int, start: dt.date, end: dt.date, as_of: dt.date,
                scenario: str) -> World:
    """Draw one world. Scenarios other than "stable" change it from `change_date` on.

    change_date is two thirds into [start, end]. covariate_shift: applications from then on
    come from a different pool (ability means shifted); concept_drift: their KPI drivers are
    DRIFTED_DRIVERS; rater_drift: human interviewers score harsher from then on (interview
    date), performance unchanged.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    rng = np.random.default_rng([seed, 1])
    change_date = start + (end - start) * 2 // 3
    shift = np.zeros(N_DIM)
    extra: dict = {}
    if scenario == "covariate_shift":
        for dim, v in {"communication": 0.3, "persuasion": 0.2, "technical_depth": -0.4,
                       "data_awareness": -0.3, "problem_solving": -0.2}.items():
            shift[DIM_INDEX[dim]] = v
    elif scenario == "concept_drift":
        extra["drifted_drivers"] = DRIFTED_DRIVERS
    elif scenario == "rater_drift":
        extra["rater_drift_shift"] = -0.5
    return World(
        seed=seed, scenario=scenario, start=start, end=end, as_of=as_of,
        change_date=change_date, roles=ROLES, questions=build_questions(rng),
        staff=build_staff(n_candidates, rng), ability_cov=ability_covariance(),
        shift_mean=shift, **extra,
    )
