"""The bands of an interviewer's dimension score that HR leads read attainment by.

One definition for every page and printout (the feature-store summary's sales table, the
feedback report): ≥ 8, 6–8 (6 up to, not including, 8) and < 6, on the interviewer's mean
score of the dimension (0–10). A missing score has no band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# (label, lowest score in the band); bands are listed from the top down.
BANDS: tuple[tuple[str, float], ...] = (("≥ 8", 8.0), ("6–8", 6.0), ("< 6", -np.inf))
BAND_LABELS: tuple[str, ...] = tuple(label for label, _low in BANDS)


def score_band(scores: pd.Series) -> pd.Series:
    """The band label of each score (object dtype; NaN where the score is missing)."""
    values = pd.to_numeric(scores, errors="coerce").astype(float)
    out = pd.Series(np.nan, index=scores.index, dtype=object)
    for label, low in reversed(BANDS):  # the highest band a score reaches wins
        out[values >= low] = label
    return out


def attainment_by_band(frame: pd.DataFrame, score_column: str) -> pd.DataFrame:
    """Per band (top first, every band listed): hires, met (how many met the KPI), mean
    kpi_attainment, share met_kpi.

    Rows without a score are left out. A band nobody falls in has 0 hires and no rates.
    """
    band = score_band(frame[score_column])
    rows = frame.loc[band.notna()]
    grouped = pd.DataFrame({
        "band": band[band.notna()],
        "kpi_attainment": pd.to_numeric(rows["kpi_attainment"], errors="coerce").astype(float),
        "met_kpi": rows["met_kpi"].astype(bool).astype(float),
    }).groupby("band")
    table = pd.DataFrame({
        "hires": grouped.size(),
        "met": grouped["met_kpi"].sum(),
        "mean_attainment": grouped["kpi_attainment"].mean(),
        "met_kpi_rate": grouped["met_kpi"].mean(),
    }).reindex(list(BAND_LABELS))
    table[["hires", "met"]] = table[["hires", "met"]].fillna(0).astype(int)
    return table.rename_axis("band").reset_index()
