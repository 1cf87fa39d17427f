"""Each prediction's reasons in structured form (ml/reason_details.py, `reason_parts`): the
direction follows the sign, the size the thresholds, and the `reasons` string says the same.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from ml.endpoint_schema import endpoint_schema
from ml.pyfunc_model import reason_parts, reasons
from ml.reason_details import (
    DIRECTIONS,
    MODERATE_LOG_ODDS,
    N_REASONS,
    SIZES,
    STRONG_LOG_ODDS,
    reason_detail,
    size_rule,
)
from ml.scoring_input import field_spec, reason_label, reason_labels

DBT_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project"
                           / "dbt_project.yml").read_text())["vars"]
COLUMNS = ["interviewer_communication", "ai_communication", "interviewer_logic",
           "overall_rating_mean", "n_interviews", "key_kpi_scenario_answered_fully_share",
           "role_family", "mean_response_seconds"]


def expected_size(log_odds: float) -> str:
    size = abs(log_odds)
    return "strong" if size >= STRONG_LOG_ODDS else (
        "moderate" if size >= MODERATE_LOG_ODDS else "slight")


@pytest.mark.parametrize(("value", "direction", "size"), [
    (0.0, "raises", "slight"), (0.19994, "raises", "slight"), (0.19996, "raises", "moderate"),
    (0.2, "raises", "moderate"), (-0.2, "lowers", "moderate"), (0.59999, "raises", "strong"),
    (-0.5999, "lowers", "moderate"), (-0.6, "lowers", "strong"), (2.5, "raises", "strong"),
    (-0.00001, "lowers", "slight"), (-0.0123456, "lowers", "slight"),
])
def test_direction_follows_the_sign_and_size_the_rounded_figure(value, direction, size):
    """The size is judged on the figure given (4 places), so a client can check it: 0.19996
    is given as 0.2, moderate."""
    detail = reason_detail("logic", value)
    assert detail == {"dimension": "logic", "log_odds": round(value, 4),
                      "direction": direction, "size": size}
    assert detail["direction"] in DIRECTIONS and detail["size"] in SIZES


def test_thresholds_move_an_even_chance_by_about_5_and_15_points():
    """Why 0.2 and 0.6: at p = 0.5 they move the probability 5.0 and 14.6 points."""
    def moved(x: float) -> float:
        return 100 / (1 + math.exp(-x)) - 50

    assert round(moved(MODERATE_LOG_ODDS), 1) == 5.0
    assert round(moved(STRONG_LOG_ODDS), 1) == 14.6
    assert "5.0 and 14.6 points" in size_rule()


def test_details_and_the_reasons_string_say_the_same_in_the_same_order():
    rng = np.random.default_rng(3)
    values = rng.normal(scale=0.5, size=(200, len(COLUMNS)))
    values[0, :] = 0.0  # nothing to say: the string and the details both stay empty
    values[1, :] = [0.3, 0.31, 0, 0, 0, 0, 0, 0]  # one dimension only (two columns summed)
    texts, details = reason_parts(values, COLUMNS)
    assert texts[0] == "" and details[0] == []
    assert details[1] == [reason_detail("communication", 0.61)]
    for text, row in zip(texts, details, strict=True):
        parts = [p.rsplit(" ", 1) for p in text.split("; ")] if text else []
        assert len(row) == len(parts) <= N_REASONS
        assert [d["dimension"] for d in row] == [name for name, _ in parts]
        for d, (_, figure) in zip(row, parts, strict=True):
            assert abs(float(figure) - d["log_odds"]) <= 0.005 + 1e-12
            assert (figure[0] == "-") == (d["direction"] == "lowers")
            assert d["size"] == expected_size(d["log_odds"])
        sizes = [abs(d["log_odds"]) for d in row]
        assert sizes == sorted(sizes, reverse=True)
    import pandas as pd

    assert reasons(pd.DataFrame(values, columns=COLUMNS)) == texts


def test_the_schema_lists_the_reason_vocabulary_and_the_size_rule(feature_store):
    from ml.pyfunc_model import contract_of
    from tests.ml.model_fixture import trained_model

    document = endpoint_schema(contract_of(trained_model(feature_store)), 1000, "7")
    reason = document["components"]["schemas"]["Reason"]
    assert reason["properties"]["direction"]["enum"] == list(DIRECTIONS)
    assert reason["properties"]["size"]["enum"] == list(SIZES)
    assert reason["properties"]["size"]["description"] == size_rule()
    assert set(reason["required"]) == {"dimension", "log_odds", "direction", "size", "text"}


def test_every_feature_store_column_has_its_label_listed(feature_store):
    """`reason_labels` (what the words must translate) covers every label a model column of
    the feature store can give: a new column with a new rule must be listed there too."""
    listed = set(reason_labels(DBT_VARS["dimensions"], DBT_VARS["scenario_types"]))
    columns = set()
    for mart in ("fct_training_examples", "fct_candidates_to_score"):
        columns |= set(feature_store.read(f"SELECT * FROM marts.{mart} LIMIT 0").columns)
    labelled = set()
    for column in columns:
        try:
            field_spec(column)
        except KeyError:
            continue  # no input rule: never a model column (InputContract refuses it)
        labelled.add(reason_label(column))
    assert labelled and labelled <= listed, sorted(labelled - listed)
    assert {"communication", "learning agility", "overall rating"} <= labelled
