"""The contract's documentation is generated from the one spec: docs/CONTRACT.md equals what
`hireloop contract` prints, and it states every column, allowed value and bad-value policy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from typer.testing import CliRunner

from hris.contract import RAW_TABLES
from hris.contract_doc import render_contract, render_table
from hris.rules import VOID, load_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONTRACT.md"


def test_the_committed_contract_is_the_generated_one():
    assert DOC.read_text() == render_contract(), (
        "docs/CONTRACT.md differs from the rule spec: regenerate it with "
        "`python -m hris.contract_doc > docs/CONTRACT.md`")


def test_hireloop_contract_prints_it():
    from orchestration.cli import app

    done = CliRunner().invoke(app, ["contract"])
    assert done.exit_code == 0, done.output
    assert done.output == render_contract()


def _row(section: str, column: str) -> str:
    return next(line for line in section.splitlines() if line.startswith(f"| `{column}` |"))


def test_every_column_its_allowed_values_and_policy_are_stated():
    spec = load_rules()
    for table, rules in spec.tables.items():
        section = render_table(rules)
        for column in RAW_TABLES[table].columns:
            row = _row(section, column)
            for value in rules.vocab.get(column, ()):
                assert f"`{value}`" in row, (table, column, value)
            if rules.policy(column) == VOID:
                assert "void field" in row, (table, column)
            elif column in (*rules.key, *rules.required, *rules.types, *rules.vocab):
                assert "quarantine row" in row, (table, column)


def test_a_change_to_the_spec_changes_the_page():
    spec = load_rules()
    interviews = spec.tables["interviews"]
    changed = dataclasses.replace(spec, tables={**spec.tables, "interviews": dataclasses.replace(
        interviews, void=tuple(c for c in interviews.void if c != "recommendation"))})
    row = _row(render_table(changed.tables["interviews"]), "recommendation")
    assert "quarantine row" in row and render_contract(changed) != render_contract(spec)
