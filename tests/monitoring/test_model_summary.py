"""The model summary the demo prints: tables against both baselines, drivers, curl example."""

from __future__ import annotations

import json
import shlex

import pandas as pd

from monitoring.model_summary import (
    ModelSummary,
    baseline_table,
    curl_example,
    format_model_summary,
)


def _table(auc: dict[str, float]) -> pd.DataFrame:
    rows = {f: {"n": 100.0, "roc_auc": a, "pr_auc": a - 0.1, "brier": 0.2, "ece": 0.03}
            for f, a in auc.items()}
    return pd.DataFrame(rows).T


METRICS = {
    "model": _table({"sales": 0.74, "rnd": 0.70, "overall": 0.72}),
    "baseline_rating": _table({"sales": 0.60, "rnd": 0.66, "overall": 0.62}),
    "baseline_logit": _table({"sales": 0.70, "rnd": 0.64, "overall": 0.68}),
}


def test_baseline_table_puts_model_and_both_baselines_side_by_side():
    table = baseline_table(METRICS)
    assert list(table.index) == ["sales", "rnd", "overall"]
    assert table.loc["sales", "AUC interviewer rating"] == 0.60
    assert table.loc["rnd", "AUC logit on dimensions"] == 0.64
    assert abs(table.loc["sales", "lift vs rating"] - 0.14) < 1e-9
    assert table["n"].dtype.kind == "i"


def test_curl_example_is_a_valid_shell_command_with_the_row():
    row = {"role_family": "sales", "interviewer_communication": 7.0}
    text = curl_example("http://127.0.0.1:5001", row)
    args = shlex.split(text.replace("\\\n", " "))
    assert args[:4] == ["curl", "-s", "-X", "POST"]
    assert args[4] == "http://127.0.0.1:5001/invocations"
    body = json.loads(args[args.index("-d") + 1])
    assert body == {"dataframe_records": [row]}


def test_curl_example_sends_the_token_read_by_the_shell_never_the_token():
    text = curl_example("http://127.0.0.1:5001", {"role_family": "sales"},
                        "$(cat /home/x/secrets/endpoint.token)")
    args = shlex.split(text.replace("\\\n", " "))
    assert args[4] == "http://127.0.0.1:5001/invocations"
    assert "Authorization: Bearer $(cat /home/x/secrets/endpoint.token)" in args
    assert '-H "Authorization: Bearer $(cat' in text  # double quotes: the shell expands it


def test_format_model_summary_says_what_an_engineer_asks():
    summary = ModelSummary(
        metrics=METRICS, drivers={"sales": ["interviewer_persuasion", "ai_communication"]},
        version="3", champion="2", decision="kept_champion", run_url="http://x/run",
        endpoint_url="http://127.0.0.1:5001", served_version="2",
        example={"role_family": "sales", "interviewer_persuasion": 6.0},
        batch={"scored": 90, "rejected": 2, "bands": {"hold": 30}},
        online={"rows": 10, "scored": 9, "refused": 1, "failed": 0, "statuses": {200: 1},
                "ingested": 9},
    )
    text = format_model_summary(summary)
    assert "registered version 3: kept out; champion stays version 2" in text
    assert "AUC interviewer rating" in text and "AUC logit on dimensions" in text
    assert "sales" in text and "interviewer_persuasion, ai_communication" in text
    assert "90 scored, 2 refused" in text and "9 of 10 candidates scored, 1 refused" in text
    assert "9 new scores from the endpoint's inference log now in monitoring.scoring_log" in text
    assert "Scoring endpoint: http://127.0.0.1:5001 (serving version 2" in text
    assert "POST http://127.0.0.1:5001/candidates/score" in text
    assert "curl -s -X POST http://127.0.0.1:5001/invocations" in text


def test_online_scoring_skipped_says_why():
    summary = ModelSummary(metrics=METRICS, drivers={}, version="2", champion="2",
                           decision="identical_version",
                           online={"rows": 0, "scored": 0, "skipped": "the endpoint is not "
                                   "serving: no champion"})
    text = format_model_summary(summary)
    assert "Online scoring over HTTP: skipped (the endpoint is not serving: no champion)" in text
    assert "0 of 0" not in text


def test_a_build_on_unchanged_data_says_no_new_version_and_which_it_is():
    summary = ModelSummary(metrics=METRICS, drivers={}, version="2", champion="2",
                           decision="identical_version")
    text = format_model_summary(summary)
    assert ("no new version: same data, training config and code as version 2; champion "
            "stays version 2") in text
    assert "registered version" not in text


def test_the_printout_names_the_drift_quarter_shares_and_alarms():
    from monitoring.model_summary import drift_line

    line = drift_line({"quarter": "2024Q3", "drift_share": {"sales": 0.0625, "rnd": 0.0},
                       "alarms": ["sales"]})
    assert "quarter 2024Q3" in line and "rnd 0.00, sales 0.06" in line
    assert "alarms: sales" in line
    assert "nothing compared" in drift_line({"quarter": None})
