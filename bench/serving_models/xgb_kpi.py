"""A stand-in for the real endpoint model: XGBoost on role family + floats, inputs validated.

MLflow's scoring server lets NaN through and drops unknown columns, so the model checks
what reaches it: every feature finite, role family one of the four. Replace it with the
real `hireloop-kpi` model via `bench/serving.py --model-uri`.
"""

import json

import mlflow
import numpy as np
import xgboost as xgb
from mlflow.models import set_model

FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")


class XgbKpiModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.booster = xgb.Booster()
        self.booster.load_model(context.artifacts["booster"])
        self.booster.set_param({"nthread": 1})
        with open(context.artifacts["features"]) as fh:
            self.features = json.load(fh)
        self.families = np.array(FAMILIES, dtype=object)

    def predict(self, context, model_input, params=None):
        family = model_input["role_family"].to_numpy(dtype=object)
        known = np.isin(family, self.families)
        if not known.all():
            raise ValueError(f"unknown role_family: {sorted(set(family[~known]))}")
        values = model_input[self.features].to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise ValueError("every feature must be a finite number (no nulls)")
        onehot = (family[:, None] == self.families[None, :]).astype("float64")
        return self.booster.inplace_predict(np.hstack([onehot, values])).astype("float64")


set_model(XgbKpiModel())
