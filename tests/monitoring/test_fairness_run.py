"""One fairness audit end to end: a real model on the real feature store (PostgreSQL + dbt),
its batch scores in the real scoring log, the report, the LL144 summary and the en/zh pages
logged to a real MLflow store as artifacts of the version's run."""

from __future__ import annotations

import datetime as dt
import json

import mlflow
import pandas as pd
import pytest

from ml.batch_scoring import score_candidates
from ml.datasets import read_candidates_to_score, read_frame
from ml.fairness_audit import flagged_categories
from ml.fairness_data import RATER_BIAS, rater_bias
from ml.fairness_tables import ATTRIBUTES
from ml.model_card import AUDIT_HEADING, card_with_audit
from ml.registry import configure
from ml.split import time_split
from monitoring.fairness_run import page_name, run_fairness_audit
from monitoring.scoring_log import append_scores, ensure_schema
from tests.ml.model_fixture import trained_model
from tests.monitoring.outside_urls import page_outside_urls

VERSION = "3"
TRAINING_CARD = "# hireloop-kpi model card\n\n## Intended use\n\nDecision support.\n"
AT = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
SCORED_AT = AT - dt.timedelta(days=1)  # the batch; a candidate's second score comes at AT
LL144_FIELDS = ("audit_date", "model_version", "distribution_date", "data_as_of",
                "auditor_note", "selection_rate_means", "scoring_rate_means",
                "impact_ratio_means", "unknown_category_means", "samples")
CATEGORY_FIELDS = {"category", "n", "selection_rate", "selection_impact_ratio",
                   "scoring_rate", "scoring_impact_ratio", "excluded", "exclusion_reason"}


@pytest.fixture(scope="module")
def audited(feature_store, pg_server, tmp_path_factory):
    model = trained_model(feature_store)
    database = pg_server.copy_database(feature_store.database, "fair")
    conn = pg_server.endpoint.connect(database)
    try:
        candidates = read_candidates_to_score(conn)
        batch = score_candidates(model, candidates, VERSION, scored_at=SCORED_AT)
        with conn, conn.cursor() as cur:
            ensure_schema(cur)
            append_scores(cur, batch.scores.drop(columns=["reasons"]))
            # a candidate scored twice counts once, with the latest score
            again = batch.scores.head(1).drop(columns=["reasons"]).assign(
                scored_at=AT, probability=0.0, band="hold", input_hash="again")
            append_scores(cur, again)
        frame = read_frame(conn, "SELECT * FROM marts.fct_training_examples")
        holdout = frame.iloc[time_split(frame).holdout]
        target = configure(pg_server.url(pg_server.create_database("mlflow_fair")),
                           tmp_path_factory.mktemp("mlflow_fair"))
        with mlflow.start_run() as run:  # the training run's card, as ml.tracking logs it
            mlflow.log_text(TRAINING_CARD, "model_card.md")
        result = run_fairness_audit(conn, model, VERSION, holdout=holdout,
                                    run_id=run.info.run_id, as_of="2025-01-01",
                                    generated_at=AT, distribution_date="2026-11-30",
                                    client=target.client)
    finally:
        conn.close()
    return result, batch, run.info.run_id, target


def test_both_samples_are_audited_with_every_ll144_table(audited):
    result, batch, *_ = audited
    samples = result.report["samples"]
    assert set(samples) == {"holdout", "scored"}
    assert samples["scored"]["n"] == batch.scores["candidate_pseudonym"].nunique()
    for audit in samples.values():
        assert set(audit["tables"]) == set(ATTRIBUTES)
        for by_rate in audit["tables"].values():
            assert set(by_rate) == {"selection", "scoring"}
            for table in by_rate.values():
                assert table["n_total"] == audit["n"]
                counted = sum(r["n"] for r in table["rows"]) + table["n_unknown"]
                assert counted == audit["n"]
    assert "outcomes" in samples["holdout"] and "outcomes" not in samples["scored"]
    # batch scores all name their candidate: none unseen (an online request may not)
    assert samples["scored"]["n_scores_without_candidate"] == 0
    assert result.summary["samples"]["scored"]["n_scores_without_candidate"] == 0


def test_scored_rates_match_a_recount_of_the_scoring_log(audited, feature_store):
    """Recounted from the batch, with the candidate scored twice at its latest score."""
    result, batch, *_ = audited
    people = feature_store.read("SELECT candidate_id, gender FROM marts.dim_candidates")
    latest = batch.scores.copy()
    latest.loc[latest.index[0], "band"] = "hold"  # the second score replaced the first
    joined = latest.merge(people, left_on="candidate_pseudonym", right_on="candidate_id")
    rate = joined.groupby("gender")["band"].apply(lambda b: (b == "advance").mean())
    rows = {r["category"]: r for r in
            result.report["samples"]["scored"]["tables"]["sex"]["selection"]["rows"]}
    for sex in ("female", "male"):
        assert rows[sex]["rate"] == pytest.approx(rate[sex])
    top = max(rate[["female", "male"]])
    assert rows["female"]["impact_ratio"] == pytest.approx(rate["female"] / top)


def test_the_ll144_summary_holds_every_required_field(audited):
    summary = audited[0].summary
    assert set(LL144_FIELDS) <= set(summary)
    assert summary["audit_date"] == "2026-12-02" and summary["model_version"] == VERSION
    for sample in summary["samples"].values():
        assert sample["data_source"] and sample["n"] > 0
        assert set(sample["attributes"]) == set(ATTRIBUTES)
        for attr in sample["attributes"].values():
            assert {"n_total", "n_unknown", "reference", "categories"} <= set(attr)
            for cat in attr["categories"]:
                assert set(cat) >= CATEGORY_FIELDS
                if cat["excluded"]:
                    assert cat["exclusion_reason"] and cat["selection_impact_ratio"] is None
    # non-binary applicants are ~1 % of the world: excluded with their count and rate
    sex = summary["samples"]["scored"]["attributes"]["sex"]["categories"]
    nb = next(c for c in sex if c["category"] == "non_binary")
    assert nb["excluded"] and nb["n"] > 0 and nb["selection_rate"] is not None


def test_the_data_audit_rides_along_and_names_the_rater_bias(audited):
    row = rater_bias(audited[0].report["data_audit"], "sex", "female", "communication")
    assert row["verdict"] == RATER_BIAS


def test_pages_in_both_languages_self_contained_and_dated(audited):
    pages = audited[0].pages
    en, zh = pages[page_name("en")], pages[page_name("zh")]
    assert '<html lang="en">' in en and '<html lang="zh-Hans">' in zh
    assert "2026-12-02" in en and "Bias audit summary (NYC Local Law 144)" in en
    assert "偏差审计摘要" in zh and "Bias audit summary" not in zh
    assert page_outside_urls(en) == [] and page_outside_urls(zh) == []
    assert "§703(l)" in en and "rater bias" in en


def test_report_summary_and_pages_are_artifacts_of_the_versions_run(audited):
    result, _, run_id, target = audited
    names = {a.path for a in target.client.list_artifacts(run_id, "fairness")}
    assert names == {"fairness/fairness_report.json", "fairness/ll144_summary.json",
                     "fairness/fairness_report.en.html", "fairness/fairness_report.zh.html"}
    local = mlflow.artifacts.download_artifacts(run_id=run_id,
                                                artifact_path="fairness/fairness_report.json",
                                                tracking_uri=target.tracking_uri)
    with open(local, encoding="utf-8") as fh:
        assert json.load(fh) == json.loads(json.dumps(result.report, sort_keys=True))
    run = target.client.get_run(run_id)
    assert run.data.tags["fairness.audit_date"] == "2026-12-02"
    assert "fairness.holdout.sex.selection.min_impact_ratio" in run.data.metrics


def test_what_was_seen(audited):
    """Not a threshold: the figures the report carries, printed for the record (-s)."""
    report = audited[0].report
    for name, audit in report["samples"].items():
        for attr in ("sex", "age_40_plus"):
            for rate in ("selection", "scoring"):
                t = audit["tables"][attr][rate]
                print(name, attr, rate, {r["category"]: (r["n"], round(r["rate"], 3),
                      r["impact_ratio"] and round(r["impact_ratio"], 3)) for r in t["rows"]})
    print("flags", flagged_categories(report))
    out = report["samples"]["holdout"]["outcomes"]
    print("eod", {a: out[a]["equalized_odds_difference"] for a in ("sex", "age_40_plus")})
    assert isinstance(pd.DataFrame(flagged_categories(report)), pd.DataFrame)


def test_the_model_card_carries_per_group_metrics_and_the_latest_audit(audited):
    result, _, run_id, target = audited
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card.md",
                                                tracking_uri=target.tracking_uri)
    with open(local, encoding="utf-8") as fh:
        card = fh.read()
    assert card == result.card and "model_card.md" in result.artifacts
    assert card.startswith(TRAINING_CARD.rstrip())  # the training card is kept
    report = result.report
    outcomes = report["samples"]["holdout"]["outcomes"]
    for attr, name in (("sex", "sex"), ("race_ethnicity", "race/ethnicity"),
                       ("age_40_plus", "age 40+")):
        assert f"### By {name}" in card
        for category, g in outcomes[attr]["groups"].items():
            row = next(line for line in card.splitlines()
                       if line.startswith(f"| {category} ") and
                       f"| {g['n']} | {g['selection_rate']:.3f} |" in line)
            assert f"| {g['observed_rate']:.3f} |" in row  # observed vs mean score per group
    assert "| female | " in card and "| 40+ | " in card and "| under 40 | " in card
    assert "Audit date: 2026-12-02" in card
    sex = report["samples"]["holdout"]["tables"]["sex"]["selection"]
    lowest = min(r["impact_ratio"] for r in sex["rows"] if r["impact_ratio"] is not None)
    assert f"holdout, sex, selection rate: lowest impact ratio {lowest:.3f}" in card
    assert "rater-bias findings" in card
    # a later audit replaces the audit part, never stacks a second one
    again = card_with_audit(card, report, flagged_categories(report))
    assert again == card and again.count(AUDIT_HEADING) == 1
