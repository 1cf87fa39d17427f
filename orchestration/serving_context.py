"""The scoring endpoint's serving context, made from the feature store after each build.

Glue between the two sides ml keeps apart: the record rules come from the raw contract's
one rule spec (hris.rules: the vocabularies and ranges the staging models and the Great
Expectations suites check), the rest from the built marts (ml.serving_context).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from hris.exports import required_as_of
from hris.pseudonym import pseudonym
from hris.rules import DBT_PROJECT_YML, RuleSpec, parse_rules
from ml.records_route import KEY_CHECK_ID
from ml.serving_context import (
    RecordRules,
    ServingContext,
    read_serving_context,
    write_serving_context,
)


def _range(spec: RuleSpec, table: str, column: str) -> tuple[float, float]:
    rule = next(r for r in spec.tables[table].ranges if r.column == column)
    if rule.min is None or rule.max is None:
        raise ValueError(f"raw_rules.{table}: {column} needs both a min and a max")
    return float(rule.min), float(rule.max)


def record_rules(path: Path = DBT_PROJECT_YML) -> RecordRules:
    """The interview record's rules, read from the dbt project's rule spec and vars."""
    with open(path) as fh:
        variables = yaml.safe_load(fh)["vars"]
    spec = parse_rules(variables)
    interviews, scores = spec.tables["interviews"], spec.tables["interview_scores"]
    return RecordRules(
        rounds=interviews.vocab["round"],
        dimensions=scores.vocab["dimension"],
        scored_by=scores.vocab["scored_by"],
        recommendations=interviews.vocab["recommendation"],
        positive_recommendations=tuple(variables["positive_recommendations"]),
        scenario_types=spec.tables["interview_questions"].vocab["scenario_type"],
        education_levels=spec.tables["candidates"].vocab["education"],
        score_range=_range(spec, "interview_scores", "score"),
        rating_range=_range(spec, "interviews", "overall_rating"),
    )


def refresh_serving_context(conn, key: bytes, path: Path, source: str) -> ServingContext:
    """Read the context from the built feature store (psycopg2) and write it to `path`."""
    with conn.cursor() as cur:
        as_of = required_as_of(cur)
    context = read_serving_context(conn, record_rules(), as_of, source=source,
                                   key_check=pseudonym(key, KEY_CHECK_ID))
    write_serving_context(context, path)
    return context
