"""The feature store builds, documents itself, and refuses to run without an as-of date."""

from __future__ import annotations

import yaml

from hris import contract
from tests.dbt.conftest import DBT_PROJECT_DIR


def test_dbt_build_passes_all_models_and_tests(dbt_world):
    build = dbt_world.build
    assert build.returncode == 0, build.stdout[-4000:]
    assert "ERROR=0" in build.stdout and "WARN=0" in build.stdout


def test_marts_are_populated(dbt_world):
    for table in ("fct_training_examples", "fct_candidates_to_score", "dim_candidates",
                  "dim_job_roles"):
        (n,) = dbt_world.query(f"select count(*) from marts.{table}")[0]
        assert n > 0, table
    # Both label classes occur, and every training example is a mature hire.
    classes = dbt_world.query("select distinct met_kpi from marts.fct_training_examples")
    assert {c for (c,) in classes} == {True, False}


def test_feature_columns_match_between_training_and_scoring(dbt_world):
    def columns(table: str) -> list[str]:
        rows = dbt_world.query(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = %s order by ordinal_position", (table,))
        return [c for (c,) in rows]

    train, score = columns("fct_training_examples"), columns("fct_candidates_to_score")
    shared = [c for c in train if c in score]
    assert "interviewer_communication" in shared and "ai_communication" in shared
    assert {"kpi_attainment", "met_kpi", "retained_12m"}.isdisjoint(score)
    assert [c for c in score if c in train] == shared  # same order too


def test_vocabularies_in_dbt_match_the_contract():
    dbt_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert tuple(dbt_vars["role_families"]) == contract.ROLE_FAMILIES
    assert tuple(dbt_vars["dimensions"]) == contract.DIMENSIONS
    assert tuple(dbt_vars["rounds"]) == contract.ROUNDS
    assert tuple(dbt_vars["candidate_statuses"]) == contract.CANDIDATE_STATUSES
    assert tuple(dbt_vars["scenario_types"]) == contract.SCENARIO_TYPES
    assert tuple(dbt_vars["scored_by"]) == contract.SCORED_BY
    assert tuple(dbt_vars["recommendations"]) == contract.RECOMMENDATIONS


def test_missing_as_of_date_fails_clearly(dbt_world):
    result = dbt_world.dbt("compile", "--select", "fct_candidates_to_score", with_vars=False)
    assert result.returncode != 0
    assert "as_of_date" in result.stdout


def test_docs_generate_succeeds(dbt_world):
    result = dbt_world.dbt("docs", "generate")
    assert result.returncode == 0, result.stdout[-4000:]
    assert (DBT_PROJECT_DIR / "target" / "catalog.json").exists()
