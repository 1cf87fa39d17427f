"""A reason's structured form, `reason_details`: what an ATS shows a recruiter per dimension.

Each of a prediction's top reasons (ml/pyfunc_model.py: SHAP contributions summed per
dimension, in log-odds) becomes {"dimension", "log_odds", "direction", "size"}; the
endpoint's layer adds its words ("text", ml/scoring_app.py). The vocabulary and the size
thresholds are defined here once, for the pyfunc and the published schema
(ml/endpoint_schema.py) alike. Pure: no MLflow here.
"""

from __future__ import annotations

import math
from typing import Any

N_REASONS = 3  # reasons per prediction, largest first
DIRECTIONS = ("raises", "lowers")
SIZES = ("slight", "moderate", "strong")
# |log-odds| from which a reason is "moderate" and "strong" (see `reason_size`).
MODERATE_LOG_ODDS, STRONG_LOG_ODDS = 0.2, 0.6
LOG_ODDS_PLACES = 4


def reason_size(log_odds: float) -> str:
    """"slight", "moderate" or "strong" for a reason's |log-odds| (as `reason_detail` rounds
    it, so a client can check the size from the figure it is given).

    Read at a probability of 0.5, where a contribution moves it most: below 0.2 it moves
    less than 5 points (0.50 -> 0.55), from 0.6 more than 14.5 (0.50 -> 0.646), a shift a
    band threshold can turn on; between, "moderate". Further from 0.5 the same log-odds
    move a probability less (at 0.9, 0.6 moves it 4 points): the size is that of the
    contribution on the log-odds scale, where the reasons add up, not of a probability change.
    """
    size = abs(log_odds)
    return ("strong" if size >= STRONG_LOG_ODDS else "moderate" if size >= MODERATE_LOG_ODDS
            else "slight")


def reason_detail(dimension: str, log_odds: float) -> dict[str, Any]:
    """One entry of `reason_details`: log-odds rounded to LOG_ODDS_PLACES, the direction from
    the sign ("+0.00" raises, as the `reasons` string prints it), the size from
    `reason_size`."""
    rounded = round(log_odds, LOG_ODDS_PLACES)
    return {"dimension": dimension, "log_odds": rounded,
            "direction": "lowers" if log_odds < 0 else "raises", "size": reason_size(rounded)}


def size_rule() -> str:
    """The thresholds in words (the published schema's description of `size`)."""
    def points(log_odds: float) -> str:  # how far it moves a probability of 0.5
        return f"{100 / (1 + math.exp(-log_odds)) - 50:.1f}"

    return (f"|log_odds| below {MODERATE_LOG_ODDS:g}: slight; from {MODERATE_LOG_ODDS:g}: "
            f"moderate; from {STRONG_LOG_ODDS:g}: strong (moving a probability of 0.5 by "
            f"{points(MODERATE_LOG_ODDS)} and {points(STRONG_LOG_ODDS)} points)")
