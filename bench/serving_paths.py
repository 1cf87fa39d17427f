"""The model's inputs by each of the endpoint's paths, for bench/quality.py.

One trained model, one population, the features it scores built three ways:
- `a`  the feature store's point-in-time columns (fct_training_examples,
       int_candidate_features_joined): what the model card and batch scoring use;
- `b`  the interview-records route: ml.interview_records.derive on the export's raw records
       (hris.ats_requests, the interview tool's view), with the serving context the pipeline
       writes after a build (offset steps in force, looked up per interview day);
- `c`  `/invocations`: the feature-store row's raw scores and rater_ids, adjusted by the
       model's normal contract with a frozen offset table (mean offset of the listed raters).
Plus two diagnostics that split the gap between `a` and `c`: `d` = records with ONE offset
per interviewer (the frozen table) applied per interview, so `a`→`d` is the timing of the
offsets and `d`→`c` the mean-of-raters simplification. All in process: the endpoint tests
prove HTTP gives the same scores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hris.ats_requests import candidate_requests
from ml.batch_scoring import request_frame
from ml.interview_records import derive
from ml.rater_offsets import RATER_IDS, RaterOffsets
from ml.scoring_app import pseudonymiser
from ml.scoring_input import InputContract, InputError, validate_rows
from ml.serving_context import OffsetSteps, ServingContext


def frozen_at(context: ServingContext, day: date) -> RaterOffsets:
    """The table a version trained on this store as of `day` freezes (dim_interviewers as of
    `day`): each interviewer's last step on or before `day`. The steps are as-of invariant
    (centring and offsets read strictly earlier days only), so one store gives every A."""
    after = day + timedelta(days=1)
    return RaterOffsets({i: s.before(after) for i, s in context.offset_steps.items()
                         if s.days and s.days[0] <= day.toordinal()})


def flat_context(context: ServingContext, offsets: RaterOffsets) -> ServingContext:
    """The context with one offset per interviewer for every interview day (`d`)."""
    steps = {i: OffsetSteps((0,), (v,)) for i, v in offsets.offsets.items()}
    return dataclasses.replace(context, offset_steps=steps)


def records_of(raw: Mapping[str, pd.DataFrame], raw_ids: list[str],
               cutoffs: pd.Series) -> list[dict]:
    """The interview tool's records of each candidate, interviews strictly before the
    candidate's feature cutoff (raw id -> date): what it held when the candidate was scored."""
    ivs = raw["interviews"]
    cut = pd.to_datetime(ivs["candidate_id"].map(cutoffs))
    keep = ivs[ivs["candidate_id"].isin(cutoffs.index)
               & (pd.to_datetime(ivs["interview_date"]) < cut)]
    return candidate_requests({**raw, "interviews": keep}, raw_ids)


def derived_rows(records: list[dict], context: ServingContext, key: bytes, today: date
                 ) -> tuple[pd.DataFrame, int]:
    """Features derived by the records route (one row per candidate pseudonym) and the
    number of candidates it refused."""
    derived, problems = derive(records, context, pseudonymiser(key), today,
                               max_candidates=len(records))
    frame = pd.DataFrame([c.features for c in derived],
                         index=[c.candidate_pseudonym for c in derived])
    return frame, len({p.row for p in problems})


def _scored(model, rows: pd.DataFrame | list[dict], contract: InputContract
            ) -> tuple[np.ndarray, np.ndarray]:
    """P(met_kpi) per row the contract accepts (NaN for refused rows) and the refused mask."""
    records = (rows if isinstance(rows, list) else
               [{k: v for k, v in r.items() if not _null(v)}
                for r in rows.to_dict(orient="records")])
    bad = np.zeros(len(records), dtype=bool)
    try:
        clean = validate_rows(records, contract, len(records))
    except InputError as exc:
        bad[[p.row for p in exc.problems if p.row is not None]] = True
        clean = validate_rows([r for r, b in zip(records, bad, strict=True) if not b],
                              contract, len(records))
    out = np.full(len(records), np.nan)
    out[~bad] = model.predict_proba(clean)
    return out, bad


def _null(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def score_feature_rows(model, frame: pd.DataFrame, contract: InputContract
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Paths `a`, `b`, `d`: rows that hold adjusted scores (the feature-rows contract)."""
    fc = contract.feature_rows()
    cols = [c for c in ["role_family", *fc.names] if c in frame.columns]
    return _scored(model, frame[cols], fc)


def score_invocations(model, frame: pd.DataFrame, contract: InputContract,
                      offsets: RaterOffsets) -> tuple[np.ndarray, np.ndarray]:
    """Path `c`: what `/invocations` scores for the row's raw scores and rater_ids, with
    `offsets` as the version's frozen table."""
    served = dataclasses.replace(contract, rater_offsets=offsets)
    requests = request_frame(frame, served)
    assert RATER_IDS in requests.columns
    return _scored(model, requests.drop(columns=["request_id"]), served)


def interview_offsets(raw: Mapping[str, pd.DataFrame], raw_ids: list[str], cutoffs: pd.Series,
                      context: ServingContext, tables: Mapping[str, RaterOffsets], key: bytes
                      ) -> pd.DataFrame:
    """Per interview of the population: its point-in-time offset (the step before its day,
    as the feature store and the records route give it) and its offset in each frozen table."""
    p = pseudonymiser(key)
    ivs = raw["interviews"]
    ivs = ivs[ivs["candidate_id"].isin(set(raw_ids))].copy()
    ivs["day"] = pd.to_datetime(ivs["interview_date"])
    ivs = ivs[ivs["day"] < pd.to_datetime(ivs["candidate_id"].map(cutoffs))]
    who = [None if _null(i) or i is None else p(str(i)) for i in ivs["interviewer_id"]]
    days = [d.date() for d in ivs["day"]]
    out = pd.DataFrame({"candidate_id": ivs["candidate_id"].to_numpy(), "day": days,
                        "interviewer": who})
    out["point_in_time"] = [context.rater_offset(i, d) for i, d in zip(who, days, strict=True)]
    for name, table in tables.items():
        out[name] = [0.0 if i is None else table.offsets.get(i, 0.0) for i in who]
    return out


def uneven_dimensions(records: list[dict]) -> np.ndarray:
    """Per candidate: some interviewer-scored dimension is not scored in every interview that
    has an interviewer (or an interview has none): then the mean offset of the raters is not
    the mean of the per-interview offsets over that dimension's scores."""
    out = []
    for rec in records:
        sets = [frozenset(s["dimension"] for s in iv["scores"] if s["scored_by"] == "interviewer")
                for iv in rec["interviews"]]
        listed = [s for s, iv in zip(sets, rec["interviews"], strict=True)
                  if iv.get("interviewer_id")]
        scored = [s for s in sets if s]
        out.append(len(set(scored)) > 1 or len(listed) != len(rec["interviews"])
                   or len(scored) != len(listed))
    return np.array(out, dtype=bool)
