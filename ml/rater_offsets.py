"""Rater offsets frozen into a model version, so a served request gets rater-adjusted scores.

The feature store puts human scores on one scale: `interviewer_<dim>_adj` is each score minus
its interviewer's offset (leniency, in score points) as known before that interview
(dbt: int_interviews_rater_adjusted). The interview tool cannot compute that; it knows who
interviewed. So a model trained on adjusted scores carries the offset table as of its
training data (marts.dim_interviewers: interviewer pseudonym -> offset), and a request sends
`rater_ids`, the interviewers' pseudonyms (comma-separated, one per interview). The input
contract derives `interviewer_<dim>_adj = interviewer_<dim> - mean offset of those raters`,
which is the feature store's definition whenever every interview scores the dimension (each
round scores all of a family's assessed dimensions). An interviewer the table does not know,
or a request without rater_ids, counts as the average rater (offset 0): the prior the
feature store gives an interviewer without history. Interviewer identity is never a model
input; only the offsets' mean reaches the model, through the adjusted scores.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

RATER_IDS = "rater_ids"
ADJUSTED_SUFFIX = "_adj"
VERSION_KEY = "rater_offsets"          # in HireloopModel.version_info
TABLE = "marts.dim_interviewers"
MAX_RATERS = 20                        # interviews per candidate a request may list
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
_ADJUSTED = re.compile(r"(interviewer_[a-z_]+?)_adj")
_log = logging.getLogger(__name__)


def adjusted_source(column: str) -> str | None:
    """`interviewer_<dim>_adj` -> `interviewer_<dim>` (the raw score it is derived from)."""
    m = _ADJUSTED.fullmatch(column)
    return m.group(1) if m else None


class RaterIdsError(ValueError):
    """A rater_ids value that is not a list of interviewer pseudonyms; says which part."""


def parse_rater_ids(value: Any) -> list[str]:
    """A request's rater_ids: null / '' -> no raters; else comma-separated pseudonyms."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return []
    if not isinstance(value, str):
        raise RaterIdsError(f"must be a string of comma-separated interviewer pseudonyms, got "
                            f"{type(value).__name__} {value!r}")
    ids = [p.strip() for p in value.split(",")] if value.strip() else []
    if len(ids) > MAX_RATERS:
        raise RaterIdsError(f"lists {len(ids)} interviewers; at most {MAX_RATERS}")
    bad = next((p for p in ids if not _PSEUDONYM.fullmatch(p)), None)
    if bad is not None:
        raise RaterIdsError(f"holds {bad[:40]!r}, not an interviewer pseudonym "
                            "(32 lowercase hex characters)")
    return ids


@dataclass(frozen=True)
class RaterOffsets:
    """Interviewer pseudonym -> offset in score points (positive: lenient)."""

    offsets: Mapping[str, float] = field(default_factory=dict)

    def mean_offset(self, ids: list[str]) -> float:
        """Mean offset over the interviews listed; unknown interviewers and none count 0."""
        if not ids:
            return 0.0
        return float(np.mean([self.offsets.get(i, 0.0) for i in ids]))

    def to_info(self) -> dict[str, Any]:
        return {"n": len(self.offsets), "offsets": dict(self.offsets)}

    @classmethod
    def from_info(cls, info: Mapping[str, Any] | None) -> RaterOffsets:
        return cls({str(k): float(v) for k, v in ((info or {}).get("offsets") or {}).items()})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RaterOffsets:
        """From dim_interviewers rows (interviewer_id, rater_offset)."""
        ids = frame["interviewer_id"].astype(str).to_numpy()
        values = pd.to_numeric(frame["rater_offset"], errors="coerce").to_numpy(np.float64)
        return cls({i: float(v) for i, v in zip(ids, values, strict=True) if np.isfinite(v)})


def read_rater_offsets(conn) -> RaterOffsets:
    """The feature store's offsets as of its as-of date (psycopg2 connection)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT interviewer_id, rater_offset FROM {TABLE}")
        rows = cur.fetchall()
    return RaterOffsets.from_frame(pd.DataFrame(rows, columns=["interviewer_id", "rater_offset"]))


def freeze(model: Any, offsets: RaterOffsets | None) -> None:
    """Store the table in the model version (model.json travels with every save/log)."""
    uses = any(adjusted_source(c) for fam in model.families.values() for c in fam.features)
    if uses and not (offsets and offsets.offsets):
        _log.warning("the model uses rater-adjusted scores but no rater offsets were given: "
                     "served requests will treat every interviewer as the average rater")
    model.version_info[VERSION_KEY] = (offsets or RaterOffsets()).to_info()


def offsets_of(model: Any) -> RaterOffsets:
    return RaterOffsets.from_info(getattr(model, "version_info", {}).get(VERSION_KEY))


__all__ = ["ADJUSTED_SUFFIX", "MAX_RATERS", "RATER_IDS", "RaterIdsError", "RaterOffsets",
           "adjusted_source", "freeze", "offsets_of", "parse_rater_ids", "read_rater_offsets"]
