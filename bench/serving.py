"""Benchmark: serving latency and throughput of the endpoint against its two floors.

Not a test. All targets in one run on one machine, same request bodies:
- endpoint: our ASGI layer around MLflow's scoring app (ml/scoring_app.py; for a hireloop
  pyfunc the layer scores checked rows through the pyfunc itself) serving the model
  under test (default: a small XGBoost pyfunc with input validation, trained here on
  random data; `--demo-model DIR` serves the real one: the HireloopModel saved in DIR, or,
  when DIR holds none, one trained there with `train_and_evaluate` on a demo-size store
  built by tests/simulated_store.py, logged with `log_pyfunc`; `--model-uri` plugs
  in a logged one, e.g. `models:/hireloop-kpi@champion` with `--tracking-uri`);
- MLflow floor: `mlflow models serve` (MLflow's own server, without our layer) of a pyfunc
  that returns a constant, logged with the model under test's signature;
- HTTP floor: a bare ASGI app under uvicorn that returns a constant;
- in process: `pyfunc.predict` and MLflow's whole `invocations()` handler, no HTTP;
- optionally (`--baseline-code DIR`, with `--demo-model`): the same model logged with the
  `ml` package of another checkout (e.g. `git archive HEAD ml | tar -x -C DIR`) and served
  by that package (its layer too), beside the endpoint and measured in the same
  alternating rounds, so a change to the serving code is compared under the same
  background load.

The ratios that count come from alternating rounds: `--runs` runs (fresh servers each) of
`--pairs` rounds in which every target takes its turn with one-row requests, so background
load on a shared machine hits them alike; a run's figure is the median of its rounds' p50s,
the one reported the median over runs. With `--demo-model` the endpoint also serves the
interview-records route (`POST /candidates/score`, ml/records_route.py) with the demo
store's serving context and pseudonym key, and the rounds include a records cell: one real
waiting candidate of the store (three interviews, the score count closest to twenty), as
the interview tool sends it (hris.ats_requests, HR-system ids). Each run ends with
aggregated and records requests at concurrency 32, every answer but 200 counted (5xx
apart). Both requests are timed in process through our layer, the records one phase by
phase and under cProfile.

The endpoints serve as deployed: every scored row is appended to an inference log
(`HIRELOOP_INFERENCE_LOG`, a file in the run's temporary folder). Requests carry
`rater_ids` when the signature has the field (three interviewer pseudonyms, known to the
model where it knows any), as the interview tool sends them.

Load comes from one separate process (threads, one keep-alive `http.client` connection
each, loopback only), pinned with `sched_setaffinity` to the last core; servers are pinned
to the other cores. Every cell is bounded by a request count and a time limit. The load
generator's own CPU use is reported next to each row: near 100 % means it, not the server,
set the pace.

    python bench/serving.py                    # ~8 minutes on 2 cores
    python bench/serving.py --demo-model /tmp/hireloop_demo_model   # + ~1 min to train once
    python bench/serving.py --model-uri models:/hireloop-kpi@champion --tracking-uri ...
    python bench/serving.py --demo-model /tmp/hireloop_demo_model --baseline-code /tmp/base
    python bench/serving.py --demo-model /tmp/hireloop_demo_model --pairs-only  # the ratios
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import http.client
import io
import json
import multiprocessing as mp
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.update({"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"})

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402

from ml import endpoint_launch  # noqa: E402
from ml.bearer_token import bearer_header  # noqa: E402
from ml.endpoint_launch import ServeSpec  # noqa: E402
from ml.pyfunc_model import INFERENCE_LOG_ENV  # noqa: E402
from orchestration.config import Settings  # noqa: E402
from orchestration.services import EndpointProcess  # noqa: E402
from orchestration.supervisor import Launch, Service, Supervisor  # noqa: E402

BENCH = Path(__file__).resolve().parent
FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")
N_FEATURES = 15
STORM_WARMUP = 64  # requests before the timed part of a concurrency-32 run (2 a thread)


# -- models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordsFixture:
    """What the interview-records cell needs: the serving context and the pseudonym key the
    endpoint starts with, and one waiting candidate's records, as the interview tool sends
    them (HR-system ids, built by hris.ats_requests from the export's raw tables)."""

    context: Path
    key_file: Path
    body: bytes
    interviews: int
    scores: int
    answers: int


def demo_model(folder: Path, model_dir: Path, home: Path, candidates: int, seed: int
               ) -> tuple[str, str, RecordsFixture]:
    """(model URI, tracking URI, records fixture) of the real pyfunc, logged with
    `log_pyfunc` into a throwaway tracking store under `folder`.

    The HireloopModel and the records fixture come from `model_dir`; when it holds either
    not, a demo-size feature store is built (simulate -> raw -> dbt, embedded PostgreSQL
    under `home`): the model is trained there with `train_and_evaluate` and saved, and the
    store's serving context, key and one waiting candidate's records are written beside it
    (`records/`), so later runs (and a run of an older checkout) serve the very same model
    and send the very same request. Delete the folder to rebuild both.
    """
    import mlflow

    from ml.model import HireloopModel
    from ml.pyfunc_model import log_pyfunc
    from ml.registry import configure

    records_dir = model_dir / "records"
    if not (model_dir / "model.json").exists() or not (records_dir / "request.json").exists():
        from orchestration.config import Settings, disable_telemetry
        from orchestration.runtime import Runtime
        from tests.simulated_store import build_store

        disable_telemetry()
        endpoint = Runtime(Settings(home=home)).up()
        t0 = time.perf_counter()
        store = build_store(endpoint, f"serving_demo_{candidates}", candidates, seed)
        if not (model_dir / "model.json").exists():
            from ml.training_pipeline import train_and_evaluate

            frame = store.read("select * from marts.fct_training_examples")
            result = train_and_evaluate(frame, make_figures=False)
            result.model.save(model_dir)
            print(f"trained the demo model ({candidates} applicants, {len(frame)} hires, "
                  f"strategy {result.model.version_info.get('strategy')}) in "
                  f"{time.perf_counter() - t0:.0f} s; saved to {model_dir}", file=sys.stderr)
        write_records_fixture(store, records_dir)
    fixture = read_records_fixture(records_dir)
    tracking_uri = f"sqlite:///{folder / 'tracking.db'}"
    configure(tracking_uri, folder / "artifacts", experiment="bench-serving")
    with mlflow.start_run():
        info = log_pyfunc(HireloopModel.load(model_dir), "model")
    return info.model_uri, tracking_uri, fixture


def write_records_fixture(store, folder: Path, interviews: int = 3, scores: int = 20) -> None:
    """The store's serving context and key, and the records of the waiting candidate
    (marts.fct_candidates_to_score) with `interviews` interviews whose score count is
    closest to `scores` (ties: the smallest id), into `folder`."""
    from hris.ats_requests import candidate_requests
    from orchestration.serving_context import refresh_serving_context

    folder.mkdir(parents=True, exist_ok=True)
    conn = store.connect()
    try:
        refresh_serving_context(conn, store.key, folder / "context.json",
                                f"bench store {store.database}")
    finally:
        conn.close()
    (folder / "pseudonym.key").write_bytes(store.key)
    raw = store.sim.raw
    waiting = set(store.read("select candidate_id from marts.fct_candidates_to_score")
                  ["candidate_id"])
    raw_ids = [raw_id for raw_id, p in store.pseudonyms().items() if p in waiting]
    ivs = raw["interviews"][raw["interviews"]["candidate_id"].isin(raw_ids)]
    n_iv = ivs.groupby("candidate_id")["interview_id"].nunique()
    per_iv = raw["interview_scores"].groupby("interview_id").size()
    n_sc = ivs.assign(n=ivs["interview_id"].map(per_iv).fillna(0)).groupby("candidate_id")["n"]
    table = pd.DataFrame({"interviews": n_iv, "scores": n_sc.sum()})
    table = table[table["interviews"] == interviews]
    if table.empty:
        raise SystemExit(f"no waiting candidate has {interviews} interviews in this store")
    table["gap"] = (table["scores"] - scores).abs()
    chosen = str(table.sort_values(["gap"], kind="stable").index[0])
    request = candidate_requests(raw, [chosen])[0]
    (folder / "request.json").write_text(json.dumps({"candidates": [request]}, indent=1))


def read_records_fixture(folder: Path) -> RecordsFixture:
    body = (folder / "request.json").read_bytes()
    [candidate] = json.loads(body)["candidates"]
    interviews = candidate["interviews"]
    return RecordsFixture(
        folder / "context.json", folder / "pseudonym.key",
        json.dumps(json.loads(body), separators=(",", ":")).encode(), len(interviews),
        sum(len(iv.get("scores", [])) for iv in interviews),
        sum(len(iv.get("answers", [])) for iv in interviews))


def baseline_model(code: Path, model_dir: Path, tracking_uri: str, folder: Path) -> str:
    """The model in `model_dir` logged with `log_pyfunc` from the checkout `code` (its own
    `ml` package travels as the pyfunc's code), into the same tracking store: URI."""
    script = (
        "import sys, mlflow\n"
        "from pathlib import Path\n"
        "from ml.model import HireloopModel\n"
        "from ml.pyfunc_model import log_pyfunc\n"
        "from ml.registry import configure\n"
        "configure(sys.argv[1], Path(sys.argv[2]), experiment='bench-serving-baseline')\n"
        "with mlflow.start_run():\n"
        "    info = log_pyfunc(HireloopModel.load(Path(sys.argv[3])), 'model')\n"
        "print(info.model_uri)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    out = subprocess.run([sys.executable, "-c", script, tracking_uri, str(folder / "baseline"),
                          str(model_dir)], cwd=code, env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode:
        raise SystemExit(f"could not log the baseline model from {code}:\n{out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def rater_pseudonyms(model_dir: Path | None, n: int = 3) -> str:
    """`n` interviewer pseudonyms, comma-separated: known to the model when it knows any."""
    known: list[str] = []
    if model_dir is not None and (model_dir / "model.json").exists():
        info = json.loads((model_dir / "model.json").read_text())["version_info"]
        known = sorted((info.get("rater_offsets") or {}).get("offsets") or {})
    ids = known[:n] or [f"{i:032x}" for i in range(1, n + 1)]
    return ",".join(ids)


def build_models(folder: Path, model_uri: str | None) -> tuple[str, str, pd.DataFrame]:
    """(endpoint model URI, constant model path, example rows with the endpoint's signature)."""
    import mlflow
    import xgboost as xgb
    from mlflow.models import infer_signature

    if model_uri:
        info = mlflow.models.get_model_info(model_uri)
        local = mlflow.artifacts.download_artifacts(model_uri, dst_path=str(folder / "target"))
        example = mlflow.models.Model.load(local).load_input_example(local)
        if example is None:
            raise SystemExit(f"{model_uri} has no input example to build requests from")
        signature, endpoint_uri = info.signature, local
    else:
        rng = np.random.default_rng(7)
        features = [f"f{i:02d}" for i in range(N_FEATURES)]
        n = 4000
        x = rng.normal(size=(n, N_FEATURES))
        family = rng.choice(FAMILIES, size=n)
        logit = x[:, 0] * 0.8 + x[:, 1] * 0.5 - x[:, 2] * 0.3 + (family == "sales") * 0.4
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        onehot = (family[:, None] == np.array(FAMILIES)[None, :]).astype(float)
        booster = xgb.train(
            {"max_depth": 4, "eta": 0.1, "objective": "binary:logistic", "nthread": 1},
            xgb.DMatrix(np.hstack([onehot, x]), label=y), num_boost_round=200,
        )
        booster.save_model(folder / "booster.json")
        (folder / "features.json").write_text(json.dumps(features))
        example = pd.DataFrame(x[:5], columns=features)
        example.insert(0, "role_family", family[:5])
        signature = infer_signature(example, np.zeros(len(example), dtype="float64"))
        endpoint_uri = str(folder / "xgb_kpi")
        mlflow.pyfunc.save_model(
            endpoint_uri, python_model=str(BENCH / "serving_models" / "xgb_kpi.py"),
            artifacts={"booster": str(folder / "booster.json"),
                       "features": str(folder / "features.json")},
            signature=signature, input_example=example, pip_requirements=[],
        )
    constant_path = str(folder / "constant")
    mlflow.pyfunc.save_model(
        constant_path, python_model=str(BENCH / "serving_models" / "constant.py"),
        signature=signature, input_example=example, pip_requirements=[],
    )
    return endpoint_uri, constant_path, example


def request_body(example: pd.DataFrame, rows: int) -> bytes:
    """`rows` example rows as `dataframe_split` JSON, absent values as null (the endpoint
    refuses NaN, which is not JSON)."""
    frame = pd.concat([example] * (rows // len(example) + 1), ignore_index=True).head(rows)
    split = frame.astype(object).where(frame.notna(), None).to_dict(orient="split", index=False)
    return json.dumps({"dataframe_split": split}, allow_nan=False).encode()


# -- load generator (its own process, its own core) ---------------------------------------


def _worker_loop(conn, core: int) -> None:
    os.sched_setaffinity(0, {core})
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_run_load(**job))


def _run_load(
    host: str, port: int, body: bytes, concurrency: int, requests: int, seconds: float,
    warmup: int, path: str = "/invocations", token: str | None = None,
) -> dict:
    """Latency and throughput of POSTing `body` to `path` (with the server's `token`, as
    every client sends it); `errors` counts every answer but 200 (warm-up included),
    `status_5xx` those of 500 and above."""
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)),
               **bearer_header(token)}
    per_thread = max(1, requests // concurrency)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    statuses: list[dict[int, int]] = [{} for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def one(conn: http.client.HTTPConnection, i: int) -> bool:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        statuses[i][resp.status] = statuses[i].get(resp.status, 0) + 1
        return resp.status == 200

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(max(1, warmup // concurrency)):
            errors[i] += not one(conn, i)
        barrier.wait()
        deadline = time.perf_counter() + seconds
        mine = latencies[i]
        for _ in range(per_thread):
            t0 = time.perf_counter()
            ok = one(conn, i)
            mine.append(time.perf_counter() - t0)
            errors[i] += not ok
            if t0 > deadline:
                break
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    flat = np.array([x for lat in latencies for x in lat])
    counts: dict[int, int] = {}
    for mine in statuses:
        for status, n in mine.items():
            counts[status] = counts.get(status, 0) + n
    return {
        "n": len(flat), "errors": sum(errors), "elapsed": elapsed, "statuses": counts,
        "status_5xx": sum(n for status, n in counts.items() if status >= 500),
        "p50_ms": float(np.percentile(flat, 50) * 1e3),
        "p99_ms": float(np.percentile(flat, 99) * 1e3),
        "rps": len(flat) / elapsed, "loadgen_cpu": cpu / elapsed,
    }


class LoadGenerator:
    def __init__(self, core: int):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_loop, args=(child, core), daemon=True)
        self.proc.start()

    def run(self, **job) -> dict:
        self.conn.send(job)
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(10)


# -- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


class Server:
    """A server process pinned to `cores` (set on this process; children inherit it).

    With `code` (a checkout), the endpoint runs that checkout's `ml` package, its layer
    included: first on the server's path, the server started in it. Our endpoint (kind
    "mlflow", this checkout) asks a token, as an installation's does (`token`); the floors
    and a baseline checkout (which may predate the option) ask none."""

    def __init__(self, kind: str, model: str | None, workers: int, cores: set[int],
                 state: Path, tracking_uri: str, records: RecordsFixture | None = None,
                 code: Path | None = None):
        self.port = free_port()
        self.kind = kind
        self.token: str | None = None
        own = os.sched_getaffinity(0)
        os.sched_setaffinity(0, cores)
        try:
            self.supervisor = Supervisor(state / f"serve-{self.port}")
            if kind == "bare":
                command = [Path(sys.executable).parent / "uvicorn", "--app-dir", BENCH,
                           "serving_floor_app:app", "--host", "127.0.0.1",
                           "--port", str(self.port), "--workers", str(workers)]
                bare = Service("bare", "bare uvicorn", lambda: Launch(command),
                               port=self.port, probe_path="/ping", ready_timeout_s=60)
                self.pid = self.supervisor.start(bare)[0].pid
                self.stop_name = "bare"
            else:
                token_file = (Settings(home=state / f"serve-{self.port}").endpoint_token_file()
                              if kind == "mlflow" and code is None else None)
                self.token = token_file.read_text().strip() if token_file else None
                spec = ServeSpec(
                    tracking_uri=tracking_uri, model_uri=model, port=self.port,
                    workers=workers, mlflow_only=kind == "mlflow-floor",
                    extra_env={INFERENCE_LOG_ENV: str(state / f"inference-{self.port}.jsonl")},
                    serving_context=str(records.context) if records else None,
                    pseudonym_key_file=str(records.key_file) if records else None,
                    token_file=str(token_file) if token_file else None,
                )
                process = EndpointProcess(self.supervisor, spec, ready_timeout_s=180)
                if code is None:
                    self.pid = process.start()["pid"]
                else:
                    env = endpoint_launch.child_env(spec, os.environ)
                    env["PYTHONPATH"] = os.pathsep.join([str(code.resolve()), env["PYTHONPATH"]])
                    launch = Launch(endpoint_launch.command(spec), env=env, cwd=code.resolve())
                    service = dataclasses.replace(process.service(), launch=lambda: launch)
                    self.pid = self.supervisor.start(service)[0].pid
                self.stop_name = "endpoint"
        finally:
            os.sched_setaffinity(0, own)

    def cpu(self) -> float:
        return _tree_cpu(self.pid)

    def stop(self) -> None:
        self.supervisor.stop(self.stop_name)


# -- measurement -------------------------------------------------------------------------


def measure_http(load: LoadGenerator, server: Server, bodies: dict[int, bytes], args) -> dict:
    """Latency (1 and 100 rows, one connection) and throughput (1 row, 1/8/32 connections)."""
    out: dict = {}
    job = {"host": "127.0.0.1", "port": server.port, "seconds": args.seconds,
           "token": server.token}
    loadgen_cpu, server_cpu = [], []
    cells = [(1, 1), (100, 1), (1, 8), (1, 32)]
    for rows, conc in cells:
        cpu0, t0 = server.cpu(), time.perf_counter()
        r = load.run(**job, body=bodies[rows], concurrency=conc, requests=args.requests,
                     warmup=max(20, 4 * conc))
        server_cpu.append((server.cpu() - cpu0) / (time.perf_counter() - t0))
        loadgen_cpu.append(r["loadgen_cpu"])
        if r["errors"]:
            raise SystemExit(f"{server.kind}: {r['errors']} failed requests")
        out[(rows, conc)] = r
    out["loadgen_cpu"] = max(loadgen_cpu)
    out["server_cpu"] = max(server_cpu)
    return out


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _pyfunc_steps(python_model, enforced, folder: Path, repeat: int) -> dict[str, list[float]]:
    """The served pyfunc's predict, step by step (one row): its input checks, the model
    (XGBoost margin + SHAP, linear base, calibration, bands), the reasons, the input hashes
    and the inference-log append."""
    from datetime import UTC, datetime

    from ml.pyfunc_model import (
        append_inference_log,
        inference_records,
        reason_texts,
        score_records,
    )
    from ml.scoring_input import input_hashes, validate_rows

    contract, model = python_model.contract, python_model.model
    clean = validate_rows(enforced, contract, 1000)
    scored = model.score(clean)
    records = score_records(model, clean, "bench")
    lines = inference_records(records, input_hashes(clean, contract), datetime.now(UTC))
    log = folder / "steps.jsonl"
    return {
        "  of which: input checks (validate_rows)": _timed(
            lambda: validate_rows(enforced, contract, 1000), repeat),
        "  of which: model.score (XGBoost margin + SHAP, linear base, calibration)": _timed(
            lambda: model.score(clean), repeat),
        "  of which: reasons (reason_texts)": _timed(
            lambda: reason_texts(scored.contributions, scored.columns), repeat),
        "  of which: input hashes": _timed(lambda: input_hashes(clean, contract), repeat),
        "  of which: inference-log append": _timed(
            lambda: append_inference_log(log, lines), repeat),
    }


def measure_in_process(model_uri: str, bodies: dict[int, bytes], cores: set[int],
                       repeat: int, folder: Path) -> tuple[dict, dict]:
    """pyfunc.predict and MLflow's invocations() in this process, plus a phase breakdown."""
    import mlflow
    from mlflow.models.utils import _enforce_schema
    from mlflow.pyfunc import scoring_server

    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        model = mlflow.pyfunc.load_model(model_uri)
        schema = model.metadata.get_input_schema()
        python_model = model.unwrap_python_model()
        ctype = "application/json"
        rows = {}
        for n, body in bodies.items():
            frame = scoring_server._parse_json_data(body, model.metadata, schema).data
            for _ in range(20):
                scoring_server.invocations(body, ctype, model, schema)
            predict = _timed(lambda f=frame: model.predict(f), repeat)
            full = _timed(
                lambda b=body: scoring_server.invocations(b, ctype, model, schema), repeat
            )
            rows[n] = {"predict": predict, "invocations": full}
        body = bodies[1]
        frame = scoring_server._parse_json_data(body, model.metadata, schema).data
        enforced = _enforce_schema(frame, schema)
        preds = model.predict(frame)
        steps = (_pyfunc_steps(python_model, enforced, folder, repeat)
                 if hasattr(python_model, "contract") else {})  # the hireloop pyfunc's own
        phases = {
            "JSON -> DataFrame (_parse_json_data)": _timed(
                lambda: scoring_server._parse_json_data(body, model.metadata, schema), repeat),
            "schema enforcement (_enforce_schema)": _timed(
                lambda: _enforce_schema(frame, schema), repeat),
            "model's own predict (checks, scoring, reasons, log)":
                _timed(lambda: python_model.predict(None, enforced), repeat),
            **steps,
            "pyfunc.predict (enforcement + model)": _timed(lambda: model.predict(frame), repeat),
            "predictions -> JSON": _timed(
                lambda: scoring_server.predictions_to_json(preds, io.StringIO()), repeat),
            "whole invocations() handler": rows[1]["invocations"],
        }
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            scoring_server.invocations(body, ctype, model, schema)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    finally:
        os.sched_setaffinity(0, own)
    return rows, {"phases": phases, "profile": text.getvalue(), "repeat": repeat}


def measure_layer_in_process(model_uri: str, fixture: RecordsFixture | None, body: bytes,
                             cores: set[int], repeat: int) -> dict:
    """Our ASGI layer (ml/scoring_app.py's ScoringLayer) called in this process, no HTTP:
    the whole call for the one-row aggregated request and, with a records fixture, the
    records route phase by phase and under cProfile (where a records request spends its
    time beyond MLflow's floor)."""
    import asyncio

    from ml.records_route import SCORE_PATH
    from ml.scoring_app import create_app, parse_json, pseudonymiser

    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    loop = asyncio.new_event_loop()
    try:
        app = (create_app(model_uri, serving_context=fixture.context,
                          pseudonymise=pseudonymiser(fixture.key_file.read_bytes().strip()))
               if fixture else create_app(model_uri))
        answers: list[int] = []

        def caller(path: str, payload: bytes):
            scope = {"type": "http", "path": path, "method": "POST", "query_string": b"",
                     "headers": [(b"content-type", b"application/json"),
                                 (b"content-length", str(len(payload)).encode())]}

            async def receive() -> dict:
                return {"type": "http.request", "body": payload, "more_body": False}

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    answers.append(message["status"])

            def call() -> None:
                loop.run_until_complete(app(dict(scope), receive, send))

            for _ in range(20):
                call()
            if set(answers) != {200}:
                raise SystemExit(f"the layer answered {sorted(set(answers))} on {path}")
            return call

        phases = {"aggregated: whole layer call (/invocations)":
                  _timed(caller("/invocations", body), repeat)}
        if fixture is None:
            return {"phases": phases, "profile": "", "repeat": repeat}
        route, records_body = app.records, fixture.body
        layer = caller(SCORE_PATH, records_body)
        data = parse_json(records_body, 8)
        answer = route.score(data)
        phases.update({
            "records: JSON parse (parse_json: strict numbers, depth)": _timed(
                lambda: parse_json(records_body, 8), repeat),
            "records: checked, features derived (RecordsRoute.derived)": _timed(
                lambda: route.derived(data), repeat),
            "records: derived + scored (RecordsRoute.score: + row checks, model, reasons, log)":
                _timed(lambda: route.score(data), repeat),
            "records: answer -> JSON": _timed(lambda: json.dumps(answer), repeat),
            "records: whole layer call (/candidates/score)": _timed(layer, repeat),
        })
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            layer()
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(r"/ml/", 25)
    finally:
        loop.close()
        os.sched_setaffinity(0, own)
    return {"phases": phases, "profile": text.getvalue(), "repeat": repeat}


@dataclass(frozen=True)
class Target:
    """One cell of the alternating rounds: a server, a body, the path it goes to."""

    server: Server
    body: bytes
    path: str = "/invocations"


def measure_pairs(load: LoadGenerator, targets: dict[str, Target], args
                  ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """One-row p50 of several targets measured in alternation, so that background load on
    a shared machine hits them alike (round k starts with the k-th target, so none always
    goes first): each target's per-round p50s (ms), and its server's CPU time per request
    in each round (ms, the server's whole process tree).

    CPU time per request is the steadier figure on a loaded machine: waiting for a core
    stretches wall-clock latency, not the work done (warm-up requests are counted in it,
    so it is a slight overestimate, alike for every target).
    """
    p50s: dict[str, list[float]] = {name: [] for name in targets}
    cpu_ms: dict[str, list[float]] = {name: [] for name in targets}
    names = list(targets)
    warmup = 20
    for k in range(args.pairs):
        for name in names[k % len(names):] + names[:k % len(names)]:
            target = targets[name]
            cpu0 = target.server.cpu()
            r = load.run(host="127.0.0.1", port=target.server.port, body=target.body,
                         path=target.path, concurrency=1, requests=300, seconds=1.0,
                         warmup=warmup, token=target.server.token)
            if r["errors"]:
                raise SystemExit(f"{name}: {r['errors']} failed requests {r['statuses']}")
            cpu_ms[name].append((target.server.cpu() - cpu0) * 1e3 / (r["n"] + warmup))
            p50s[name].append(r["p50_ms"])
    return p50s, cpu_ms


def measure_runs(load: LoadGenerator, endpoint_uri: str, constant_path: str,
                 baseline_uri: str | None, fixture: RecordsFixture | None, body: bytes,
                 cores: set[int], folder: Path, tracking_uri: str, args) -> list[dict]:
    """`args.runs` runs, each with freshly started servers: `args.pairs` alternating rounds
    (aggregated requests to the endpoint, records requests to the same endpoint, the MLflow
    floor, the baseline), then aggregated and records requests at concurrency 32, every
    answer counted."""
    from ml.records_route import SCORE_PATH

    runs = []
    for run in range(args.runs):
        servers = {
            "endpoint": Server("mlflow", endpoint_uri, 1, cores, folder, tracking_uri, fixture),
            "floor": Server("mlflow-floor", constant_path, 1, cores, folder, tracking_uri),
        }
        if baseline_uri:
            servers["baseline"] = Server("mlflow", baseline_uri, 1, cores, folder,
                                         tracking_uri, code=args.baseline_code)
        try:
            targets = {"endpoint": Target(servers["endpoint"], body)}
            if fixture is not None:
                targets["records"] = Target(servers["endpoint"], fixture.body, SCORE_PATH)
            targets["floor"] = Target(servers["floor"], body)
            if baseline_uri:
                targets["baseline"] = Target(servers["baseline"], body)
            p50s, cpu_ms = measure_pairs(load, targets, args)
            storms = {}  # the endpoint's routes at concurrency 32, every answer counted
            for name in ("endpoint", "records"):
                if name in targets:
                    t = targets[name]
                    storms[name] = load.run(host="127.0.0.1", port=t.server.port, body=t.body,
                                            path=t.path, concurrency=32, requests=args.requests,
                                            seconds=args.seconds, warmup=STORM_WARMUP,
                                            token=t.server.token)
        finally:
            for server in servers.values():
                server.stop()
        runs.append({"p50s": p50s, "cpu_ms": cpu_ms, "storms": storms})
        ratios = ", ".join(f"{name} {median(v) / median(p50s['floor']):.2f}x"
                           for name, v in p50s.items() if name != "floor")
        print(f"run {run + 1}/{args.runs}: one-row p50 / floor: {ratios}; c=32: "
              + "; ".join(f"{name} {st['n'] + STORM_WARMUP} requests, statuses "
                          f"{st['statuses']}" for name, st in storms.items()), file=sys.stderr)
    return runs


# -- report ------------------------------------------------------------------------------


def _ms(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def http_row(name: str, workers: str, r: dict) -> str:
    return (
        f"| {name} | {workers} | {_ms(r[(1, 1)]['p50_ms'])} | {_ms(r[(1, 1)]['p99_ms'])} "
        f"| {_ms(r[(100, 1)]['p50_ms'])} | {_ms(r[(100, 1)]['p99_ms'])} "
        f"| {r[(1, 1)]['rps']:.0f} | {r[(1, 8)]['rps']:.0f} | {r[(1, 32)]['rps']:.0f} "
        f"| {r['server_cpu'] * 100:.0f} % | {r['loadgen_cpu'] * 100:.0f} % |"
    )


def in_process_row(name: str, one: list[float], hundred: list[float]) -> str:
    p = lambda xs, q: _ms(float(np.percentile(xs, q)) * 1e3)  # noqa: E731
    rps = 1 / median(one)
    return (f"| {name} | – | {p(one, 50)} | {p(one, 99)} | {p(hundred, 50)} | {p(hundred, 99)} "
            f"| {rps:.0f} | – | – | – | – |")


def print_ratios(runs: list[dict], fixture: RecordsFixture | None, args) -> None:
    """The alternating rounds: per run and, in bold, the median over runs."""
    labels = {"endpoint": "aggregated (POST /invocations)",
              "records": "interview records (POST /candidates/score)",
              "floor": "MLflow floor (constant pyfunc, mlflow models serve)",
              "baseline": f"baseline code ({args.baseline_code}), aggregated"}
    aims = {"endpoint": "≤ 1.3x", "records": "≤ 1.6x", "baseline": "–"}
    names = list(runs[0]["p50s"])
    per_run = {name: [median(r["p50s"][name]) for r in runs] for name in names}
    ratio = {name: [x / f for x, f in zip(per_run[name], per_run["floor"], strict=True)]
             for name in names if name != "floor"}
    cpu = {name: [median(r["cpu_ms"][name]) / median(r["cpu_ms"]["floor"]) for r in runs]
           for name in names if name != "floor"}
    header = " | ".join(f"run {i + 1}" for i in range(len(runs)))
    print(f"### One-row p50 against MLflow's floor: {len(runs)} runs of {args.pairs} "
          f"alternating rounds")
    print()
    print("Each run starts fresh servers; in each round every target gets ≤ 300 one-row "
          "requests on one keep-alive connection (≤ 1 s, after 20 warm-up requests); a run's "
          "figure is the median of its rounds' p50s, the last column the median over runs.")
    print()
    print(f"| figure | {header} | median | aim |")
    print("|---|" + "---|" * (len(runs) + 2))
    fmt = lambda xs: " | ".join(_ms(x) for x in xs)  # noqa: E731
    for name in names:
        print(f"| {labels[name]}: p50 ms | {fmt(per_run[name])} | {_ms(median(per_run[name]))} "
              f"| – |")
    for name, xs in ratio.items():
        print(f"| {labels[name]} / floor | {' | '.join(f'{x:.2f}x' for x in xs)} "
              f"| **{median(xs):.2f}x** | {aims[name]} |")
    for name, xs in cpu.items():
        print(f"| server CPU per request, {name} / floor | "
              f"{' | '.join(f'{x:.2f}x' for x in xs)} | {median(xs):.2f}x | – |")
    short = {"endpoint": "aggregated", "records": "records"}
    for name in runs[0]["storms"]:
        storms = [r["storms"][name] for r in runs]
        what = f"{short[name]} at c=32"
        print(f"| {what}: requests (warm-up incl.) | "
              f"{' | '.join(str(st['n'] + STORM_WARMUP) for st in storms)} | – | – |")
        print(f"| {what}: 5xx / other non-200 | "
              + " | ".join(f"{st['status_5xx']} / {st['errors'] - st['status_5xx']}"
                           for st in storms)
              + f" | {sum(st['status_5xx'] for st in storms)} / "
                f"{sum(st['errors'] - st['status_5xx'] for st in storms)} (sum) | 0 5xx |")
        print(f"| {what}: p50 / p99 ms | "
              + " | ".join(f"{_ms(st['p50_ms'])} / {_ms(st['p99_ms'])}" for st in storms)
              + " | – | – |")
        print(f"| {what}: requests/s | "
              + " | ".join(f"{st['rps']:.0f}" for st in storms) + " | – | – |")
    print()
    if fixture is not None:
        print(f"Records request: one waiting candidate of the demo store with "
              f"{fixture.interviews} interviews, {fixture.scores} scores and "
              f"{fixture.answers} answers ({len(fixture.body)} bytes, HR-system ids); the "
              f"aggregated request and the floor's: one `dataframe_split` row.")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", help="model under test (models:/… or a path)")
    parser.add_argument("--tracking-uri", default=None, help="for a models:/ URI")
    parser.add_argument("--demo-model", type=Path, default=None,
                        help="serve the real model: a saved HireloopModel folder (trained "
                             "there on a demo-size store when it holds none)")
    parser.add_argument("--baseline-code", type=Path, default=None,
                        help="a checkout whose ml package serves the same model beside the "
                             "endpoint, measured in the same alternating rounds")
    parser.add_argument("--candidates", type=int, default=20_000, help="demo store size")
    parser.add_argument("--seed", type=int, default=7, help="demo store seed")
    parser.add_argument("--home", type=Path, default=Path("/tmp/hireloop_bench_serving"),
                        help="embedded PostgreSQL for the demo store")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=4000, help="per cell, at most")
    parser.add_argument("--seconds", type=float, default=4.0, help="per cell, at most")
    parser.add_argument("--repeat", type=int, default=2000, help="in-process calls per figure")
    parser.add_argument("--pairs", type=int, default=10,
                        help="alternating rounds per run, for the ratios")
    parser.add_argument("--runs", type=int, default=5,
                        help="runs of alternating rounds (fresh servers each); the ratios "
                             "reported are the median over runs")
    parser.add_argument("--pairs-only", action="store_true",
                        help="only the in-process figures and the alternating rounds")
    args = parser.parse_args()
    import mlflow

    load_before = os.getloadavg()[0]
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("needs at least 2 cores: one for the load generator")
    loadgen_core, server_cores = cpus[-1], set(cpus[:-1])
    if args.tracking_uri:
        os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri

    with tempfile.TemporaryDirectory(prefix="hireloop-bench-serving-") as tmp:
        folder = Path(tmp)
        tracking_uri = args.tracking_uri or f"sqlite:///{folder / 'unused.db'}"
        model_uri, fixture = args.model_uri, None
        if args.demo_model is not None:
            model_uri, tracking_uri, fixture = demo_model(
                folder, args.demo_model.resolve(), args.home, args.candidates, args.seed)
            os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        endpoint_uri, constant_path, example = build_models(folder, model_uri)
        signature = mlflow.models.Model.load(endpoint_uri).signature
        if "rater_ids" in signature.inputs.input_names():
            example["rater_ids"] = rater_pseudonyms(
                args.demo_model.resolve() if args.demo_model else None)
        bodies = {1: request_body(example, 1), 100: request_body(example, 100)}
        baseline_uri = None
        if args.baseline_code is not None:
            if args.demo_model is None:
                raise SystemExit("--baseline-code needs --demo-model (the model to log)")
            baseline_uri = baseline_model(args.baseline_code, args.demo_model.resolve(),
                                          tracking_uri, folder)

        rows_in, breakdown = measure_in_process(endpoint_uri, bodies, server_cores, args.repeat,
                                               folder)
        layer_in = measure_layer_in_process(endpoint_uri, fixture, bodies[1], server_cores,
                                            args.repeat)
        load = LoadGenerator(loadgen_core)
        lines = []
        try:
            plan = [("endpoint (model under test)", "mlflow", endpoint_uri, w, server_cores)
                    for w in args.workers]
            if len(cpus) == 2 and max(args.workers) > 1:
                # one server core cannot show scaling: the same on both cores, per worker count
                plan += [("endpoint, all cores (shares loadgen's core)", "mlflow",
                          endpoint_uri, w, set(cpus)) for w in args.workers]
            plan += [
                ("MLflow floor: constant pyfunc", "mlflow-floor", constant_path, 1, server_cores),
                ("HTTP floor: bare ASGI + uvicorn", "bare", None, 1, server_cores),
            ]
            if args.pairs_only:
                plan = []
            results = {}
            for name, kind, model, workers, cores in plan:
                server = Server(kind, model, workers, cores, folder, tracking_uri)
                try:
                    results[(name, workers)] = measure_http(load, server, bodies, args)
                finally:
                    server.stop()
                r = results[(name, workers)]
                print(f"measured {name} (workers={workers}): one-row p50 "
                      f"{r[(1, 1)]['p50_ms']:.2f} ms", file=sys.stderr)
                lines.append(http_row(name, str(workers), r))
            runs = measure_runs(load, endpoint_uri, constant_path, baseline_uri, fixture,
                                bodies[1], server_cores, folder, tracking_uri, args)
        finally:
            load.close()

    const = next((v for (n, _), v in results.items() if n.startswith("MLflow floor")), None)
    endpoint = next((v for (n, w), v in results.items() if n.startswith("endpoint (") and w == 1),
                    None)
    ratio = (endpoint[(1, 1)]["p50_ms"] / const[(1, 1)]["p50_ms"] if endpoint and const
             else float("nan"))

    load_after = os.getloadavg()
    print(f"## Serving benchmark ({len(cpus)} cores, {psutil.cpu_count(logical=False)} physical)")
    print()
    print(f"Load average (1 min) before {load_before:.1f}, after {load_after[0]:.1f}"
          + (" — the machine was busy with other work: absolute figures are inflated; the "
             "alternating ratio below is the fairer comparison."
             if max(load_before, load_after[0]) > 0.5 * len(cpus) else "."))
    print()
    under_test = (f"the real model ({args.demo_model}, logged with log_pyfunc)"
                  if args.demo_model else args.model_uri or "XGBoost stand-in (200 trees, depth 4)")
    print(f"Model under test: {under_test}; "
          f"request = `dataframe_split` JSON, role_family + {example.shape[1] - 1} float columns.")
    print(f"Servers pinned to cores {sorted(server_cores)}, load generator (one process, "
          f"threads, keep-alive http.client) pinned to core {loadgen_core}; latency from the "
          f"client side; each cell ≤ {args.requests} requests and ≤ {args.seconds:.0f} s after "
          f"warm-up. 'loadgen CPU' near 100 % means the client, not the server, set the pace.")
    print()
    print("| target | workers | 1 row p50 ms | 1 row p99 ms | 100 rows p50 ms | 100 rows p99 ms "
          "| rps c=1 | rps c=8 | rps c=32 | server CPU (max) | loadgen CPU (max) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for line in lines:
        print(line)
    print(in_process_row("in process: pyfunc.predict", rows_in[1]["predict"],
                         rows_in[100]["predict"]))
    print(in_process_row("in process: MLflow invocations() (parse + predict + JSON)",
                         rows_in[1]["invocations"], rows_in[100]["invocations"]))
    print()
    if lines:
        print(f"One-row p50, endpoint / MLflow constant floor, in the table: {ratio:.2f}x.")
        print()
    print_ratios(runs, fixture, args)
    print(f"### Where MLflow's request path spends its time (1 row, median of "
          f"{breakdown['repeat']} calls, in process)")
    print()
    print("| phase | median µs |")
    print("|---|---|")
    for phase, times in breakdown["phases"].items():
        print(f"| {phase} | {median(times) * 1e6:.0f} |")
    print()
    print("cProfile of invocations(), top functions by own time:")
    print()
    print("```")
    print("\n".join(breakdown["profile"].strip().splitlines()[:30]))
    print("```")
    print()
    print(f"### Our layer in process (one row / one candidate, median of "
          f"{layer_in['repeat']} calls, no HTTP)")
    print()
    print("| phase | median µs |")
    print("|---|---|")
    for phase, times in layer_in["phases"].items():
        print(f"| {phase} | {median(times) * 1e6:.0f} |")
    if layer_in["profile"]:
        print()
        print("cProfile of the layer's records call: top functions by own time, then ml's "
              "by cumulative time:")
        print()
        print("```")
        print(layer_in["profile"].strip())
        print("```")


if __name__ == "__main__":
    main()
