"""Void, not quarantine: a bad descriptive value (var raw_rules `void`) is NULL in staging,
its row staged and the defect recorded in quarantine.field_defects; a bad score still
quarantines its row. Import profiles act where staging reads: a value mapped through
raw._value_map stages as the contract value, a date format releases rows, raw unchanged and
nothing re-imported."""

from __future__ import annotations

from collections import Counter

from hris.contract import RAW_TABLES
from hris.personal_values import mask
from hris.pseudonym import pseudonym
from tests.dbt.conftest import BAD_FOREIGN_DATE, FEMALE_CANDIDATE, YES_QUESTION, _raw_digest
from tests.dbt.hr_fixture import (
    EDUCATION_CANDIDATE,
    GENDER_CANDIDATE,
    PLANTED,
    VOID_INTERVIEW,
    VOIDED,
)

_NOT_IDS = {"dimension", "scored_by"}


def _staged_key(world, table: str, key: tuple) -> tuple:
    return tuple(v if c in _NOT_IDS else pseudonym(world.key, v)
                 for c, v in zip(RAW_TABLES[table].key, key, strict=True))


def _defects(world) -> Counter:
    """(table, staged key, column, reason, value, row staged) of every recorded defect."""
    out: Counter = Counter()
    for table, *rest in world.query(
            "select table_name, candidate_id, employee_id, interview_id, question_id, "
            "dimension, scored_by, role_id, review_id, column_name, reason, value, row_staged "
            "from quarantine.field_defects"):
        key_values = dict(zip(("candidate_id", "employee_id", "interview_id", "question_id",
                               "dimension", "scored_by", "role_id", "review_id"), rest[:8],
                              strict=True))
        key = tuple(key_values[c] for c in RAW_TABLES[table].key)
        out[(table, key, *rest[8:])] += 1
    return out


def _expected(world, voided=VOIDED) -> Counter:
    return Counter((v.table, _staged_key(world, v.table, v.key), v.column, v.reason, v.value,
                    True) for v in voided)


def test_bad_descriptive_fields_are_voided_and_recorded_not_quarantined(dbt_world):
    assert dbt_world.build.returncode == 0, dbt_world.build.stdout[-3000:]
    assert len(VOIDED) >= 7
    assert _defects(dbt_world) == _expected(dbt_world)  # exactly these, rows staged
    for v in VOIDED:
        key = _staged_key(dbt_world, v.table, v.key)
        where = " and ".join(f"{c} = %s" for c in RAW_TABLES[v.table].key)
        rows = dbt_world.query(f"select {v.column} from staging.stg_hris__{v.table} "
                               f"where {where}", key)
        assert rows == [(None,)], v  # staged, the field void
        assert dbt_world.query(f"select count(*) from quarantine.quarantine_{v.table} "
                               f"where {where}", key) == [(0,)], v


def test_a_voided_recommendation_keeps_the_interview_scores(dbt_world):
    interview = pseudonym(dbt_world.key, VOID_INTERVIEW)
    (scores,) = dbt_world.query("select count(*) from staging.stg_hris__interview_scores "
                                "where interview_id = %s", (interview,))[0]
    assert scores == 22
    assert dbt_world.query("select count(*) from quarantine.quarantine_interview_scores "
                           "where reject_reason = 'parent_quarantined' and interview_id = %s",
                           (interview,)) == [(0,)]


def test_a_bad_score_still_quarantines_its_row(dbt_world):
    bad = [p for p in PLANTED if p.table == "interview_scores" and p.column == "score"]
    assert {p.reason for p in bad} == {"unparseable_value", "out_of_range"}
    for p in bad:
        key = _staged_key(dbt_world, p.table, p.key)
        assert dbt_world.query(
            "select reject_reason from quarantine.quarantine_interview_scores where "
            "interview_id = %s and dimension = %s and scored_by = %s", key) == [(p.reason,)]


def test_personal_and_non_vocabulary_values_are_never_shown(dbt_world):
    shown = dbt_world.query("select distinct column_name from quarantine.field_defects "
                            "where value is not null")
    assert {c for (c,) in shown} == {"gender", "education", "race_ethnicity",
                                     "recommendation", "termination_reason"}


def test_unmapped_foreign_values_are_voided_before_the_profile(profile_world):
    before = profile_world.before
    assert before["build"].returncode == 0, before["build"].stdout[-3000:]
    defects = {(t, c, r, v) for t, c, r, v in before["field_defects"]}
    assert ("candidates", "gender", "invalid_value", "男") in defects
    assert ("candidates", "gender", "invalid_value", "女") in defects
    assert ("candidates", "education", "invalid_value", "本科") in defects
    assert ("interviews", "recommendation", "invalid_value", "hire") in defects
    assert before["staged_reviews"] == 0  # every submitted_at unreadable as ISO
    assert before["yes_question"] == [("unparseable_value", "is_key_question")]


def test_a_recorded_profile_releases_rows_on_the_next_build(profile_world):
    world = profile_world.world
    assert world.build.returncode == 0, world.build.stdout[-3000:]
    assert _raw_digest(world) == profile_world.before["raw"]  # raw as exported, no re-import
    gender = world.query("select gender from staging.stg_hris__candidates "
                         "where candidate_id = %s", (pseudonym(world.key, GENDER_CANDIDATE),))
    education = world.query("select education from staging.stg_hris__candidates where "
                            "candidate_id = %s", (pseudonym(world.key, EDUCATION_CANDIDATE),))
    recommendation = world.query("select recommendation from staging.stg_hris__interviews "
                                 "where interview_id = %s",
                                 (pseudonym(world.key, VOID_INTERVIEW),))
    assert (gender, education, recommendation) == ([("male",)], [("bachelor",)], [("yes",)])
    # in the marts too, where the fairness audit reads them
    genders = dict(world.query(
        "select candidate_id, gender from marts.dim_candidates where candidate_id in (%s, %s)",
        (pseudonym(world.key, GENDER_CANDIDATE), pseudonym(world.key, FEMALE_CANDIDATE))))
    assert genders == {pseudonym(world.key, GENDER_CANDIDATE): "male",
                       pseudonym(world.key, FEMALE_CANDIDATE): "female"}
    assert world.query("select is_key_question from staging.stg_hris__interview_questions "
                       "where question_id = %s", (pseudonym(world.key, YES_QUESTION),)) == [
        (True,)]
    mapped = {GENDER_CANDIDATE, EDUCATION_CANDIDATE, VOID_INTERVIEW}
    assert _defects(world) == _expected(world, [v for v in VOIDED if v.key[0] not in mapped])


def test_a_date_format_parses_strictly(profile_world):
    world = profile_world.world
    got = Counter(world.query("select review_id, reject_reason, reject_column from "
                              "quarantine.quarantine_performance_reviews"))
    want = Counter((pseudonym(world.key, p.key[0]) if p.key[0] else None, p.reason, p.column)
                   for p in PLANTED if p.table == "performance_reviews")
    # the planted rows as in the ISO export, plus the one foreign date that is no date
    want[(pseudonym(world.key, profile_world.bad_date_review), "unparseable_value",
          "submitted_at")] += 1
    assert got == want
    assert world.query("select reject_value from quarantine.quarantine_performance_reviews "
                       "where review_id = %s",
                       (pseudonym(world.key, profile_world.bad_date_review),)) == [
        (mask(BAD_FOREIGN_DATE),)]  # not a vocabulary column: its shape only, '9999/99/99'
