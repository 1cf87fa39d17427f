"""Benchmark: serving latency and throughput of the endpoint against its two floors.

Not a test. All targets in one run on one machine, same request bodies:
- endpoint: MLflow's scoring app in our ASGI layer (ml/scoring_app.py) serving the model
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
  `ml` package of another checkout (e.g. `git archive HEAD ml | tar -x -C DIR`), served
  beside the endpoint and measured in the same alternating rounds, so a change to the
  serving code is compared under the same background load.

The endpoints serve as deployed: every scored row is appended to an inference log
(`HIRELOOP_INFERENCE_LOG`, a file in the run's temporary folder). Requests carry
`rater_ids` when the signature has the field (three interviewer pseudonyms, known to the
model where it knows any), as the interview tool sends them.

Load comes from one separate process (threads, one keep-alive `http.client` connection
each, loopback only), pinned with `sched_setaffinity` to the last core; servers are pinned
to the other cores. Every cell is bounded by a request count and a time limit. The load
generator's own CPU use is reported next to each row: near 100 % means it, not the server,
set the pace.

    python bench/serving.py                    # ~2-3 minutes on 2 cores
    python bench/serving.py --demo-model /tmp/hireloop_demo_model   # + ~1 min to train once
    python bench/serving.py --model-uri models:/hireloop-kpi@champion --tracking-uri ...
    python bench/serving.py --demo-model /tmp/hireloop_demo_model --baseline-code /tmp/base
"""

from __future__ import annotations

import argparse
import cProfile
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
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.update({"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"})

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402

from ml.endpoint_launch import ServeSpec  # noqa: E402
from ml.pyfunc_model import INFERENCE_LOG_ENV  # noqa: E402
from orchestration.services import EndpointProcess  # noqa: E402
from orchestration.supervisor import Launch, Service, Supervisor  # noqa: E402

BENCH = Path(__file__).resolve().parent
FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")
N_FEATURES = 15


# -- models ------------------------------------------------------------------------------


def demo_model(folder: Path, model_dir: Path, home: Path, candidates: int, seed: int
               ) -> tuple[str, str]:
    """(model URI, tracking URI) of the real pyfunc, logged with `log_pyfunc` into a
    throwaway tracking store under `folder`.

    The HireloopModel comes from `model_dir`; when that holds none, a demo-size feature
    store is built (simulate -> raw -> dbt, embedded PostgreSQL under `home`) and the model
    is trained there with `train_and_evaluate` and saved, so later runs (and a run of an
    older checkout) serve the very same model.
    """
    import mlflow

    from ml.model import HireloopModel
    from ml.pyfunc_model import log_pyfunc
    from ml.registry import configure

    if not (model_dir / "model.json").exists():
        from ml.training_pipeline import train_and_evaluate
        from orchestration.config import Settings, disable_telemetry
        from orchestration.runtime import Runtime
        from tests.simulated_store import build_store

        disable_telemetry()
        endpoint = Runtime(Settings(home=home)).up()
        t0 = time.perf_counter()
        store = build_store(endpoint, f"serving_demo_{candidates}", candidates, seed)
        frame = store.read("select * from marts.fct_training_examples")
        result = train_and_evaluate(frame, make_figures=False)
        result.model.save(model_dir)
        print(f"trained the demo model ({candidates} applicants, {len(frame)} hires, "
              f"strategy {result.model.version_info.get('strategy')}) in "
              f"{time.perf_counter() - t0:.0f} s; saved to {model_dir}", file=sys.stderr)
    tracking_uri = f"sqlite:///{folder / 'tracking.db'}"
    configure(tracking_uri, folder / "artifacts", experiment="bench-serving")
    with mlflow.start_run():
        info = log_pyfunc(HireloopModel.load(model_dir), "model")
    return info.model_uri, tracking_uri


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
    warmup: int,
) -> dict:
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    per_thread = max(1, requests // concurrency)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)

    def one(conn: http.client.HTTPConnection) -> bool:
        conn.request("POST", "/invocations", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(max(1, warmup // concurrency)):
            one(conn)
        barrier.wait()
        deadline = time.perf_counter() + seconds
        mine = latencies[i]
        for _ in range(per_thread):
            t0 = time.perf_counter()
            ok = one(conn)
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
    return {
        "n": len(flat), "errors": sum(errors), "elapsed": elapsed,
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
    """A server process pinned to `cores` (set on this process; children inherit it)."""

    def __init__(self, kind: str, model: str | None, workers: int, cores: set[int],
                 state: Path, tracking_uri: str):
        self.port = free_port()
        self.kind = kind
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
                spec = ServeSpec(
                    tracking_uri=tracking_uri, model_uri=model, port=self.port,
                    workers=workers, mlflow_only=kind == "mlflow-floor",
                    extra_env={INFERENCE_LOG_ENV: str(state / f"inference-{self.port}.jsonl")},
                )
                self.pid = EndpointProcess(self.supervisor, spec,
                                           ready_timeout_s=180).start()["pid"]
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
    job = {"host": "127.0.0.1", "port": server.port, "seconds": args.seconds}
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


def measure_pairs(load: LoadGenerator, servers: dict[str, Server], body: bytes, args
                  ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """One-row p50 of several servers measured in alternation, so that background load on
    a shared machine hits them alike: each server's per-round p50s (ms), and its CPU time
    per request in each round (ms, the server's whole process tree).

    CPU time per request is the steadier figure on a loaded machine: waiting for a core
    stretches wall-clock latency, not the work done (warm-up requests are counted in it,
    so it is a slight overestimate, alike for every server).
    """
    p50s: dict[str, list[float]] = {name: [] for name in servers}
    cpu_ms: dict[str, list[float]] = {name: [] for name in servers}
    warmup = 20
    for _ in range(args.pairs):
        for name, server in servers.items():
            cpu0 = server.cpu()
            r = load.run(host="127.0.0.1", port=server.port, body=body, concurrency=1,
                         requests=300, seconds=1.0, warmup=warmup)
            if r["errors"]:
                raise SystemExit(f"{name}: {r['errors']} failed requests")
            cpu_ms[name].append((server.cpu() - cpu0) * 1e3 / (r["n"] + warmup))
            p50s[name].append(r["p50_ms"])
    return p50s, cpu_ms


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
    parser.add_argument("--pairs", type=int, default=5, help="alternating rounds for the ratio")
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
        model_uri = args.model_uri
        if args.demo_model is not None:
            model_uri, tracking_uri = demo_model(folder, args.demo_model.resolve(), args.home,
                                                 args.candidates, args.seed)
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
            paired = {
                "endpoint": Server("mlflow", endpoint_uri, 1, server_cores, folder, tracking_uri),
                "floor": Server("mlflow-floor", constant_path, 1, server_cores, folder,
                                tracking_uri),
            }
            if baseline_uri:
                paired["baseline"] = Server("mlflow", baseline_uri, 1, server_cores, folder,
                                            tracking_uri)
            try:
                pairs, pair_cpu = measure_pairs(load, paired, bodies[1], args)
            finally:
                for server in paired.values():
                    server.stop()
        finally:
            load.close()

    const = next((v for (n, _), v in results.items() if n.startswith("MLflow floor")), None)
    endpoint = next((v for (n, w), v in results.items() if n.startswith("endpoint (") and w == 1),
                    None)
    ratio = (endpoint[(1, 1)]["p50_ms"] / const[(1, 1)]["p50_ms"] if endpoint and const
             else float("nan"))
    paired_ratio = median(pairs["endpoint"]) / median(pairs["floor"])

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
    print(f"One-row p50, endpoint / MLflow constant floor: {ratio:.2f}x in the table; "
          f"**{paired_ratio:.2f}x** over {args.pairs} alternating rounds (endpoint p50s "
          f"{', '.join(f'{x:.2f}' for x in pairs['endpoint'])} ms; floor "
          f"{', '.join(f'{x:.2f}' for x in pairs['floor'])} ms). Aim ≤ 1.5x.")
    if "baseline" in pairs:
        base_ratio = median(pairs["baseline"]) / median(pairs["floor"])
        print()
        print(f"Baseline code ({args.baseline_code}), same model, same rounds: one-row p50s "
              f"{', '.join(f'{x:.2f}' for x in pairs['baseline'])} ms; median "
              f"{median(pairs['baseline']):.2f} ms against the endpoint's "
              f"{median(pairs['endpoint']):.2f} ms: **{base_ratio:.2f}x** the floor "
              f"(endpoint {paired_ratio:.2f}x).")
    print()
    print("Server CPU time per one-row request in the same rounds (median ms; the steadier "
          "figure on a busy machine): "
          + "; ".join(f"{name} {median(v):.2f}"
                      + ("" if name == "floor" else
                         f" ({median(v) / median(pair_cpu['floor']):.2f}x the floor)")
                      for name, v in pair_cpu.items()) + ".")
    print()
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


if __name__ == "__main__":
    main()
