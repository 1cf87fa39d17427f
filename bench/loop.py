"""Benchmark: the closed loop over simulated quarters, per scenario. Not a test.

For each scenario, a fresh sandbox in its own HIRELOOP_HOME runs what a user runs:
`hireloop up`, `hireloop build --candidates N` (history, first champion, served), then
`hireloop simulate --quarters Q --scenario S` (each quarter scored over HTTP, decided,
imported, monitored; the trigger looks; a retrain when it asks), then `hireloop down`.
What it prints, per scenario and quarter, read back from the installation:
- the loop's decision (monitoring.loop_decisions) and the champion after it;
- the champion's lift capture on that quarter's applicants, (AUC - 0.5) / (AUC_observable
  - 0.5), where AUC is the served probability (monitoring.hiring_decisions) against
  sim_truth's counterfactual met_kpi and AUC_observable is sim_truth's p_true against the
  same outcome (the ceiling under the world as it is that quarter, drifted or not), on all
  scored applicants and on those hired;
- the wall time of the quarter's cycle (simulate's own per-quarter printout);
and per scenario: quarters from the change (the first simulated quarter) to the first
retrain, and from the first post-change reviews (one quarter later); false alarms (any
retrain in `stable`); the pre-maturity estimate's error, |estimated AUC - realised AUC| of
the same cohort and champion once its labels matured (pooled over families).
Only this benchmark reads sim_truth and raw ids; the loop never does.

    python bench/loop.py                                  # demo size: 20,000, 7 quarters

Seven quarters by default: simulated time cannot pass the real date (the endpoint refuses
future interviews), and from the 2024 history seven fit on 2026-12-02.
    python bench/loop.py --candidates 6000 --quarters 3 --scenarios stable concept_drift
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hris.pseudonym import pseudonym  # noqa: E402
from hris.simulator.world import SCENARIOS  # noqa: E402
from orchestration.config import TELEMETRY_OFF, Settings  # noqa: E402
from orchestration.runtime import Runtime  # noqa: E402

HIREDISH = "hired"
# simulate's two lines per quarter: "<quarter> (as of ...): ... (123 s: ...)" and
# "<quarter>: <decision> (45 s: ...)"
_QUARTER = re.compile(r"^\s*(\d{4}-Q[1-4]) \(as of .*\((\d+) s[:)]")
_CLOSE = re.compile(r"^\s*(\d{4}-Q[1-4]): \w+ \((\d+) s[:)]")


def _cli(home: Path, ports: dict[str, str], *args: str) -> str:
    env = {**os.environ, **TELEMETRY_OFF, "HIRELOOP_HOME": str(home), **ports}
    done = subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=REPO,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"hireloop {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def cycle_seconds(printout: str) -> dict[str, float]:
    """Per quarter, the seconds simulate printed for its cycle (import to decision)."""
    out: dict[str, float] = {}
    for line in printout.replace("\r", "\n").splitlines():
        for pattern in (_QUARTER, _CLOSE):
            m = pattern.match(line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def _read(conn, sql: str) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql)
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def _capture(y: np.ndarray, p: np.ndarray, ceiling: np.ndarray) -> tuple[float, float, float]:
    """AUC, AUC_observable and lift capture; NaN when one class is missing."""
    if len(set(y)) < 2:
        return np.nan, np.nan, np.nan
    auc, top = roc_auc_score(y, p), roc_auc_score(y, ceiling)
    return auc, top, (auc - 0.5) / (top - 0.5)


def quarter_table(conn, key: bytes) -> pd.DataFrame:
    """Per simulated quarter: applicants scored, the champion that scored them, its lift
    capture on all of them and on those hired, the loop's decision."""
    decided = _read(conn, "SELECT candidate_pseudonym, quarter, model_version, probability "
                          "FROM monitoring.hiring_decisions WHERE source = 'simulation'")
    truth = _read(conn, "SELECT t.candidate_id, t.p_true, t.met_kpi, c.status FROM "
                        "sim_truth.candidates t LEFT JOIN raw.candidates c USING "
                        "(candidate_id)")
    truth["candidate_pseudonym"] = [pseudonym(key, str(c)) for c in truth["candidate_id"]]
    rows = decided.merge(truth, on="candidate_pseudonym", how="inner")
    decisions = _read(conn, "SELECT quarter, decision, champion_after FROM "
                            "monitoring.loop_decisions ORDER BY decision_id")
    last = decisions.groupby("quarter").tail(1).set_index("quarter")
    out = []
    for quarter, g in rows.groupby("quarter", sort=True):
        y, p, c = (g["met_kpi"].astype(int).to_numpy(), g["probability"].to_numpy(float),
                   g["p_true"].to_numpy(float))
        hired = (g["status"] == HIREDISH).to_numpy()
        auc, top, lift = _capture(y, p, c)
        _, _, lift_hired = _capture(y[hired], p[hired], c[hired])
        out.append({"quarter": quarter, "scored": len(g),
                    "champion": ",".join(sorted(set(g["model_version"].astype(str)))),
                    "auc": auc, "auc_observable": top, "lift_capture": lift,
                    "lift_capture_hires": lift_hired, "hires": int(hired.sum()),
                    "decision": last["decision"].get(quarter),
                    "champion_after": last["champion_after"].get(quarter)})
    return pd.DataFrame(out)


def estimate_error(conn) -> pd.DataFrame:
    """Per cohort and champion: the last estimate of its AUC before its labels matured and
    the realised AUC once they did (pooled over families)."""
    quality = _read(conn, "SELECT as_of, kind, cohort_quarter, model_version, auc, n FROM "
                          "monitoring.model_quality WHERE role_family = 'all' AND kind IN "
                          "('estimate', 'realised') AND auc IS NOT NULL ORDER BY as_of")
    est = quality[quality["kind"] == "estimate"].groupby(
        ["cohort_quarter", "model_version"]).tail(1)
    real = quality[quality["kind"] == "realised"].groupby(
        ["cohort_quarter", "model_version"]).head(1)
    both = est.merge(real, on=["cohort_quarter", "model_version"],
                     suffixes=("_estimate", "_realised"))
    both["error"] = both["auc_estimate"] - both["auc_realised"]
    return both[["cohort_quarter", "model_version", "auc_estimate", "n_estimate",
                 "auc_realised", "n_realised", "error"]]


def run_scenario(scenario: str, args: argparse.Namespace, root: Path, slot: int) -> dict:
    home = root / scenario
    base = args.port_base + 10 * slot
    ports = {"HIRELOOP_ENDPOINT_PORT": str(base), "HIRELOOP_DAGSTER_PORT": str(base + 1),
             "HIRELOOP_MLFLOW_PORT": str(base + 2), "HIRELOOP_EVIDENTLY_PORT": str(base + 3)}
    t0 = time.perf_counter()
    _cli(home, ports, "up")
    try:
        _cli(home, ports, "build", "--candidates", str(args.candidates), "--seed",
             str(args.seed))
        built = time.perf_counter() - t0
        sim = ["simulate", "--quarters", str(args.quarters), "--scenario", scenario]
        if args.per_quarter:
            sim += ["--per-quarter", str(args.per_quarter)]
        printout = _cli(home, ports, *sim)
        settings = Settings(home=home, **{k: int(v) for k, v in zip(
            ("endpoint_port", "dagster_port", "mlflow_port", "evidently_port"),
            ports.values(), strict=True)})
        conn = Runtime(settings).up().connect()
        try:
            quarters = quarter_table(conn, settings.pseudonym_key())
            errors = estimate_error(conn)
        finally:
            conn.close()
    finally:
        _cli(home, ports, "down")
    seconds = cycle_seconds(printout)
    quarters["cycle_s"] = quarters["quarter"].map(seconds)
    return {"scenario": scenario, "quarters": quarters, "errors": errors,
            "build_s": built, "printout": printout}


def detection(quarters: pd.DataFrame) -> tuple[int | None, str | None]:
    """Quarters from the change (the first simulated quarter is 1) to the first retrain."""
    retrained = quarters.reset_index(drop=True)
    hit = retrained.index[retrained["decision"].fillna("no_action") != "no_action"]
    if len(hit) == 0:
        return None, None
    return int(hit[0]) + 1, str(retrained.loc[hit[0], "decision"])


def report(result: dict) -> str:
    q, errors = result["quarters"], result["errors"]
    lines = [f"\n== {result['scenario']} (build {result['build_s']:.0f} s)",
             q.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    found, decision = detection(q)
    retrains = int((q["decision"].fillna("no_action") != "no_action").sum())
    if result["scenario"] == "stable":
        lines.append(f"false alarms: {retrains} retrain(s) over {len(q)} stable quarters")
    elif found is None:
        lines.append(f"not detected within {len(q)} quarters")
    else:
        lines.append(f"first retrain in quarter {found} after the change ({decision}); "
                     f"{found - 1} after the first post-change reviews")
    if len(errors):
        lines.append("pre-maturity estimate vs realised AUC, same cohort and champion:\n"
                     + errors.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                     + f"\nmean |error| {errors['error'].abs().mean():.3f} over "
                       f"{len(errors)} cohorts")
    else:
        lines.append("no cohort matured within the run: no estimate to check")
    if q["cycle_s"].notna().any():
        lines.append(f"quarter cycle: median {q['cycle_s'].median():.0f} s, "
                     f"max {q['cycle_s'].max():.0f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quarters", type=int, default=7)
    parser.add_argument("--per-quarter", type=int, default=None)
    parser.add_argument("--port-base", type=int, default=15100)
    parser.add_argument("--root", type=Path, default=None,
                        help="folder for the sandboxes (default: a temporary one)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="hireloop-loop-bench-"))
    print(f"bench/loop.py: {args.candidates} applicants (seed {args.seed}), "
          f"{args.quarters} quarters, scenarios {', '.join(args.scenarios)}; sandboxes in "
          f"{root}", flush=True)
    for slot, scenario in enumerate(args.scenarios):
        print(report(run_scenario(scenario, args, root, slot)), flush=True)


if __name__ == "__main__":
    main()
