"""Batch scoring: the waiting candidates scored in-process exactly as the endpoint would.

Rows go through the endpoint's own checks (`validate`), scoring (`score_frame`) and input
hashes, so a batch score and an online score of the same interview agree. The rows are
fct_candidates_to_score's, with the feature store's own rater-adjusted scores
(`InputContract.feature_rows`): the features the endpoint's interview-records route derives
for the same candidate, so the two scores are equal. A row the checks refuse is not
dropped silently: it is returned with the reason, counted, and the rest of the batch is
still scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ml.pyfunc_model import contract_of, score_frame
from ml.rater_offsets import RATER_IDS
from ml.scoring_input import (
    REQUEST_ID,
    ROLE_FAMILY,
    InputContract,
    InputError,
    input_hashes,
    validate,
)

LOG_COLUMNS = ("request_id", "candidate_pseudonym", "model_version", "input_hash",
               "probability", "band", "scored_at")
_ROW_PREFIX = re.compile(r"^row \d+: ")


@dataclass
class BatchScores:
    scores: pd.DataFrame    # LOG_COLUMNS + reasons, one row per scored candidate
    rejected: pd.DataFrame  # candidate_pseudonym, role_family, field, reason
    example: dict[str, Any] | None  # one valid request row (what the endpoint accepts)

    @property
    def band_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.scores["band"].value_counts().items()}


def request_frame(frame: pd.DataFrame, contract: InputContract,
                  request_ids: pd.Series | None = None) -> pd.DataFrame:
    """The request an interview tool would send for these feature-store rows."""
    derived = set(getattr(contract, "adjusted", None) or {})  # the model derives these
    cols = [ROLE_FAMILY, *[n for n in contract.names if n in frame.columns and n not in derived]]
    if contract.accepted.rater_ids and RATER_IDS in frame.columns and RATER_IDS not in cols:
        cols.append(RATER_IDS)  # the served model derives rater-adjusted scores from them
    out = frame[cols].copy()
    out.insert(1, REQUEST_ID, None if request_ids is None else request_ids.to_numpy())
    return out.reset_index(drop=True)


def request_record(row: pd.Series, contract: InputContract) -> dict[str, Any]:
    """One request row as JSON-ready values: the fields its role family uses, no nulls."""
    record = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        record[key] = value if isinstance(value, str) else float(value)
    return record


def _validate_rows(requests: pd.DataFrame, contract: InputContract, ids: list[str]
                   ) -> tuple[list[int], list[dict[str, Any]]]:
    """Row positions that pass, and a record per refused row (one row at a time)."""
    good, bad = [], []
    for i in range(len(requests)):
        try:
            validate(requests.iloc[[i]], contract, 1)
        except InputError as exc:
            bad.append({"candidate_pseudonym": ids[i],
                        "role_family": requests[ROLE_FAMILY].iloc[i],
                        "field": exc.field, "reason": _ROW_PREFIX.sub("", str(exc))})
        else:
            good.append(i)
    return good, bad


def score_candidates(
    model: Any,
    frame: pd.DataFrame,
    model_version: str,
    *,
    id_column: str = "candidate_id",
    chunk_rows: int = 500,
    scored_at: datetime | None = None,
) -> BatchScores:
    """Score every row of `frame` (fct_candidates_to_score) that passes the input checks.

    Chunks are validated whole; a chunk with a bad row is re-checked row by row, so one
    bad row costs its chunk a slower pass, never the batch.
    """
    served = contract_of(model)
    contract = served.feature_rows()
    scored_at = scored_at or datetime.now(UTC)
    requests = request_frame(frame, contract)
    ids = frame[id_column].astype(str).tolist()
    parts, rejected, example = [], [], None
    for start in range(0, len(requests), chunk_rows):
        chunk = requests.iloc[start:start + chunk_rows]
        positions = list(range(len(chunk)))
        try:
            clean = validate(chunk, contract, len(chunk))
        except InputError:
            positions, bad = _validate_rows(chunk, contract, ids[start:start + len(chunk)])
            rejected += bad
            if not positions:
                continue
            clean = validate(chunk.iloc[positions], contract, len(positions))
        if example is None:  # what an /invocations caller sends (raw scores and rater_ids)
            first = frame.iloc[[start + positions[0]]]
            example = request_record(request_frame(first, served).iloc[0], served)
        scores = score_frame(model, clean, model_version)
        scores["request_id"] = None
        scores["candidate_pseudonym"] = [ids[start + p] for p in positions]
        scores["input_hash"] = input_hashes(clean, contract)
        scores["scored_at"] = scored_at
        parts.append(scores)
    columns = [*LOG_COLUMNS, "reasons"]
    scores = (pd.concat(parts, ignore_index=True)[columns] if parts
              else pd.DataFrame(columns=columns))
    rejected_frame = pd.DataFrame(
        rejected, columns=["candidate_pseudonym", "role_family", "field", "reason"])
    return BatchScores(scores, rejected_frame, example)
