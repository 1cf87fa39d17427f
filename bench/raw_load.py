"""Benchmark: the raw store and the importer at several sizes; prints a Markdown table.

Not a test. Per size, in a fresh database of a throwaway embedded PostgreSQL:
- load: `load_raw` of the simulator's frames into empty raw tables (committed);
- reload: the same frames again (every row unchanged; the no-op re-import);
- update: the same frames with 1 % of interview scores changed (versions to __replaced);
- export: `export_raw` to CSV; read: `read_export` of that CSV export;
- import: `import_export` of the CSV export into a second, empty database.
Rates are raw rows per second of wall time.

    python bench/raw_load.py --sizes 20000 200000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hris.importer import export_raw, import_export, read_export  # noqa: E402
from hris.raw_store import load_raw  # noqa: E402
from hris.simulator import simulate  # noqa: E402
from orchestration.config import Settings, disable_telemetry  # noqa: E402
from orchestration.runtime import Runtime  # noqa: E402
from tests.simulated_store import fresh_database  # noqa: E402


def _fresh(endpoint, name: str):
    fresh_database(endpoint, name)
    return endpoint.connect(name)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_size(endpoint, n: int, workdir: Path) -> dict:
    sim, t_gen = _timed(lambda: simulate(n_candidates=n, seed=11))
    frames = sim.raw
    rows = sum(len(f) for f in frames.values())
    conn = _fresh(endpoint, f"bench_raw_{n}")

    def load(source):
        report = load_raw(conn, frames, source)
        conn.commit()
        return report

    first, t_load = _timed(lambda: load("first"))
    again, t_reload = _timed(lambda: load("again"))
    assert first.inserted == rows and again.unchanged == rows
    scores = frames["interview_scores"]
    frames["interview_scores"] = scores.assign(
        score=scores["score"].where(scores.index % 100 != 0, "10")
    )
    updated, t_update = _timed(lambda: load("update"))

    export_dir = workdir / f"export_{n}"
    _, t_export = _timed(lambda: export_raw(conn, export_dir, "csv"))
    _, t_read = _timed(lambda: read_export(export_dir))
    target = _fresh(endpoint, f"bench_raw_{n}_import")
    imported, t_import = _timed(lambda: import_export(target, export_dir))
    assert imported.load.inserted == rows
    conn.close()
    target.close()
    return {
        "candidates": n, "raw rows": rows, "generate s": t_gen,
        "load s": t_load, "load rows/s": rows / t_load,
        "reload s": t_reload, "reload rows/s": rows / t_reload,
        "update s": t_update, "updated rows": updated.updated,
        "export csv s": t_export, "read csv s": t_read,
        "import csv s": t_import, "import rows/s": rows / t_import,
        "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    args = parser.parse_args()
    disable_telemetry()
    with tempfile.TemporaryDirectory(prefix="hireloop_bench_raw_") as tmp:
        runtime = Runtime(Settings(home=Path(tmp) / "home"))
        endpoint = runtime.up()
        try:
            results = [run_size(endpoint, n, Path(tmp)) for n in args.sizes]
        finally:
            runtime.down()
    head = list(results[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        print("| " + " | ".join(
            f"{v:,.0f}" if isinstance(v, float) and v >= 100 else
            f"{v:.1f}" if isinstance(v, float) else f"{v:,}" for v in r.values()) + " |")


if __name__ == "__main__":
    main()
