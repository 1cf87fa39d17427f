"""Kamiran–Calders reweighing: training-row weights that make a group and the label independent.

Why: the other training-time mitigation to compare with the rater-bias correction
(ml.rater_bias_correction). Each (group, label) cell is weighted P(group) P(label) /
P(group, label), so in the weighted training data every group has the same met_kpi rate.
The group is read at training time only (joined by candidate pseudonym from
marts.dim_candidates); it is never an input and the served model is the same for everyone.
It cannot undo a bias inside the features: a model still reads women's lowered scores as
lower ability (bench/fairness.py measures both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import LABEL, WEIGHT


def reweighing_weights(group: pd.Series, label: pd.Series) -> np.ndarray:
    """P(g) P(y) / P(g, y) per row; a missing group is a group of its own."""
    g = group.astype(object).where(group.notna(), "unknown").astype(str).to_numpy()
    y = label.astype(bool).to_numpy()
    cells = pd.DataFrame({"g": g, "y": y})
    n = len(cells)
    p_g = cells.groupby("g")["y"].transform("size").to_numpy() / n
    p_y = cells.groupby("y")["g"].transform("size").to_numpy() / n
    p_gy = cells.groupby(["g", "y"])["y"].transform("size").to_numpy() / n
    return p_g * p_y / p_gy


def reweighed(frame: pd.DataFrame, people: pd.DataFrame, attribute: str = "gender"
              ) -> pd.DataFrame:
    """`frame` (training rows with candidate_id) with WEIGHT multiplied by the reweighing
    weights of `attribute` (from `people`, dim_candidates rows); the attribute is not added."""
    group = frame["candidate_id"].map(people.set_index("candidate_id")[attribute])
    w = reweighing_weights(group, frame[LABEL])
    base = (pd.to_numeric(frame[WEIGHT]).to_numpy(np.float64) if WEIGHT in frame.columns
            else np.ones(len(frame)))
    return frame.assign(**{WEIGHT: base * w})


__all__ = ["reweighed", "reweighing_weights"]
