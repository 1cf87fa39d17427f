"""MLflow's own floor: a pyfunc that answers a constant (MLflow "models from code").

Logged with the same signature as the model under test, so MLflow's parsing and schema
enforcement cost the same; only the model's own work is gone.
"""

import mlflow
import numpy as np
from mlflow.models import set_model


class ConstantModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return np.full(len(model_input), 0.5, dtype="float64")


set_model(ConstantModel())
