"""The served model: one MLflow pyfunc that checks, scores, explains and logs every row.

`HireloopPyfunc` wraps a trained `HireloopModel` (saved as an artifact directory) for
the endpoint (MLflow's scoring app inside ml/scoring_app.py). For each request it validates
the rows itself with the check the endpoint's layer runs first (ml/scoring_input.py: in
process, a bad row is an `MlflowException(INVALID_PARAMETER_VALUE)` listing every problem),
then returns per row: request_id, probability (calibrated), score (100 × probability),
band (advance / review / hold: the model never rejects, a person decides), the top three
reasons (SHAP contributions summed per dimension, in log-odds) as a string and as
`reason_details` (ml/reason_details.py; the endpoint's layer adds each one's words in the
platform language) and the model version, as a list of one dict per row (cheap for
MLflow's scoring server to serialise; see `score_records`).

Online scores are appended to the inference log, a JSON-lines file that
monitoring.scoring_log ingests. Its path comes from the environment variable
`HIRELOOP_INFERENCE_LOG`, read once in `load_context`: the pyfunc runs in the scoring
server's own process, which orchestration starts, and the environment is the only channel
MLflow's scoring app offers into it. A path in the logged model_config would be baked
into the registered artifact and point at the wrong machine once served elsewhere. An
in-process caller may pass `model_config={"inference_log": path}` to `load_model`
instead; with neither, nothing is logged (batch scoring logs its own scores).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import importlib
import importlib.metadata
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE
from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

from ml.endpoint_schema import SCHEMA_ARTIFACT, endpoint_schema
from ml.rater_offsets import RATER_IDS, RaterOffsets, offsets_of
from ml.reason_details import N_REASONS, reason_detail
from ml.records_schema import add_records_routes
from ml.scoring_input import (
    REQUEST_ID,
    ROLE_FAMILY,
    CleanRows,
    InputContract,
    InputError,
    input_hashes,
    reason_label,
    validate_rows,
)
from ml.serving_context import RecordRules

MODEL_ARTIFACT = "hireloop_model"
INFERENCE_LOG_ENV = "HIRELOOP_INFERENCE_LOG"
DEFAULT_MAX_ROWS = 1000
OUTPUT_COLUMNS = ("request_id", "probability", "score", "band", "reasons", "reason_details",
                  "model_version")
_NOT_REASONS = ("bias", "_bias", ROLE_FAMILY)
_PIP_PACKAGES = ("mlflow", "xgboost", "scikit-learn", "pandas", "numpy", "joblib")
_log = logging.getLogger(__name__)


# -- contract as MLflow sees it ---------------------------------------------------------------


def signature(contract: InputContract) -> ModelSignature:
    """role_family (string, required), request_id (string, optional), every number a double;
    rater_ids (string, optional) when the model adjusts scores for their raters.

    All fields are optional to MLflow: which ones a row needs depends on its role family,
    and the pyfunc checks that per row with a message MLflow could not give.
    """
    inputs = [ColSpec("string", ROLE_FAMILY), ColSpec("string", REQUEST_ID, required=False)]
    if contract.adjusted:
        inputs.append(ColSpec("string", RATER_IDS, required=False))
    for name, f in contract.accepted.specs.items():  # never the derived (adjusted) fields
        inputs.append(ColSpec("string" if f.kind == "category" else "double", name,
                              required=False))
    detail = Object([Property("dimension", "string"), Property("log_odds", "double"),
                     Property("direction", "string"), Property("size", "string")])
    outputs = [ColSpec("string", "request_id"), ColSpec("double", "probability"),
               ColSpec("double", "score"), ColSpec("string", "band"),
               ColSpec("string", "reasons"), ColSpec(Array(detail), "reason_details"),
               ColSpec("string", "model_version")]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def example_input(contract: InputContract) -> pd.DataFrame:
    """One valid row per role family: each required field at the middle of its range."""
    rows = []
    for i, family in enumerate(contract.families):
        row: dict[str, Any] = {ROLE_FAMILY: family, REQUEST_ID: f"example-{i + 1}"}
        for f in (contract.accepted.specs[n] for n in contract.accepted.required[family]):
            if f.kind == "category":
                row[f.name] = f.categories[len(f.categories) // 2]
            else:
                high = f.high if f.high is not None else f.low + 10
                row[f.name] = float(round((f.low + high) / 2))
        rows.append(row)
    return pd.DataFrame(rows)


# -- scoring -----------------------------------------------------------------------------------


def reasons(contributions: pd.DataFrame, top: int = N_REASONS) -> list[str]:
    """Per row, the `top` largest contributions by size, summed per human dimension name.

    interviewer_communication and ai_communication both speak for "communication"; the
    bias term and the role family (the family's base rate, nothing about the candidate) are
    no reasons. Values are SHAP contributions in log-odds, signed.
    """
    return reason_texts(contributions.to_numpy(dtype="float64"),
                        [str(c) for c in contributions.columns], top)


@functools.lru_cache(maxsize=64)
def _reason_groups(columns: tuple[str, ...]) -> tuple[list[str], list[list[int]]]:
    """Reason names (in order of first appearance) and the column positions summed into each."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        if c.lower() in _NOT_REASONS or c.startswith(f"{ROLE_FAMILY}="):
            continue
        groups.setdefault(reason_label(c), []).append(i)
    return list(groups), list(groups.values())


@functools.lru_cache(maxsize=64)
def _reason_plan(columns: tuple[str, ...]):
    """`_reason_groups` as index arrays: each group's first column, the groups with a second
    column (group, column), and the groups of three or more (summed one by one)."""
    names, members = _reason_groups(columns)
    first = np.array([m[0] for m in members], dtype=np.intp)
    pairs = [(g, m[1]) for g, m in enumerate(members) if len(m) == 2]
    second = (np.array([g for g, _ in pairs], dtype=np.intp),
              np.array([i for _, i in pairs], dtype=np.intp))
    longer = [g for g, m in enumerate(members) if len(m) > 2]
    return names, members, first, second, longer


@functools.lru_cache(maxsize=64)
def _name_ranks(names: tuple[str, ...]) -> np.ndarray:
    """Each name's rank in alphabetical order (the tie-break of `rank_reasons`)."""
    return np.argsort(np.argsort(np.asarray(names, dtype=str)))


def rank_reasons(values: np.ndarray, names: Sequence[str], top: int) -> np.ndarray:
    """Column indices of the `top` largest |contributions| per row.

    Ties (to 1e-9, far below the displayed precision) go to the dimension name, so a row
    gets the same reasons whichever columns the request happened to carry.
    """
    by_name = _name_ranks(tuple(names))
    rounded = -np.round(np.abs(values), 9)
    keys = np.broadcast_to(by_name, values.shape)
    return np.lexsort((keys, rounded), axis=1)[:, :top]


def reason_texts(values: np.ndarray, columns: Sequence[str], top: int = N_REASONS
                 ) -> list[str]:
    """`reasons` for a float64 array (rows x columns) with its column names."""
    return reason_parts(values, columns, top)[0]


def reason_parts(values: np.ndarray, columns: Sequence[str], top: int = N_REASONS
                 ) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """`reasons` and `reason_details` (same reasons, same order) for a float64 array (rows x
    columns) with its column names.

    A dimension's columns are added in column order with the compensated (Kahan) sum that
    pandas' groupby uses, so the figures match the frame version to the last bit.
    """
    names, members, first, second, longer = _reason_plan(tuple(columns))
    # Kahan on one or two values is exactly (0 + a) + b: done for all such groups at once
    grouped = values[:, first] + 0.0
    if len(second[0]):
        grouped[:, second[0]] += values[:, second[1]]
    for g in longer:
        total = np.zeros(values.shape[0])
        comp = np.zeros(values.shape[0])
        for i in members[g]:
            y = values[:, i] - comp
            t = total + y
            comp = t - total - y
            comp[comp != comp] = 0.0
            total = t
        grouped[:, g] = total
    order = rank_reasons(grouped, names, top).tolist()
    texts, details = [], []
    for row, idx in zip(grouped.tolist(), order, strict=True):
        kept = [(names[j], row[j]) for j in idx if row[j] != 0 or len(idx) == 1]
        texts.append("; ".join(f"{name} {v:+.2f}" for name, v in kept))
        details.append([reason_detail(name, v) for name, v in kept])
    return texts, details


def score_columns(model: Any, clean: pd.DataFrame | CleanRows, model_version: str
                  ) -> dict[str, np.ndarray]:
    """Score validated rows (from `validate` or `validate_rows`): the response as arrays,
    one per OUTPUT_COLUMNS name, rows in request order.

    A model with `score` (HireloopModel) gives probability, band and contributions in one
    pass over arrays; any other model is asked for each in turn, with a DataFrame.
    """
    scoring = getattr(model, "score", None)
    if callable(scoring):
        scored = scoring(clean)
        proba, bands = np.asarray(scored.proba, dtype="float64"), scored.band
        contributions = (scored.contributions, scored.columns)
    else:
        if isinstance(clean, CleanRows):
            clean = clean.frame()
        proba, bands = np.asarray(model.predict_proba(clean), dtype="float64"), None
        contributions = None
    if proba.shape != (len(clean),) or not np.isfinite(proba).all():
        raise MlflowException("the model produced no finite probability for some row",
                              error_code=INTERNAL_ERROR)
    proba = np.clip(proba, 0.0, 1.0)
    if bands is None:
        bands = model.band(clean, proba)
    if contributions is None:
        frame = model.contributions(clean)
        contributions = (frame.to_numpy(dtype="float64"), [str(c) for c in frame.columns])
    ids = np.array(clean[REQUEST_ID], dtype=object)
    missing = pd.isna(ids)
    ids[missing] = [uuid.uuid4().hex for _ in range(int(missing.sum()))]
    texts, details = reason_parts(*contributions)
    details_column = np.empty(len(ids), dtype=object)  # one list per row, never a 2-d array
    for i, row_details in enumerate(details):
        details_column[i] = row_details
    columns = (ids, proba, 100.0 * proba, np.asarray(bands, dtype=object),
               np.array(texts, dtype=object), details_column,
               np.full(len(ids), model_version, dtype=object))
    return dict(zip(OUTPUT_COLUMNS, columns, strict=True))


def score_frame(model: Any, clean: pd.DataFrame | CleanRows, model_version: str
                ) -> pd.DataFrame:
    """`score_columns` as a DataFrame (columns OUTPUT_COLUMNS): batch scoring's form."""
    return pd.DataFrame(score_columns(model, clean, model_version), copy=False)


def score_records(model: Any, clean: pd.DataFrame | CleanRows, model_version: str
                  ) -> list[dict[str, Any]]:
    """`score_columns` as one dict per row (keys OUTPUT_COLUMNS, plain Python values): what
    the served pyfunc returns. MLflow's scoring server hands a list to `json.dump` as it
    is, where a DataFrame first goes through `to_dict(orient="records")`; the response
    body is the same, the list is an order of magnitude cheaper for a request's few rows.
    """
    columns = score_columns(model, clean, model_version)
    values = [columns[name].tolist() for name in OUTPUT_COLUMNS]
    return [dict(zip(OUTPUT_COLUMNS, row, strict=True)) for row in zip(*values, strict=True)]


def inference_records(scores: pd.DataFrame | Sequence[Mapping[str, Any]],
                      hashes: Sequence[str], scored_at: datetime,
                      candidate_pseudonyms: Sequence[str | None] | None = None
                      ) -> list[dict[str, Any]]:
    """The inference-log lines for scored rows (`score_records` or `score_frame`), the shape
    monitoring.scoring_log ingests; `candidate_pseudonyms` when the request named its
    candidates (the interview-records route), so scores join to outcomes later."""
    at = scored_at.isoformat()
    rows = scores.to_dict(orient="records") if isinstance(scores, pd.DataFrame) else scores
    who = candidate_pseudonyms if candidate_pseudonyms is not None else [None] * len(hashes)
    out = []
    for row, h, candidate in zip(rows, hashes, who, strict=True):
        line = {"request_id": row["request_id"], "model_version": row["model_version"],
                "input_hash": h, "probability": float(row["probability"]),
                "band": row["band"], "scored_at": at}
        if candidate is not None:
            line["candidate_pseudonym"] = candidate
        out.append(line)
    return out


def append_inference_log(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    """Append records as JSON lines: O_APPEND, an exclusive lock and one write per batch, so
    lines from several server workers never interleave and a reader never sees half a batch
    except as a trailing line without its newline (which the ingester leaves for later).
    """
    if not records:
        return
    data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o640)
    except FileNotFoundError:  # the first line: make the folder (not checked per request)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)  # closing releases the lock


# -- the pyfunc --------------------------------------------------------------------------------


def _import(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def resolve_model_version(config: Mapping[str, Any]) -> str:
    """The registered version serving this model, as the registry knows it.

    The version number does not exist when the model is logged (registration follows), so
    it is looked up from the run that logged it; `model_config["model_version"]` overrides.
    Without a registry (a model loaded from a path) it is "run:<run id>".
    """
    if config.get("model_version"):
        return str(config["model_version"])
    run_id = str(config.get("run_id") or "")
    if not run_id:
        return "unregistered"
    try:
        found = mlflow.MlflowClient().search_model_versions(f"run_id = '{run_id}'")
    except Exception as exc:  # no registry reachable: still serve, say so in the version
        _log.warning("could not look up the registered version of run %s: %s", run_id, exc)
        found = []
    name = config.get("model_name")
    mine = [v for v in found if v.name == name] or found
    if len({(v.name, v.version) for v in mine}) == 1:
        return str(mine[0].version)
    return f"run:{run_id}"


def inference_log_path(config: Mapping[str, Any], environ: Mapping[str, str]) -> Path | None:
    """model_config "inference_log" (in-process callers), else HIRELOOP_INFERENCE_LOG."""
    chosen = config.get("inference_log") or environ.get(INFERENCE_LOG_ENV) or ""
    return Path(chosen) if chosen else None


def _single_threaded(model: Any) -> None:
    """One XGBoost thread per request: a request holds a few rows, where thread start-up
    costs more than it saves (measured: SHAP for one row 2.7 ms with 2 threads, 0.4 ms with
    one); the server scales with `--workers` instead."""
    if callable(getattr(model, "single_threaded", None)):
        model.single_threaded()
        return
    for fam in getattr(model, "families", {}).values():
        booster = getattr(fam, "booster", None)
        if booster is not None and hasattr(booster, "get_booster"):
            booster.set_params(n_jobs=1)
            booster.get_booster().set_param({"nthread": 1})


class HireloopPyfunc(mlflow.pyfunc.PythonModel):
    """`HireloopModel` behind MLflow's pyfunc interface, with its own input checks."""

    def load_context(self, context) -> None:
        config = dict(context.model_config or {})
        model_class = _import(config.get("model_class") or "ml.model:HireloopModel")
        self.model = model_class.load(Path(context.artifacts[MODEL_ARTIFACT]))
        _single_threaded(self.model)
        self.contract = contract_of(self.model)
        self.max_rows = int(config.get("max_batch_rows") or DEFAULT_MAX_ROWS)
        self.model_version = resolve_model_version(config)
        # The served pyfunc's one window on its starter: see the module docstring.
        self.log_path = inference_log_path(config, os.environ)

    # `model_input` is annotated: MLflow checks the annotation when this class is defined
    # (PythonModel.__init_subclass__, in every process that imports this module: the CLI,
    # the Dagster code server, the scoring server) and, without one, warns "Add type hints
    # to the `predict` method" from inside its own `catch_warnings` block, which overrides
    # any filter of ours. A DataFrame annotation is one MLflow infers no schema from: the
    # explicit signature stays in force and the rows are still checked here.
    def predict(self, context, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One dict per row, keys OUTPUT_COLUMNS (`score_records`; `pd.DataFrame(...)` of it
        is the response as a table)."""
        try:
            clean = validate_rows(model_input, self.contract, self.max_rows)
        except InputError as exc:
            raise MlflowException("; ".join(map(str, exc.problems)),
                                  error_code=INVALID_PARAMETER_VALUE) from None
        return self._scored(clean, self.contract, None)

    def score_rows(self, rows: Sequence[Mapping[str, Any]],
                   rater_offsets: RaterOffsets | None = None) -> list[dict[str, Any]]:
        """`predict` for rows as parsed from the request's JSON (the endpoint's layer, which
        has them): the same checks, scores, reasons and log, no DataFrame on the way.
        `rater_offsets` (the offsets in force, from the serving context) replace the ones
        frozen with the version for the raters a row lists. Raises InputError listing
        every problem."""
        contract = self.contract
        if rater_offsets is not None and contract.rater_offsets is not None:
            contract = dataclasses.replace(contract, rater_offsets=rater_offsets)
        clean = validate_rows(rows, contract, self.max_rows)
        return self._scored(clean, contract, None)

    @functools.cached_property
    def feature_contract(self) -> InputContract:
        """The contract of feature-store rows (rater-adjusted scores given, no rater_ids)."""
        return self.contract.feature_rows()

    def score_features(self, rows: Sequence[Mapping[str, Any]],
                       candidate_pseudonyms: Sequence[str]) -> list[dict[str, Any]]:
        """Score feature-store rows derived from interview records (ml.interview_records,
        called by the endpoint's layer), logging each score with its candidate's pseudonym.
        Raises InputError listing every problem (`feature_contract`'s check)."""
        clean = validate_rows(rows, self.feature_contract, self.max_rows)
        return self._scored(clean, self.feature_contract, candidate_pseudonyms)

    def _scored(self, clean: CleanRows, contract: InputContract,
                candidates: Sequence[str] | None) -> list[dict[str, Any]]:
        scored_at = datetime.now(UTC)
        scores = score_records(self.model, clean, self.model_version)
        if self.log_path is not None:
            records = inference_records(scores, input_hashes(clean, contract), scored_at,
                                        candidates)
            try:
                append_inference_log(self.log_path, records)
            except OSError as exc:  # unlogged scores are not handed out
                raise MlflowException(f"could not append to the inference log: {exc}",
                                      error_code=INTERNAL_ERROR) from None
        return scores


def contract_of(model: Any) -> InputContract:
    """The input contract of a HireloopModel (its families' features and required inputs)."""
    levels = getattr(model, "education_levels", None)
    if levels:
        return InputContract.from_model(model.families, levels, offsets_of(model))
    return InputContract.from_model(model.families, rater_offsets=offsets_of(model))


def _pip_requirements() -> list[str]:
    reqs = []
    for pkg in _PIP_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            reqs.append(f"{pkg}=={importlib.metadata.version(pkg)}")
    return reqs


def log_pyfunc(
    model: Any,
    artifact_path: str = "model",
    *,
    model_name: str = "hireloop-kpi",
    max_batch_rows: int = DEFAULT_MAX_ROWS,
    input_example: pd.DataFrame | None = None,
    record_rules: RecordRules | None = None,
) -> mlflow.models.model.ModelInfo:
    """Log `model` as the serving pyfunc into the active MLflow run; returns its ModelInfo.

    The `ml` package travels as code_paths, so the model loads from the artifact alone
    (`mlflow.pyfunc.load_model`, as MLflow's scoring app does). `model_name` only helps the
    pyfunc find its own registered version when it is loaded.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_pyfunc needs an active MLflow run")
    contract = contract_of(model)
    example = example_input(contract) if input_example is None else input_example
    cls = type(model)
    config = {
        "model_class": f"{cls.__module__}:{cls.__qualname__}",
        "max_batch_rows": int(max_batch_rows),
        "model_name": model_name,
        "run_id": run.info.run_id,
        "model_version": "",
        "inference_log": "",
    }
    # the integrator's contract, with the run (the version number is given at registration:
    # `hireloop endpoint-schema` and the served /openapi.json carry it in info.version);
    # with the record rules, the interview-records routes too
    document = endpoint_schema(contract, int(max_batch_rows), f"run {run.info.run_id}",
                               model_name)
    if record_rules is not None:
        document = add_records_routes(document, record_rules)
    mlflow.log_dict(document, SCHEMA_ARTIFACT)
    with tempfile.TemporaryDirectory(prefix="hireloop_pyfunc_") as tmp:
        saved = Path(tmp) / MODEL_ARTIFACT
        model.save(saved)
        return mlflow.pyfunc.log_model(
            name=artifact_path,
            python_model=HireloopPyfunc(),
            artifacts={MODEL_ARTIFACT: str(saved)},
            code_paths=[str(Path(__file__).resolve().parent)],
            model_config=config,
            signature=signature(contract),
            input_example=example,
            pip_requirements=_pip_requirements(),
        )

