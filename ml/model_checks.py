"""Checks a freshly trained model must pass before it is registered (a blocking gate).

A model that does not beat the interviewer's own rating adds nothing to the interview; a
NaN probability would reach a person as a score; a model without a signature is served
without MLflow's type checks. Each check returns a named pass / fail with the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature

from ml.scoring_input import REQUEST_ID, ROLE_FAMILY


@dataclass(frozen=True)
class ModelCheck:
    name: str
    passed: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)


def beats_rating_baseline(comparison: pd.DataFrame, model_column: str = "model",
                          baseline_column: str = "baseline_rating",
                          margin: float = 0.0) -> ModelCheck:
    """Holdout AUC (overall) of the model above the interviewer-rating baseline + margin."""
    model_auc = comparison.loc["overall", model_column]
    base_auc = comparison.loc["overall", baseline_column]
    figures = {"model_auc": float(model_auc), "baseline_auc": float(base_auc),
               "margin": margin}
    if pd.isna(model_auc) or pd.isna(base_auc):
        return ModelCheck("beats_rating_baseline", False, "holdout AUC missing", figures)
    passed = bool(model_auc > base_auc + margin)
    verb = "beats" if passed else "does not beat"
    return ModelCheck("beats_rating_baseline", passed,
                      f"holdout AUC {model_auc:.4f} {verb} the interviewer-rating baseline "
                      f"{base_auc:.4f} + margin {margin}", figures)


def finite_predictions(model: Any, rows: pd.DataFrame) -> ModelCheck:
    """Every probability on `rows` (the holdout) is a number in [0, 1]."""
    proba = np.asarray(model.predict_proba(rows), dtype=float)
    bad = int((~np.isfinite(proba)).sum()) + int(((proba < 0) | (proba > 1)).sum())
    passed = bad == 0 and len(proba) == len(rows) and len(rows) > 0
    detail = (f"{len(proba)} holdout predictions, all finite in [0, 1]" if passed
              else f"{bad} of {len(rows)} holdout predictions are NaN or outside [0, 1]")
    return ModelCheck("predicts_no_nan", passed, detail, {"rows": len(rows), "bad": bad})


def signature_problems(signature: ModelSignature | None) -> list[str]:
    """What is wrong with a logged signature for our endpoint (empty when it is right)."""
    if signature is None or signature.inputs is None:
        return ["the logged model has no input signature"]
    problems = []
    types = {spec.name: spec.type.name for spec in signature.inputs.inputs}
    if types.get(ROLE_FAMILY) != "string":
        problems.append(f"{ROLE_FAMILY} must be a string input, got {types.get(ROLE_FAMILY)}")
    for name, kind in types.items():
        if name in (ROLE_FAMILY, REQUEST_ID) or kind in ("double", "string"):
            continue
        problems.append(f"input {name!r} is {kind}: numbers must be double (nullable "
                        "integers drop the signature)")
    if signature.outputs is None:
        problems.append("the logged model has no output signature")
    return problems


def carries_signature(signature: ModelSignature | None) -> ModelCheck:
    problems = signature_problems(signature)
    n_inputs = len(signature.inputs.inputs) if signature and signature.inputs else 0
    detail = "; ".join(problems) or f"signature with {n_inputs} inputs (numbers as double)"
    return ModelCheck("carries_signature", not problems, detail, {"inputs": n_inputs})
