"""A prediction's reasons in plain words, in the platform's language, for a recruiter.

The served pyfunc returns each row's top reasons as `reason_details` (ml/pyfunc_model.py:
dimension, log_odds, direction, size); it travels alone in the model artifact and has no
catalog. The endpoint's ASGI layer (ml/scoring_app.py), which runs in this repository,
adds each entry's "text" here: "communication strongly raises the chance of meeting the
role's first-year KPI (+0.42 log-odds)". One sentence per direction and size, so a
translation can word each naturally; the dimension labels are translated too.

`DIMENSION_LABELS` lists every label ml.scoring_input can give (`reason_labels` of the dbt
vars `dimensions` and `scenario_types`; a test holds the two equal), marked for the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Protocol

from monitoring.i18n import N_

# The labels of ml.scoring_input.reason_labels, for the catalog's extraction.
DIMENSION_LABELS = (
    N_("key questions answered fully"), N_("questions answered fully"),
    N_("interviewer recommendations"), N_("response time"), N_("interview length"),
    N_("number of interviews"), N_("number of interviewers"), N_("number of answers"),
    N_("number of key questions"), N_("years of experience"), N_("education"),
    N_("HR-round rating"), N_("business-round rating"), N_("director-round rating"),
    N_("overall rating"),
    N_("communication"), N_("persuasion"), N_("problem solving"), N_("teamwork"),
    N_("technical depth"), N_("logic"), N_("empathy"), N_("resilience"), N_("innovation"),
    N_("data awareness"), N_("learning agility"),
    N_("key kpi scenario questions answered fully"),
    N_("key okr open questions answered fully"),
    N_("key behavioral questions answered fully"),
)

# (direction, size) -> the sentence; {log_odds} is the signed figure, two decimals.
SENTENCES = {
    ("raises", "slight"): N_("{dimension} slightly raises the chance of meeting the role's "
                             "first-year KPI ({log_odds} log-odds)"),
    ("raises", "moderate"): N_("{dimension} moderately raises the chance of meeting the "
                               "role's first-year KPI ({log_odds} log-odds)"),
    ("raises", "strong"): N_("{dimension} strongly raises the chance of meeting the role's "
                             "first-year KPI ({log_odds} log-odds)"),
    ("lowers", "slight"): N_("{dimension} slightly lowers the chance of meeting the role's "
                             "first-year KPI ({log_odds} log-odds)"),
    ("lowers", "moderate"): N_("{dimension} moderately lowers the chance of meeting the "
                               "role's first-year KPI ({log_odds} log-odds)"),
    ("lowers", "strong"): N_("{dimension} strongly lowers the chance of meeting the role's "
                             "first-year KPI ({log_odds} log-odds)"),
}


class Translates(Protocol):
    def gettext(self, message: str) -> str: ...


@cache
def _words(translator: Translates) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """The labels and sentences of one language, looked up once (a response's reasons then
    cost a dict lookup and a format each)."""
    labels = {label: translator.gettext(label) for label in DIMENSION_LABELS}
    return labels, {key: translator.gettext(s) for key, s in SENTENCES.items()}


def reason_text(detail: dict[str, Any], translator: Translates) -> str:
    """One `reason_details` entry as a sentence. A label without a translation stays as it
    is (English), an unknown direction or size gives the figure alone: never an error in
    a scoring response."""
    labels, sentences = _words(translator)
    dimension = str(detail.get("dimension", ""))
    label = labels.get(dimension) or translator.gettext(dimension)
    value = detail.get("log_odds")
    figure = f"{value:+.2f}" if isinstance(value, int | float) else "?"
    sentence = sentences.get((detail.get("direction"), detail.get("size")))
    if sentence is None:
        return f"{label} {figure}"
    return sentence.format(dimension=label, log_odds=figure)


def explain(predictions: Sequence[Any], translator: Translates) -> Sequence[Any]:
    """Add "text" to each `reason_details` entry of each prediction dict (in place; returns
    `predictions`). Anything else in the list is left as it is."""
    for prediction in predictions:
        details = prediction.get("reason_details") if isinstance(prediction, dict) else None
        if isinstance(details, list):
            for detail in details:
                if isinstance(detail, dict):
                    detail["text"] = reason_text(detail, translator)
    return predictions


def explainer(language: str) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """`explain` in `language` (en | zh; a ValueError naming the choices otherwise)."""
    from monitoring.i18n import translator

    words = translator(language)
    return lambda predictions: explain(predictions, words)
