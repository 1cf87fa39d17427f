"""A sandbox ready for simulated quarters, for the tests that run them: a history built by
the real `build_feature_store` job, a quick champion trained, registered and served by the
real endpoint process, the definitions bound to its resources, an ephemeral instance."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dagster import DagsterInstance, Definitions, mem_io_manager

from ml.datasets import read_frame
from ml.deploy import ensure_champion_served
from ml.train import TrainConfig
from ml.training_pipeline import train_and_evaluate
from orchestration.assets.data_quality import DataQualityResource
from orchestration.dbt import dbt_resource
from orchestration.definitions import build_definitions
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
from orchestration.runs import execute
from tests.ml.conftest import register_champion
from tests.ml.test_endpoint import free_port

# Quick challengers (as tests/orchestration/test_retrain_job.py's): the wiring is tested.
QUICK_RETRAIN = {"ops": {"retrain_challengers": {"config": {
    "n_search": 2, "max_trees": 200, "early_stopping_rounds": 20,
    "strategies": ["per_family"], "make_figures": False}}}}


@dataclass
class Sandbox:
    database: str
    runtime: HireloopRuntime
    resources: dict[str, Any]
    defs: Definitions
    endpoint: EndpointResource
    instance: DagsterInstance
    champion: str
    pg_server: Any

    def read(self, sql: str) -> pd.DataFrame:
        conn = self.pg_server.endpoint.connect(self.database)
        try:
            return read_frame(conn, sql)
        finally:
            conn.close()


@contextlib.contextmanager
def served_sandbox(pg_server, hireloop_home, folder, name: str, history_n: int,
                   seed: int, history_end: str | None = None) -> Iterator[Sandbox]:
    """Build, train, register and serve; the endpoint stops on exit. `history_end` (ISO)
    ends the history earlier than HISTORY_END, leaving more quarters before today."""
    database = pg_server.create_database(name)
    runtime = HireloopRuntime(home=str(hireloop_home), database=database)
    settings = runtime.settings
    settings.pseudonym_key()  # the installation's key exists before the endpoint reads it
    key_file, token_file = settings.pseudonym_key_file(), settings.endpoint_token_file()
    endpoint = EndpointResource(home=str(folder / "endpoint"), port=free_port(),
                                ready_timeout_s=300,
                                pseudonym_key_file=str(key_file) if key_file else None,
                                token_file=str(token_file) if token_file else None)
    mlflow = MlflowResource(runtime=runtime, database=pg_server.create_database(f"{name}_ml"),
                            artifact_root=str(folder / "mlflow"))
    resources = {
        "hireloop": runtime, "dbt": dbt_resource(), "io_manager": mem_io_manager,
        "mlflow": mlflow, "endpoint": endpoint,
        "data_quality": DataQualityResource(docs_dir=str(folder / "docs"),
                                            min_rows_per_family=1)}
    defs = build_definitions(resources)
    with DagsterInstance.ephemeral() as instance:
        ingest: dict[str, Any] = {"candidates": history_n, "seed": seed}
        if history_end is not None:
            ingest["history_end"] = history_end
        built = execute(defs, "build_feature_store", instance,
                        {"ops": {"raw_hr_tables": {"config": ingest}}})
        assert built.success
        conn = pg_server.endpoint.connect(database)
        try:
            frame = read_frame(conn, "SELECT * FROM marts.fct_training_examples")
        finally:
            conn.close()
        # The training pipeline's own (quick) run: the monitor reads its version_info.
        model = train_and_evaluate(frame, TrainConfig(
            n_search=1, max_trees=40, early_stopping_rounds=10, refit=False,
            strategies=("per_family",), nthread=2), make_figures=False).model
        target = mlflow.target()
        register_champion(target.client, model, f"{name} test")
        process = endpoint.process(target.tracking_uri)
        served = ensure_champion_served(process, target.client, model_name=mlflow.model_name)
        assert served.get("ready"), served
        try:
            yield Sandbox(database, runtime, resources, defs, endpoint, instance,
                          served["champion"], pg_server)
        finally:
            process.stop()
