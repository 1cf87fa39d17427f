"""The serving pyfunc in process: scoring, its own input checks, reasons, inference log."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModelContext

from ml.pyfunc_model import (
    MODEL_ARTIFACT,
    OUTPUT_COLUMNS,
    HireloopPyfunc,
    append_inference_log,
    contract_of,
    log_pyfunc,
    reasons,
)
from ml.rater_offsets import adjusted_source
from ml.registry import register_version
from ml.scoring_input import (
    HASH_DECIMALS,
    InputContract,
    field_spec,
    input_hashes,
    validate,
)
from tests.ml.model_fixture import MODEL_CLASS, trained_model

BANDS = {"advance", "review", "hold"}


@pytest.fixture(scope="module")
def model(feature_store):
    return trained_model(feature_store)


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("saved") / MODEL_ARTIFACT
    model.save(path)
    return path


def make_pyfunc(saved: Path, **config) -> HireloopPyfunc:
    pyfunc = HireloopPyfunc()
    context = PythonModelContext(
        artifacts={MODEL_ARTIFACT: str(saved)},
        model_config={"model_class": MODEL_CLASS, "model_version": "7", **config},
    )
    pyfunc.load_context(context)
    return pyfunc


@pytest.fixture(scope="module")
def pyfunc(saved) -> HireloopPyfunc:
    return make_pyfunc(saved)


def scored(predict, rows: pd.DataFrame) -> pd.DataFrame:
    """A pyfunc's answer (one dict per row) as a table, after checking its shape: every
    OUTPUT_COLUMNS key in order, plain Python values that JSON takes as they are."""
    out = predict(rows)
    assert isinstance(out, list) and len(out) == len(rows)
    for row in out:
        assert list(row) == list(OUTPUT_COLUMNS)
        assert type(row["probability"]) is float and type(row["score"]) is float
        assert all(type(row[k]) is str for k in ("request_id", "band", "reasons",
                                                 "model_version"))
        assert type(row["reason_details"]) is list
        assert all(type(d) is dict and type(d["log_odds"]) is float
                   for d in row["reason_details"])
    return pd.DataFrame(out)


def valid_rows(model, n: int = 4, seed: int = 0) -> pd.DataFrame:
    """`n` rows cycling through the families, every field a family uses filled in range (for a
    rater-adjusted feature, its raw score: the endpoint derives the adjusted one)."""
    contract = contract_of(model)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        family = contract.families[i % len(contract.families)]
        row = {"role_family": family, "request_id": f"req-{i}"}
        for feature in model.families[family].features:
            name = adjusted_source(feature) or feature
            if name in row:
                continue
            spec = field_spec(name)
            high = spec.high if spec.high is not None else 600.0
            value = rng.uniform(spec.low, high)
            row[name] = float(round(value)) if spec.kind == "count" else float(value)
        rows.append(row)
    return pd.DataFrame(rows)


def test_valid_rows_score_with_every_field(model, pyfunc):
    rows = valid_rows(model, 8)
    rows.loc[5, "request_id"] = None
    out = scored(lambda r: pyfunc.predict(None, r), rows)
    assert list(out.columns) == list(OUTPUT_COLUMNS) and len(out) == len(rows)
    p = out["probability"].to_numpy(dtype=float)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p, model.predict_proba(validate(rows, pyfunc.contract, 100)))
    np.testing.assert_allclose(out["score"], 100 * p)
    for family, band, prob in zip(rows["role_family"], out["band"], p, strict=True):
        t = model.families[family].thresholds
        expected = "advance" if prob >= t["advance"] else "review" if prob >= t["review"] else (
            "hold")
        assert band == expected and band in BANDS
    assert out.loc[[0, 1, 7], "request_id"].tolist() == ["req-0", "req-1", "req-7"]
    assert len(out.loc[5, "request_id"]) == 32  # generated
    assert set(out["model_version"]) == {"7"}
    labels = {field_spec(c).label for f in model.families.values() for c in f.features}
    for text in out["reasons"]:
        parts = [r.rsplit(" ", 1) for r in text.split("; ")]
        assert 1 <= len(parts) <= 3
        assert all(name in labels and value[0] in "+-" for name, value in parts)


def test_optional_fields_may_be_null_or_absent_and_extra_fields_are_refused(model, pyfunc):
    rows = valid_rows(model, 4)
    predict = lambda r: pyfunc.predict(None, r)  # noqa: E731
    base = scored(predict, rows)
    optional = {c for f in model.families.values() for c in f.features} - {
        c for f in model.families.values() for c in f.required}
    assert optional, "the model should have optional inputs to test"
    nulled = rows.copy()
    nulled[sorted(optional)[0]] = None
    assert len(pyfunc.predict(None, nulled)) == 4
    dropped = scored(predict, rows.drop(columns=sorted(optional)))
    assert dropped["probability"].notna().all()
    assert scored(predict, rows)["probability"].tolist() == base["probability"].tolist()
    with pytest.raises(MlflowException, match="'shoe_size' is not an input") as err:
        predict(rows.assign(shoe_size=44, notes="great"))
    assert "'notes' is not an input" in str(err.value) and "great" not in str(err.value)


def _required_of(model, family: str) -> str:
    """A field `family` requires, preferably one that other families do not."""
    others = {c for f, m in model.families.items() if f != family for c in m.required}
    mine = model.families[family].required
    return next((c for c in mine if c not in others), mine[0])


# (case id, mutation(frame, model) -> frame, field named, row named)
def _set(col, value, row=2):
    def mutate(frame, model):
        frame = frame.astype(object) if not isinstance(value, float) else frame
        frame.loc[row, col] = value
        return frame
    return mutate


def _drop_required(frame, model):
    return frame.drop(columns=[_required_of(model, "sales")])


def _null_required(value):
    def mutate(frame, model):
        frame = frame.astype(object)
        frame.loc[2, _required_of(model, frame.loc[2, "role_family"])] = value
        return frame
    return mutate


def _score_col(model) -> str:
    return next(c for c in model.families["sales"].required if c.startswith("interviewer_"))


def _set_score(value):
    def mutate(frame, model):
        frame = frame.astype(object)
        frame.loc[2, _score_col(model)] = value
        return frame
    return mutate


CASES = [
    ("unknown family", _set("role_family", "legal"), "role_family", 2),
    ("null family", _set("role_family", None), "role_family", 2),
    ("numeric family", _set("role_family", 3), "role_family", 2),
    ("missing family", lambda f, m: f.drop(columns=["role_family"]), "role_family", 0),
    ("score above range", _set_score(10.5), "score", 2),
    ("score below range", _set_score(-0.1), "score", 2),
    ("score infinite", _set_score(float("inf")), "score", 2),
    ("score a string", _set_score("high"), "score", 2),
    ("score a boolean", _set_score(True), "score", 2),
    ("rating out of range", _set("overall_rating_mean", 0.0), "overall_rating_mean", 2),
    ("negative response time", _set("mean_response_seconds", -3.0), "mean_response_seconds", 2),
    ("share above one", _set("key_kpi_scenario_answered_fully_share", 1.5),
     "key_kpi_scenario_answered_fully_share", 2),
    ("count not whole", _set("n_interviews", 2.5), "n_interviews", 2),
    ("negative experience", _set("years_experience", -1.0), "years_experience", 2),
    ("unknown education", _set("education", "none"), "education", 2),
    ("education a number", _set("education", 3), "education", 2),
    ("missing required field", _drop_required, "required", None),
    ("null required field", _null_required(None), "required", 2),
    ("NaN required field", _null_required(float("nan")), "required", 2),
    ("request id a number", _set("request_id", 12), "request_id", 2),
    ("request id too long", _set("request_id", "x" * 500), "request_id", 2),
]


def _sales_third(model) -> pd.DataFrame:
    """Three valid rows, the third a sales row, with the always-accepted background fields."""
    others = valid_rows(model, 2)
    sales = valid_rows(model, 8, seed=1).query("role_family == 'sales'").head(1)
    rows = pd.concat([others, sales], ignore_index=True)
    rows["education"] = "bachelor"
    rows["years_experience"] = 4.0
    return rows


@pytest.mark.parametrize(("mutate", "field", "row"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_rows_are_refused_naming_field_and_row(model, pyfunc, mutate, field, row):
    rows = mutate(_sales_third(model), model)
    if field == "score":
        field = _score_col(model)
    elif field == "required":
        field = _required_of(model, "sales")
    if row is None:  # the first row whose family requires the field
        row = next(i for i, fam in enumerate(rows["role_family"])
                   if field in model.families[fam].required)
    with pytest.raises(MlflowException) as caught:
        pyfunc.predict(None, rows)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.get_http_status_code() == 400
    assert repr(field) in caught.value.message and f"row {row}:" in caught.value.message


def test_empty_and_oversized_batches_are_refused(model, saved):
    small = make_pyfunc(saved, max_batch_rows=5)
    with pytest.raises(MlflowException, match="no rows") as caught:
        small.predict(None, valid_rows(model, 2).head(0))
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert len(small.predict(None, valid_rows(model, 5))) == 5
    with pytest.raises(MlflowException, match="6 rows exceeds the maximum of 5") as caught:
        small.predict(None, valid_rows(model, 6))
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_reasons_sum_a_dimension_over_raters_and_skip_the_bias():
    contributions = pd.DataFrame([
        {"interviewer_communication": 0.10, "ai_communication": 0.05,
         "interviewer_persuasion": -0.20, "overall_rating_mean": 0.01,
         "mean_response_seconds": 0.0, "bias": 5.0, "role_family": 0.9},
    ])
    assert reasons(contributions) == ["persuasion -0.20; communication +0.15; overall rating +0.01"]


def test_contract_refuses_a_feature_without_a_rule(model):
    fam = SimpleNamespace(features=["interviewer_logic", "shoe_size"],
                          required=["interviewer_logic"])
    with pytest.raises(KeyError, match="shoe_size"):
        InputContract.from_model({"rnd": fam})
    pooled = SimpleNamespace(features=["interviewer_logic", "role_family=rnd"],
                             required=["interviewer_logic"])
    assert "role_family=rnd" not in InputContract.from_model({"rnd": pooled}).names
    contract = contract_of(model)
    assert {"years_experience", "education"} <= set(contract.names)
    assert len(contract.names) == len(set(contract.names))


def test_input_hash_is_canonical(model, pyfunc):
    rows = valid_rows(model, 3)
    contract = pyfunc.contract
    base = input_hashes(validate(rows, contract, 10), contract)
    reordered = [*rows.columns[::-1]]
    other = rows.assign(request_id=["a", "b", "c"])[reordered]
    assert input_hashes(validate(other, contract, 10), contract) == base
    changed = rows.copy()
    changed.loc[1, _score_col(model)] = 9.0 if changed.loc[1, "role_family"] == "sales" else 0
    changed.loc[1, "overall_rating_mean"] = 1.0
    hashes = input_hashes(validate(changed, contract, 10), contract)
    assert hashes[0] == base[0] and hashes[2] == base[2] and hashes[1] != base[1]
    row = validate(rows, contract, 10).iloc[0]
    canon = {"role_family": row["role_family"]} | {
        k: round(float(row[k]), HASH_DECIMALS) for k in contract.names
        if k != "education" and not pd.isna(row[k])}
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    assert base[0] == hashlib.sha256(text.encode()).hexdigest()


def test_scores_are_appended_to_the_inference_log(model, saved, tmp_path):
    log = tmp_path / "logs" / "inference.jsonl"
    logging = make_pyfunc(saved, inference_log=str(log))
    rows = valid_rows(model, 3)
    first = scored(lambda r: logging.predict(None, r), rows)
    logging.predict(None, rows.head(1))
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == 4
    assert [x["request_id"] for x in lines] == ["req-0", "req-1", "req-2", "req-0"]
    assert lines[0]["probability"] == pytest.approx(first.loc[0, "probability"])
    assert lines[1]["band"] == first.loc[1, "band"] and lines[2]["model_version"] == "7"
    hashes = input_hashes(validate(rows, logging.contract, 10), logging.contract)
    assert [x["input_hash"] for x in lines[:3]] == hashes and lines[3]["input_hash"] == hashes[0]
    assert all(x["scored_at"].endswith("+00:00") for x in lines)


def _append_many(path: str, worker: int) -> None:
    for batch in range(40):
        records = [{"request_id": f"w{worker}-b{batch}-r{r}", "pad": "x" * 200}
                   for r in range(25)]
        append_inference_log(Path(path), records)


def test_concurrent_appends_never_interleave(tmp_path):
    log = tmp_path / "inference.jsonl"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(log), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b""
    ids = [json.loads(x)["request_id"] for x in lines[:-1]]
    assert len(ids) == len(set(ids)) == 4 * 40 * 25
    # a batch stays together: its 25 lines are contiguous
    starts = [i for i, x in enumerate(ids) if x.endswith("-r0")]
    assert all(ids[i + 24].endswith("-r24") and ids[i + 24].split("-r")[0] == ids[i].split("-r")[0]
               for i in starts)


def test_logged_pyfunc_loads_and_knows_its_registered_version(model, mlflow_target):
    with mlflow.start_run() as run:
        info = log_pyfunc(model, "model", model_name="hireloop-kpi-pyfunc-test")
    signature = info.signature
    inputs = {c.name: c for c in signature.inputs.inputs}
    assert inputs["role_family"].type.name == "string" and inputs["role_family"].required
    assert not inputs["request_id"].required
    numbers = [c for n, c in inputs.items() if n not in ("role_family", "request_id",
                                                        "education", "rater_ids")]
    assert numbers and all(c.type.name == "double" and not c.required for c in numbers)
    # the model adjusts scores for their raters: interviewer pseudonyms, one string
    assert inputs["rater_ids"].type.name == "string" and not inputs["rater_ids"].required
    assert {c.name for c in signature.outputs.inputs} == set(OUTPUT_COLUMNS)
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    assert (local / "code" / "ml" / "pyfunc_model.py").exists()
    assert mlflow.models.Model.load(str(local)).load_input_example(str(local)) is not None

    rows = valid_rows(model, 4)
    before = scored(mlflow.pyfunc.load_model(info.model_uri).predict, rows)
    assert set(before["model_version"]) == {f"run:{run.info.run_id}"}
    version = register_version(mlflow_target.client, run.info.run_id, "model",
                               model_name="hireloop-kpi-pyfunc-test")
    after = mlflow.pyfunc.load_model(f"models:/hireloop-kpi-pyfunc-test/{version.version}")
    again = scored(after.predict, rows)
    assert set(again["model_version"]) == {str(version.version)}
    np.testing.assert_allclose(again["probability"], before["probability"])
    # MLflow's own schema enforcement runs first in process too: a string score is refused
    bad = rows.astype(object)
    bad.loc[0, "overall_rating_mean"] = "high"
    with pytest.raises(MlflowException):
        after.predict(bad)


_SAVE_AND_LOAD = """
import sys
from pathlib import Path
import mlflow
from ml.model import HireloopModel
from ml.pyfunc_model import log_pyfunc
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment(experiment_id=sys.argv[2])
with mlflow.start_run():
    info = log_pyfunc(HireloopModel.load(Path(sys.argv[3])), "model")
loaded = mlflow.pyfunc.load_model(info.model_uri)
print("loaded", type(loaded).__name__)
"""


def test_logging_and_loading_the_pyfunc_prints_no_type_hint_warning(saved, mlflow_target):
    # A fresh process, every warning shown: MLflow warns when the class is defined (at
    # import), so only a new interpreter can see it; the filter it bypassed is gone.
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", _SAVE_AND_LOAD, mlflow_target.tracking_uri,
         mlflow_target.experiment_id, str(saved)],
        capture_output=True, text=True, timeout=600, check=False,
        cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded PyFuncModel" in done.stdout
    assert "type hints" not in done.stderr and "\x1b[33m" not in done.stderr
