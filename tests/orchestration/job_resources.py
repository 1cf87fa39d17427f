"""The resources an in-process job test binds: a copy of a built store, its own MLflow
database and artifact root, an endpoint on a free port (stopped afterwards) asking the
installation's token, and the store's pseudonym key in the environment (the interview tool's
ids and the endpoint it starts)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import mem_io_manager

from orchestration.dbt import dbt_resource
from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def job_resources(pg_server, home: Path, store, name: str, state: Path) -> Iterator[dict]:
    """Resources over a copy (`name`) of `store`'s database; `state` holds MLflow's artifacts
    and the endpoint's files."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HIRELOOP_PSEUDONYM_KEY", store.key.decode())
    runtime = HireloopRuntime(home=str(home), database=pg_server.copy_database(store.database,
                                                                                name))
    mlflow = MlflowResource(runtime=runtime, database=pg_server.create_database(f"mlflow_{name}"),
                            artifact_root=str(state / "mlflow"))
    endpoint = EndpointResource(home=str(state), port=free_port(),
                                token_file=str(runtime.settings.endpoint_token_file()))
    try:
        yield {"hireloop": runtime, "mlflow": mlflow, "endpoint": endpoint,
               "dbt": dbt_resource(), "io_manager": mem_io_manager}
    finally:
        endpoint.process(mlflow.tracking_uri).stop()
        patch.undo()
