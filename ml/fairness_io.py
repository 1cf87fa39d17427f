"""What the fairness audit reads from the feature store and writes to MLflow.

The audit is the one reader of protected attributes: they come from marts.dim_candidates
only (gender, race_ethnicity, age_40_plus), joined by candidate pseudonym to what was
scored. Nothing here feeds a model. The scoring log is read as a table of the monitoring
schema (ml does not import monitoring).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from ml.datasets import read_frame
from ml.features import FAMILY_COLUMN, LABEL
from ml.model_card import card_with_audit

PEOPLE_SQL = """
SELECT candidate_id, role_family, gender, race_ethnicity, age_40_plus
FROM marts.dim_candidates
"""
SCORES_SQL = """
SELECT s.interview_id, i.candidate_id, i.interviewer_id, i.interview_date, s.dimension,
       s.scored_by, s.score
FROM staging.stg_hris__interview_scores AS s
JOIN staging.stg_hris__interviews AS i ON i.interview_id = s.interview_id
"""
LABELS_SQL = f"SELECT candidate_id, {LABEL} FROM marts.fct_training_examples"
# The latest score of each candidate by one version (a candidate scored twice counts once).
SCORED_SQL = """
SELECT DISTINCT ON (l.candidate_pseudonym)
       l.candidate_pseudonym AS candidate_id, l.probability, l.band, l.scored_at,
       d.role_family, d.gender, d.race_ethnicity, d.age_40_plus
FROM monitoring.scoring_log AS l
JOIN marts.dim_candidates AS d ON d.candidate_id = l.candidate_pseudonym
WHERE l.model_version = %s AND l.candidate_pseudonym IS NOT NULL
ORDER BY l.candidate_pseudonym, l.scored_at DESC, l.score_id DESC
"""
PROTECTED = ("gender", "race_ethnicity", "age_40_plus")
ARTIFACT_DIR = "fairness"


def read_people(conn) -> pd.DataFrame:
    return read_frame(conn, PEOPLE_SQL)


def read_interview_scores(conn) -> pd.DataFrame:
    return read_frame(conn, SCORES_SQL)


def read_labels(conn) -> pd.DataFrame:
    return read_frame(conn, LABELS_SQL)


UNLINKED_SQL = """
SELECT count(*) FROM monitoring.scoring_log
WHERE model_version = %s AND candidate_pseudonym IS NULL
"""


def read_scored(conn, model_version: str) -> pd.DataFrame:
    """Everyone the scoring log holds for `model_version`, with their protected columns."""
    return read_frame(conn, SCORED_SQL, (str(model_version),))


def count_unlinked_scores(conn, model_version: str) -> int:
    """Scores of `model_version` logged without a candidate pseudonym (an online request
    that named none): they cannot be joined to anyone's attributes, so the audit says how
    many it could not see."""
    with conn.cursor() as cur:
        cur.execute(UNLINKED_SQL, (str(model_version),))
        return int(cur.fetchone()[0])


def scored_holdout(model: Any, holdout: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The holdout scored by `model` (probability, band) with its label and protected
    columns joined from `people` (dim_candidates) by candidate pseudonym."""
    scored = model.score(holdout, contributions=False)
    sample = pd.DataFrame({"candidate_id": holdout["candidate_id"].to_numpy(),
                           FAMILY_COLUMN: holdout[FAMILY_COLUMN].astype(str).to_numpy(),
                           "probability": scored.proba, "band": scored.band,
                           LABEL: holdout[LABEL].astype(float).to_numpy()})
    attrs = people.set_index("candidate_id")[list(PROTECTED)]
    missing = ~sample["candidate_id"].isin(attrs.index)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} holdout candidates are not in "
                         "marts.dim_candidates: rebuild the feature store (dbt build)")
    return sample.join(attrs, on="candidate_id")


def log_report(run_id: str, report: dict[str, Any], summary: dict[str, Any],
               pages: dict[str, str], client: mlflow.MlflowClient | None = None
               ) -> list[str]:
    """Log the JSON report, the LL144 summary and the HTML pages (name -> html, e.g.
    {"fairness_report.en.html": ...}) as artifacts of the version's run, and the worst
    impact ratios as metrics; returns the artifact paths."""
    client = client or mlflow.MlflowClient()
    paths = []
    for name, body in (("fairness_report.json", json.dumps(report, indent=1, sort_keys=True)),
                       ("ll144_summary.json", json.dumps(summary, indent=1, sort_keys=True)),
                       *sorted(pages.items())):
        client.log_text(run_id, body, f"{ARTIFACT_DIR}/{name}")
        paths.append(f"{ARTIFACT_DIR}/{name}")
    for sample, audit in report["samples"].items():
        for attr, by_rate in audit.get("tables", {}).items():
            for rate, table in by_rate.items():
                ratios = [r["impact_ratio"] for r in table["rows"]
                          if r["impact_ratio"] is not None]
                if ratios:
                    client.log_metric(run_id, f"fairness.{sample}.{attr}.{rate}.min_impact_"
                                      "ratio", min(ratios))
    client.set_tag(run_id, "fairness.audit_date", report["audit_date"])
    return paths


CARD_PATH = "model_card.md"  # ml.tracking logs the training card there (one name)


def log_model_card(run_id: str, report: dict[str, Any], flagged: list[dict[str, Any]],
                   client: mlflow.MlflowClient | None = None) -> str:
    """The version's model card with its metrics per group and the latest audit, logged over
    the training card of run `run_id` (the card is the run's `model_card.md`); returns it."""
    client = client or mlflow.MlflowClient()
    with tempfile.TemporaryDirectory(prefix="hireloop_card_") as tmp:
        try:
            card = Path(client.download_artifacts(run_id, CARD_PATH, tmp)).read_text(
                encoding="utf-8")
        except Exception:  # a run logged without a card (tests, older runs): start one
            card = f"# hireloop-kpi model card, version {report.get('model_version')}\n"
    card = card_with_audit(card, report, flagged)
    client.log_text(run_id, card, CARD_PATH)
    return card
