"""One fairness audit of a model version: read, compute, render, log to the version's run.

What a Dagster asset or the loop calls; plain, so tests can call it. The computation is
ml's (ml.fairness_*), the page is monitoring.fairness_page's; the JSON report, the LL144
summary and one HTML page per language become artifacts of the version's MLflow run
(`fairness/`), and the run's model card is rewritten with the metrics per group and this
audit's summary (ml.model_card.card_with_audit): each audited version's card carries its
latest audit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ml import fairness_io as io
from ml.fairness_audit import audit_report, flagged_categories, ll144_summary
from ml.fairness_data import DataAuditPolicy, data_audit
from ml.fairness_tables import AuditPolicy
from monitoring.fairness_page import fairness_page
from monitoring.i18n import LANGUAGES, translator

SCORING_LOG = "monitoring.scoring_log"


@dataclass
class FairnessRun:
    report: dict[str, Any]
    summary: dict[str, Any]
    pages: dict[str, str]                 # artifact name -> HTML
    artifacts: list[str] = field(default_factory=list)
    card: str | None = None               # the version's model card, as logged


def page_name(language: str) -> str:
    return f"fairness_report.{language}.html"


def _has_table(conn, name: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return bool(cur.fetchone()[0])


def run_fairness_audit(conn, model: Any, model_version: str, *,
                       holdout: pd.DataFrame | None = None, run_id: str | None = None,
                       as_of: str | None = None, policy: AuditPolicy | None = None,
                       data_policy: DataAuditPolicy | None = None,
                       languages: tuple[str, ...] = LANGUAGES,
                       generated_at: dt.datetime | None = None,
                       distribution_date: str | None = None, client=None) -> FairnessRun:
    """Audit `model` (version `model_version`) on its `holdout` (labelled hires, if given)
    and on everyone the scoring log holds for the version; run the data audit on the
    interview scores; log everything to MLflow run `run_id` when given."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    people = io.read_people(conn)
    samples: dict[str, pd.DataFrame] = {}
    if holdout is not None and len(holdout):
        samples["holdout"] = io.scored_holdout(model, holdout, people)
    unlinked = None
    if _has_table(conn, SCORING_LOG):
        scored = io.read_scored(conn, model_version)
        unlinked = io.count_unlinked_scores(conn, model_version)
        if len(scored):
            samples["scored"] = scored
    data = data_audit(io.read_interview_scores(conn), people, io.read_labels(conn),
                      data_policy)
    report = audit_report(model_version, samples, data, policy=policy,
                          audit_date=generated_at.date(), as_of=as_of,
                          distribution_date=distribution_date)
    if "scored" in report["samples"]:
        report["samples"]["scored"]["n_scores_without_candidate"] = unlinked
    summary = ll144_summary(report)
    pages = {page_name(lang): fairness_page(translator(lang), report, summary, generated_at)
             for lang in languages}
    artifacts, card = [], None
    if run_id:
        artifacts = io.log_report(run_id, report, summary, pages, client)
        card = io.log_model_card(run_id, report, flagged_categories(report), client)
        artifacts.append(io.CARD_PATH)
    return FairnessRun(report, summary, pages, artifacts, card)
