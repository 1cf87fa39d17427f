"""The reasons' words (monitoring/reason_text.py): every label ml can give is translated,
and each reason reads in the chosen language with its direction, size and figure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ml.reason_details import DIRECTIONS, SIZES, reason_detail
from ml.scoring_input import reason_labels
from monitoring.i18n import translator
from monitoring.i18n.catalog import read_catalog
from monitoring.reason_text import DIMENSION_LABELS, SENTENCES, explain, explainer, reason_text

DBT_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project"
                           / "dbt_project.yml").read_text())["vars"]
LABELS = reason_labels(DBT_VARS["dimensions"], DBT_VARS["scenario_types"])
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_marked_labels_are_exactly_those_ml_can_give():
    """From ml.scoring_input's own tables and the dbt vars: a new dimension, scenario type
    or rule fails here until its label is marked (then the catalog test asks for its
    translation)."""
    assert set(DIMENSION_LABELS) == set(LABELS)
    assert len(DIMENSION_LABELS) == len(set(DIMENSION_LABELS))
    assert {"communication", "learning agility", "overall rating", "HR-round rating",
            "key kpi scenario questions answered fully"} <= set(LABELS)


@pytest.mark.parametrize("label", LABELS)
def test_every_label_has_a_chinese_translation(label):
    entry = read_catalog("zh").get(label)
    assert entry is not None and entry.string and not entry.fuzzy, label
    words = translator("zh").gettext(label)
    assert CJK.search(words) and label not in words


def test_every_direction_and_size_has_its_sentence():
    assert set(SENTENCES) == {(d, s) for d in DIRECTIONS for s in SIZES}


@pytest.mark.parametrize(("value", "english", "chinese"), [
    (0.4213, "communication moderately raises the chance of meeting the role's first-year KPI "
             "(+0.42 log-odds)", "沟通能力明显提高达成岗位首年 KPI 的可能性（+0.42 对数几率）"),
    (-0.75, "communication strongly lowers the chance of meeting the role's first-year KPI "
            "(-0.75 log-odds)", "沟通能力显著降低达成岗位首年 KPI 的可能性（-0.75 对数几率）"),
    (0.05, "communication slightly raises the chance of meeting the role's first-year KPI "
           "(+0.05 log-odds)", "沟通能力略微提高达成岗位首年 KPI 的可能性（+0.05 对数几率）"),
])
def test_a_reason_reads_in_english_and_in_chinese(value, english, chinese):
    detail = reason_detail("communication", value)
    assert reason_text(detail, translator("en")) == english
    assert reason_text(detail, translator("zh")) == chinese


def test_every_label_and_sentence_reads_without_english_in_chinese():
    zh = translator("zh")
    for label in LABELS:
        for value in (0.05, 0.3, 0.9, -0.05, -0.3, -0.9):
            text = reason_text(reason_detail(label, value), zh)
            assert not re.search("[a-z]", text), text  # KPI, OKR, HR stay as they are written
            assert f"{value:+.2f} 对数几率" in text


def test_explain_adds_text_in_place_and_leaves_other_shapes_alone():
    predictions = [{"reason_details": [reason_detail("logic", -0.3)], "band": "review"},
                   {"reasons": "logic -0.30"}, 0.25, {"reason_details": "not a list"}]
    assert explain(predictions, translator("en")) is predictions
    assert predictions[0]["reason_details"][0]["text"] == (
        "logic moderately lowers the chance of meeting the role's first-year KPI "
        "(-0.30 log-odds)")
    assert predictions[1:] == [{"reasons": "logic -0.30"}, 0.25,
                               {"reason_details": "not a list"}]


def test_an_unknown_label_or_size_still_gives_a_sentence_never_an_error():
    zh = translator("zh")
    odd = {"dimension": "a new signal", "log_odds": 0.3, "direction": "raises",
           "size": "moderate"}
    assert reason_text(odd, zh).startswith("a new signal明显提高")
    assert reason_text({**odd, "size": "huge"}, zh) == "a new signal +0.30"


def test_an_unknown_language_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="one of en, zh"):
        explainer("fr")
