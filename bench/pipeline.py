"""Benchmark: generate + load + `dbt build` at several sizes; prints a Markdown table.

Not a test. Each size runs in a fresh database of a throwaway embedded PostgreSQL, so
sizes do not share caches or tables. Peak memory is the max RSS of this process (the
simulator and loader) and the peak rise of the whole machine's used memory during the
size's run (this process, dbt and PostgreSQL together). The truth's ceilings are
computed for an evaluation sample only (p_observable on `--eval-sample` applicants),
timed separately. The data-quality suites (monitoring.data_quality: raw, staging and
feature store, as the Dagster checks run them) are timed after the build; their share is
of the whole pipeline (generate + load + dbt + validation).

    python bench/pipeline.py --sizes 20000 200000 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hris.simulator import p_observable  # noqa: E402
from monitoring.data_quality import (  # noqa: E402
    DataQualityRunner,
    docs_dir_for,
    feature_store_suite,
    load_rules,
    raw_suites,
    staging_columns,
    staging_suites,
)
from orchestration.config import Settings, disable_telemetry  # noqa: E402
from orchestration.runtime import Runtime  # noqa: E402
from tests.simulated_store import build_store  # noqa: E402

AS_OF = "2025-01-01"


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


class SystemMemoryPeak:
    """Peak of the machine's used memory above its level at start, sampled every 0.2 s.

    Covers everything the pipeline runs: this process, dbt and the PostgreSQL backends
    (RUSAGE_CHILDREN cannot: a forked child inherits its parent's RSS before exec).
    """

    def __init__(self) -> None:
        self.base = psutil.virtual_memory().used
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, psutil.virtual_memory().used)

    def __enter__(self) -> SystemMemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return (self.peak - self.base) / 2**20


def run_size(runtime: Runtime, n: int, eval_sample: int) -> dict:
    with SystemMemoryPeak() as memory:
        result = _run_size(runtime, n, eval_sample)
    return {**result, "peak_system_mb": memory.mb}


def _validate(store, docs_root: Path) -> dict[str, float]:
    """Seconds of the raw, staging and feature-store suites on a built store."""
    rules, as_of = load_rules(), dt.date.fromisoformat(AS_OF)
    url = store.endpoint.url(store.database)
    conn = store.connect()
    try:
        with conn.cursor() as cur:
            columns = staging_columns(cur, rules.tables)
    finally:
        conn.close()
    out = {}
    for kind, suites in (("raw", raw_suites(rules, as_of)),
                         ("staging", staging_suites(rules, as_of, columns)),
                         ("feature_store", [feature_store_suite()])):
        t0 = time.perf_counter()
        runner = DataQualityRunner(url, docs_dir_for(docs_root, kind))
        outcomes = runner.validate_all(suites, f"bench_{kind}", progress=print)
        out[f"dq_{kind}_s"] = time.perf_counter() - t0
        if kind != "raw" and not all(o.success for o in outcomes):
            failed = [(o.suite, [f.label for f in o.failed]) for o in outcomes if not o.success]
            print(f"WARNING: {kind} suites fail: {failed}", flush=True)
    return out


def _run_size(runtime: Runtime, n: int, eval_sample: int) -> dict:
    store = build_store(runtime.up(), f"bench_{n}", n_candidates=n, seed=11, as_of=AS_OF,
                        progress=True)
    t_gen, t_load, t_dbt = (store.seconds[k] for k in ("simulate", "load", "dbt"))
    raw_rows = sum(len(f) for f in store.sim.raw.values())
    sample = store.sim.raw["candidates"]["candidate_id"].iloc[: min(eval_sample, n)].tolist()
    t0 = time.perf_counter()
    p_observable(store.sim, sample)
    t_ceiling = time.perf_counter() - t0
    dq = _validate(store, runtime.settings.reports_dir / "data_docs" / f"bench_{n}")
    t_dq = sum(dq.values())
    total = t_gen + t_load + t_dbt + t_dq
    return {
        "candidates": n, "raw_rows": raw_rows, "generate_s": t_gen, "load_s": t_load,
        "dbt_build_s": t_dbt, **dq, "validation_s": t_dq, "validation_share": t_dq / total,
        "total_s": total, "rows_per_s": raw_rows / total,
        "peak_py_mb": _peak_mb(resource.RUSAGE_SELF),
        "p_observable_s": t_ceiling, "eval_sample": len(sample),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000, 1_000_000])
    parser.add_argument("--eval-sample", type=int, default=10_000)
    args = parser.parse_args()
    disable_telemetry()
    with tempfile.TemporaryDirectory(prefix="hireloop_bench_") as home:
        runtime = Runtime(Settings(home=Path(home)))
        rows = []
        try:
            for n in args.sizes:
                rows.append(run_size(runtime, n, args.eval_sample))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            runtime.down()
    print(f"\nhireloop pipeline benchmark, {dt.date.today()}, 2 cores")
    print("| candidates | raw rows | generate s | load s | dbt build s | validation s (raw / "
          "staging / feature store; share) | total s | rows/s "
          "| peak MB (python / whole machine) | p_observable s (sample) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['candidates']:,} | {r['raw_rows']:,} | {r['generate_s']:.1f} | "
              f"{r['load_s']:.1f} | {r['dbt_build_s']:.1f} | {r['validation_s']:.1f} "
              f"({r['dq_raw_s']:.1f} / {r['dq_staging_s']:.1f} / {r['dq_feature_store_s']:.1f}; "
              f"{r['validation_share']:.0%}) | {r['total_s']:.1f} | "
              f"{r['rows_per_s']:,.0f} | {r['peak_py_mb']:,.0f} / {r['peak_system_mb']:,.0f} | "
              f"{r['p_observable_s']:.1f} ({r['eval_sample']:,}) |")


if __name__ == "__main__":
    main()
