"""The raw data contract: what an HR-system export must provide (DESIGN.md).

Raw tables hold values exactly as exported (text; personal columns encrypted). This
module is the single source of truth for table names, columns, source keys and allowed
values; the importer, the simulator, the loader and the tests all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLE_FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")
DIMENSIONS = (
    "communication",
    "persuasion",
    "problem_solving",
    "teamwork",
    "technical_depth",
    "logic",
    "empathy",
    "resilience",
    "innovation",
    "data_awareness",
    "learning_agility",
)
ROUNDS = ("hr", "business", "director")
CANDIDATE_STATUSES = ("hired", "rejected", "withdrawn", "pending")
SCENARIO_TYPES = ("kpi_scenario", "okr_open", "behavioral")
SCORED_BY = ("interviewer", "ai")
RECOMMENDATIONS = ("strong_yes", "yes", "no", "strong_no")
# Protected and descriptive vocabularies. Each voluntary or unknowable answer has an
# explicit value, so an empty field means "not exported", never "declined to say".
GENDER_UNDISCLOSED = "undisclosed"
GENDERS = ("female", "male", "non_binary", GENDER_UNDISCLOSED)
RACE_UNDISCLOSED = "prefer_not_to_say"
RACE_ETHNICITIES = ("asian", "black", "hispanic_latino", "white", "two_or_more", "other",
                    RACE_UNDISCLOSED)
EDUCATION_OTHER = "other"
EDUCATION_LEVELS = ("high_school", "associate", "bachelor", "master", "phd", EDUCATION_OTHER)
TERMINATION_REASONS = ("resigned", "better_offer", "relocation", "mutual_agreement",
                       "performance", "dismissal", "redundancy", "retirement",
                       "end_of_contract", "other")
# The spellings of a boolean staging accepts (any case; macros/safe_casts.sql safe_bool).
BOOL_TRUE = ("true", "t", "yes", "y", "1", "1.0")
BOOL_FALSE = ("false", "f", "no", "n", "0", "0.0")

# Every vocabulary, by the name of its dbt var (dbt_project.yml vars; tests keep them equal).
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "role_families": ROLE_FAMILIES,
    "dimensions": DIMENSIONS,
    "rounds": ROUNDS,
    "candidate_statuses": CANDIDATE_STATUSES,
    "scenario_types": SCENARIO_TYPES,
    "scored_by": SCORED_BY,
    "recommendations": RECOMMENDATIONS,
    "genders": GENDERS,
    "race_ethnicities": RACE_ETHNICITIES,
    "education_levels": EDUCATION_LEVELS,
    "termination_reasons": TERMINATION_REASONS,
}


@dataclass(frozen=True)
class RawTable:
    """One table of the raw contract.

    `key` is the source's identity of a row; `optional` columns may be absent from an
    export (they load as NULL); every other column is required.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    optional: frozenset[str] = field(default_factory=frozenset)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.optional)


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "job_roles",
            ("role_id", "role_family", "title", "level", "kpi_name", "kpi_target",
             "kpi_higher_is_better"),
            ("role_id",),
        ),
        RawTable(
            "candidates",
            ("candidate_id", "full_name", "national_id", "email", "phone", "gender",
             "birth_date", "race_ethnicity", "education", "years_experience",
             "applied_role_id", "application_date", "status", "employee_id"),
            ("candidate_id",),
            frozenset({"phone", "race_ethnicity"}),
        ),
        RawTable(
            "employees",
            ("employee_id", "full_name", "national_id", "email", "phone", "gender",
             "birth_date", "hire_date", "role_id", "department", "manager_id",
             "termination_date", "termination_reason"),
            ("employee_id",),
            frozenset({"phone", "termination_reason"}),
        ),
        RawTable(
            "interview_questions",
            ("question_id", "role_family", "scenario_type", "dimension", "prompt_text",
             "is_key_question"),
            ("question_id",),
        ),
        RawTable(
            "interviews",
            ("interview_id", "candidate_id", "round", "interviewer_id", "interview_date",
             "duration_minutes", "overall_rating", "recommendation"),
            ("interview_id",),
        ),
        RawTable(
            "interview_scores",
            ("interview_id", "dimension", "score", "scored_by"),
            ("interview_id", "dimension", "scored_by"),
        ),
        RawTable(
            "interview_answers",
            ("interview_id", "question_id", "answer_text", "answered_fully",
             "response_seconds"),
            ("interview_id", "question_id"),
            frozenset({"answer_text"}),
        ),
        RawTable(
            "performance_reviews",
            ("review_id", "employee_id", "period_start", "period_end", "kpi_name",
             "kpi_value", "kpi_target", "okr_score", "rating", "reviewer_id",
             "submitted_at"),
            ("review_id",),
        ),
    )
}

# Units of the numeric columns (the contract's documentation, hris.contract_doc).
UNITS: dict[tuple[str, str], str] = {
    ("job_roles", "kpi_target"): "the role's KPI unit (e.g. sales per month, a share 0–1)",
    ("candidates", "years_experience"): "years",
    ("interviews", "duration_minutes"): "minutes",
    ("interviews", "overall_rating"): "rating points",
    ("interview_scores", "score"): "score points",
    ("interview_answers", "response_seconds"): "seconds",
    ("performance_reviews", "kpi_value"): "the role's KPI unit",
    ("performance_reviews", "kpi_target"): "the role's KPI unit",
    ("performance_reviews", "okr_score"): "share of the OKR reached",
    ("performance_reviews", "rating"): "rating points",
}

# Columns that identify a person. They never leave schema `raw`, where they are stored
# AES-256-GCM encrypted (hris.data_crypto; what staging needs is derived at load:
# hris.raw_protect).
PERSONAL_COLUMNS = frozenset(
    {"full_name", "national_id", "email", "phone", "birth_date"}
)
# Protected attributes: only the fairness audit may read them, never a model.
PROTECTED_COLUMNS = frozenset({"gender", "birth_date", "race_ethnicity", "age_band"})

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "sim_truth"
