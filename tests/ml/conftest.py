"""MLflow on the session's real PostgreSQL: a fresh tracking database per test module."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature

from ml.registry import MlflowTarget, configure

CONSTANT_MODEL = Path(__file__).with_name("constant_model.py")
FEATURES = ["communication", "persuasion", "empathy"]


def example_frame(rows: int = 2) -> pd.DataFrame:
    """Role family as string, every number as float: the shape of the real signature."""
    frame = pd.DataFrame({"role_family": ["sales", "rnd"] * (rows // 2 + 1)}).head(rows)
    for i, name in enumerate(FEATURES):
        frame[name] = [float(i + r) for r in range(rows)]
    return frame


def log_constant_model(value: float, artifact_path: str = "model") -> str:
    """Log a constant pyfunc in a new run; returns the run id."""
    example = example_frame()
    signature = infer_signature(example, np.full(len(example), value, dtype="float64"))
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(
            name=artifact_path, python_model=str(CONSTANT_MODEL), model_config={"value": value},
            signature=signature, input_example=example, pip_requirements=[],
        )
    return run.info.run_id


def register_champion(client, model, why: str) -> str:
    """Log `model` as the serving pyfunc, register it and make it the champion: its version."""
    from ml.promotion import promote
    from ml.pyfunc_model import log_pyfunc
    from ml.registry import MODEL_NAME, register_version

    with mlflow.start_run() as run:
        log_pyfunc(model, "model", model_name=MODEL_NAME)
    version = register_version(client, run.info.run_id, "model")
    promote(client, version.version, actor="test", why=why)
    return str(version.version)


@pytest.fixture(scope="module")
def mlflow_target(pg_server, tmp_path_factory) -> MlflowTarget:
    database = pg_server.create_database("mlflow_test")
    artifacts = tmp_path_factory.mktemp("mlflow_artifacts")
    return configure(pg_server.url(database), artifacts)
