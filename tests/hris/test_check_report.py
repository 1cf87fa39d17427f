"""The --check printout (hris.check_report): guesses, the profile snippet, what is withheld."""

from __future__ import annotations

import datetime as dt

import yaml

from hris.check_report import (
    TODO,
    CheckReport,
    DateShape,
    OffendingValue,
    QuarantineCount,
    best_guess,
    format_check,
    guess_date_format,
    profile_snippet,
)

RECOMMENDATIONS = ("strong_yes", "yes", "no", "strong_no")
FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")


def _report(offending: list[OffendingValue], quarantine=None) -> CheckReport:
    return CheckReport(
        source="exports/2025-q1", as_of=dt.date(2025, 3, 31), load="(load table)",
        raw_rows={"job_roles": 4, "interviews": 100},
        quarantine=quarantine if quarantine is not None else [
            QuarantineCount("interviews", "parent_quarantined", 3, 3),
            QuarantineCount("interviews", "invalid_value", 40, 40)],
        offending=offending,
        allowed={("interviews", "recommendation"): RECOMMENDATIONS,
                 ("job_roles", "role_family"): FAMILIES},
        personal={"candidates": ("email",)},
        reason_order=("invalid_value", "parent_quarantined"))


def test_best_guess_is_given_only_where_obvious():
    assert best_guess("Customer Service", FAMILIES) == "customer_service"
    assert best_guess("customer-service", FAMILIES) == "customer_service"
    assert best_guess("strong_hire", RECOMMENDATIONS) == "strong_yes"
    assert best_guess("strong_no_hire", RECOMMENDATIONS) == "strong_no"
    assert best_guess("hire", RECOMMENDATIONS) is None
    assert best_guess("销售", FAMILIES) is None


def test_snippet_is_a_valid_values_block_with_every_unmapped_value():
    offending = [OffendingValue("interviews", "recommendation", "hire", 30),
                 OffendingValue("interviews", "recommendation", "strong_hire", 5),
                 OffendingValue("job_roles", "role_family", "销售", 2)]
    values = yaml.safe_load(profile_snippet(_report(offending)))["values"]
    assert values == {"interviews.recommendation": {"hire": TODO, "strong_hire": "strong_yes"},
                      "job_roles.role_family": {"销售": TODO}}


def test_yaml_booleans_stay_strings():
    """'yes' and 'no' are booleans in YAML 1.1 unless quoted: keys and values are quoted."""
    offending = [OffendingValue("interviews", "recommendation", "Yes please", 1),
                 OffendingValue("interviews", "recommendation", "no", 1)]
    values = yaml.safe_load(profile_snippet(_report(offending)))["values"]
    assert all(isinstance(k, str) and isinstance(v, str)
               for m in values.values() for k, v in m.items())


def test_values_are_listed_most_seen_first_beside_the_allowed_ones():
    text = format_check(_report([OffendingValue("interviews", "recommendation", "hire", 30),
                                 OffendingValue("interviews", "recommendation", "pass", 10)]))
    assert "interviews.recommendation: allowed strong_yes, yes, no, strong_no" in text
    assert text.index('"hire"') < text.index('"pass"')
    # Reasons in rule order, whatever order they were read in.
    assert text.index("invalid_value") < text.index("parent_quarantined")


def test_personal_values_are_counted_never_shown():
    offending = [OffendingValue("interviews", "recommendation", "ann@corp.example", 2),
                 OffendingValue("interviews", "recommendation", "+86 138 0013 8000", 1),
                 OffendingValue("candidates", "email", "not-an-email", 1),
                 OffendingValue("interviews", "recommendation", "hire", 7)]
    text = format_check(_report(offending))
    assert "ann@corp.example" not in text and "138 0013" not in text
    assert "not-an-email" not in text  # a personal column: never printed, whatever it holds
    assert "values of 3 rows withheld" in text and '"hire"' in text


def test_a_clean_export_says_nothing_is_quarantined():
    text = format_check(_report([], quarantine=[]))
    assert "would quarantine no rows (of 104 raw rows)" in text
    assert "values:" not in text


def test_date_formats_are_guessed_only_when_certain():
    assert guess_date_format("9999/99/99", (2024, 12, 31)) == "YYYY/MM/DD"
    assert guess_date_format("9999年99月99日", (2024, 1, 9)) == "YYYY年MM月DD日"
    assert guess_date_format("99999999", (None, None, None)) == "YYYYMMDD"
    assert guess_date_format("99.99.9999", (31, 12, 2024)) == "DD.MM.YYYY"
    assert guess_date_format("99/99/9999", (12, 28, 2024)) == "MM/DD/YYYY"
    assert guess_date_format("99/99/9999", (12, 12, 2024)) is None  # could be either
    assert guess_date_format("9999/9/99", (2024, 9, 30)) is None  # unpadded: no pattern


def test_dates_block_from_shapes_never_shows_a_value():
    shapes = [DateShape("candidates", "application_date", "9999/99/99", 300, (2024, 12, 31)),
              DateShape("candidates", "birth_date", "9999/99/99", 299, (2001, 12, 31)),
              DateShape("candidates", "birth_date", "Ann Lee", 1),
              DateShape("interviews", "interview_date", "9999-99-99", 50, (2024, 12, 31)),
              DateShape("interviews", "interview_date", "99.99.9999", 5, (30, 11, 2024))]
    report = _report([])
    report.date_shapes = shapes
    snippet = profile_snippet(report)
    dates = yaml.safe_load(snippet)["dates"]
    assert dates == {"candidates.application_date": "YYYY/MM/DD",
                     "candidates.birth_date": TODO,  # one value is no date at all
                     "interviews.interview_date": TODO}  # mixed with ISO: no one format
    assert "Ann Lee" not in snippet and "(other text)" in snippet
