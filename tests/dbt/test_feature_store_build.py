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
    for name, values in contract.VOCABULARIES.items():
        assert tuple(dbt_vars[name]) == values, name
    # every vocabulary a rule names is one of the contract's
    named = {v for r in dbt_vars["raw_rules"].values() for v in r.get("vocab", {}).values()}
    assert named <= set(contract.VOCABULARIES)
    assert tuple(dbt_vars["role_families"]) == contract.ROLE_FAMILIES


def test_missing_as_of_date_fails_clearly(dbt_world):
    result = dbt_world.dbt("compile", "--select", "fct_candidates_to_score", with_vars=False)
    assert result.returncode != 0
    assert "as_of_date" in result.stdout


def test_docs_generate_succeeds(dbt_world):
    result = dbt_world.dbt("docs", "generate")
    assert result.returncode == 0, result.stdout[-4000:]
    assert (DBT_PROJECT_DIR / "target" / "catalog.json").exists()


def test_raw_rules_match_the_contract():
    """var raw_rules (read by staging and by the GX raw suites) names only contract tables,
    keys and columns; parents are keyed by their key; vocabularies and reasons exist."""
    dbt_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    rules, reasons = dbt_vars["raw_rules"], dbt_vars["reject_reasons"]
    assert set(rules) == set(contract.RAW_TABLES)
    for name, spec in rules.items():
        table = contract.RAW_TABLES[name]
        assert tuple(spec["key"]) == table.key, name
        named = [*spec.get("near_duplicate", []), *spec.get("required", []),
                 *spec.get("types", {}), *spec.get("vocab", {}),
                 *spec.get("not_future", []), *spec.get("personal", [])]
        named += [r["column"] for r in spec.get("ranges", [])]
        named += [r["column"] for r in spec.get("order", [])]
        named += [r.get("before", r.get("not_before")) for r in spec.get("order", [])]
        named += [o["column"] for o in spec.get("orphans", [])]
        assert set(named) <= set(table.columns), (name, set(named) - set(table.columns))
        # A value that must be present cannot sit in a column the export may leave out.
        assert not set(spec.get("required", [])) & table.optional, name
        assert set(spec.get("personal", [])) == contract.PERSONAL_COLUMNS & set(table.columns)
        assert set(spec.get("types", {}).values()) <= {"date", "number", "bool"}, name
        assert {r["column"] for r in spec.get("ranges", [])} <= set(spec.get("types", {}))
        for column in spec.get("not_future", []):
            assert spec["types"][column] == "date", (name, column)
        for vocabulary in spec.get("vocab", {}).values():
            assert vocabulary in dbt_vars, (name, vocabulary)
        for orphan in spec.get("orphans", []):
            assert (orphan["parent_column"],) == contract.RAW_TABLES[orphan["parent"]].key
        assert set(spec.get("plausible", [])) <= set(reasons), name
    assert len(set(reasons)) == len(reasons)
    assert {"missing_key", "exact_duplicate", "duplicate_key", "near_duplicate",
            "missing_value", "unparseable_value", "out_of_range", "invalid_value",
            "future_date", "orphan", "parent_quarantined"} <= set(reasons)
