"""What `hireloop ui` starts, read through each service's own API, as an operator's tools
would: the Dagster GraphQL API lists the loop's sensor and the ticks the daemon ran, the
Evidently UI lists the project, its snapshots and the dashboard's panels (and a panel's
series holds the recorded figure), the MLflow UI's REST API shows the champion alias, and
the endpoint serves it. One installation of its own (embedded PostgreSQL), free ports."""

from __future__ import annotations

import base64
import json
import time
import urllib.request

from monitoring.dashboard import FIGURES_KIND, column
from orchestration.sensors import RETRAIN_JOB, SENSOR_NAME
from tests.monitoring.loop_figures import stable_quarter
from tests.orchestration.test_ui import installations, wait_until  # noqa: F401 (fixture)

SENSOR_QUERY = """
query ($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor {
      name
      targets { pipelineName }
      sensorState { status ticks(limit: 10) { status skipReason runKeys } }
    }
  }
}"""


def _get(url: str, parse: bool = True, credentials: tuple[str, str] | None = None):
    request = urllib.request.Request(url)
    if credentials:  # basic auth (the MLflow UI's)
        token = base64.b64encode(":".join(credentials).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return response.status, json.loads(body or b"null") if parse else body


def _post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _sensor(dagster_url: str) -> dict:
    body = _post(f"{dagster_url}/graphql", {"query": SENSOR_QUERY, "variables": {"selector": {
        "repositoryLocationName": "hireloop", "repositoryName": "__repository__",
        "sensorName": SENSOR_NAME}}})
    return body["data"]["sensorOrError"]


def _champion(inst) -> str:
    """A registered version, made champion, in the installation's own MLflow."""
    import mlflow

    from ml.promotion import promote
    from ml.registry import register_version
    from orchestration.resources import HireloopRuntime, MlflowResource
    from tests.ml.conftest import log_constant_model

    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        target = MlflowResource(runtime=HireloopRuntime(home=str(inst.home))).target()
        version = str(register_version(target.client, log_constant_model(0.5), "model").version)
        promote(target.client, version, actor="test", why="ui api test")
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    return version


def test_each_ui_answers_through_its_api(installations):  # noqa: F811
    from orchestration.runtime import Runtime

    inst = installations("apis", embedded_pg=True)
    assert inst.cli("up").returncode == 0
    version = _champion(inst)
    conn = Runtime(inst.settings).up().connect("hireloop")
    conn.autocommit = True
    with conn.cursor() as cur:  # figures inside every threshold: the sensor records no_action
        stable_quarter(cur, "2025-04-01")
    endpoint, dagster, mlflow_ui, evidently = (f"http://127.0.0.1:{p}" for p in inst.ports)

    started = inst.cli("ui", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    for label, url in (("Dagster UI", dagster), ("MLflow UI", mlflow_ui),
                       ("Evidently UI", evidently)):
        assert f"{label}: {url} started" in started.stdout  # the addresses are printed
    assert f"scoring endpoint: {endpoint} started, serving version {version}" in started.stdout
    assert _get(f"{endpoint}/ping", parse=False)[0] == 200

    # Dagster: the daemon evaluates the sensor; its tick says no_action was recorded.
    def ticked() -> bool:
        state = _sensor(dagster)["sensorState"]
        return any("no_action recorded" in (t["skipReason"] or "") for t in state["ticks"])

    wait_until(ticked, limit=300)
    sensor = _sensor(dagster)
    assert sensor["__typename"] == "Sensor" and sensor["name"] == SENSOR_NAME
    assert sensor["sensorState"]["status"] == "RUNNING"
    assert [t["pipelineName"] for t in sensor["targets"]] == [RETRAIN_JOB]
    with conn.cursor() as cur:
        cur.execute("SELECT decision, quarter FROM monitoring.loop_decisions")
        assert cur.fetchall() == [("no_action", "2025-Q1")]
    conn.close()

    # MLflow: the registry's champion alias, through the UI server's REST API (its admin's).
    from orchestration.mlflow_auth import credentials

    status, body = _get(f"{mlflow_ui}/api/2.0/mlflow/registered-models/alias"
                        f"?name=hireloop-kpi&alias=champion",
                        credentials=credentials(inst.settings))
    assert status == 200 and body["model_version"]["version"] == version

    # Evidently: the project, the snapshots the sensor published, the panels, a series.
    status, projects = _get(f"{evidently}/api/projects")
    assert status == 200 and [p["name"] for p in projects] == ["hireloop"]
    project = projects[0]["id"]
    _get(f"{evidently}/api/projects/{project}/reload")  # snapshots written after its start
    snapshots = _get(f"{evidently}/api/projects/{project}/snapshots")[1]
    figures = [s for s in snapshots if s["metadata"].get("kind") == FIGURES_KIND]
    assert sorted(s["metadata"]["role_family"] for s in figures) == ["rnd", "sales"]
    assert {s["timestamp"][:10] for s in figures} == {"2025-04-01"}  # the as-of, not today
    dashboard = _get(f"{evidently}/api/v2/dashboards/{project}")[1]
    titles = {p["title"] for p in dashboard["panels"]}
    assert {"Feature drift share by role family", "AUC by role family (realised)",
            "Calibration error by role family", "KPI attainment by band",
            "Loop decisions"} <= titles
    drift_panel = next(p for p in dashboard["panels"]
                       if p["title"] == "Feature drift share by role family")
    sales = next(v for v in drift_panel["values"] if v["tags"] == ["sales"])
    series = _post(f"{evidently}/api/v2/snapshots/{project}/data_series_batch",
                   {"series_filter": [{k: sales[k] for k in
                                       ("tags", "metadata", "metric", "metric_labels")}]})
    assert [s["params"]["column"] for s in series["series"]] == [column("drift_share", "sales")]
    assert series["series"][0]["values"] == [1 / 32]  # what stable_quarter recorded

    down = inst.cli("down")
    assert down.returncode == 0, down.stderr
    for label in ("Evidently UI", "MLflow UI", "Dagster daemon", "scoring endpoint"):
        assert f"{label} stopped" in down.stdout
    time.sleep(0.5)
    inst.nothing_left([])
