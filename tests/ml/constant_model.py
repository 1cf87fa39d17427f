"""A pyfunc (MLflow "models from code") answering a constant taken from its model_config.

Logged from this file, so the served artifact carries its own code: the scoring server
needs nothing from the test suite to load it.
"""

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import set_model


class ConstantModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.value = float(context.model_config["value"])

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return np.full(len(model_input), self.value, dtype="float64")


set_model(ConstantModel())
