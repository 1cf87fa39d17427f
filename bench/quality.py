"""Benchmark: model quality against the simulator's ceilings on fresh, large populations.

Not a test. Trains with `train_and_evaluate` on a simulated history (demo size: 20,000
applicants, seed 7; optionally 5x and 25x), then draws a FRESH world sample (another seed,
same generative model; as-of late enough that every hire is mature) and builds its features
through the real pipeline (raw -> dbt) in a separate database. Two populations:
- hires: fct_training_examples of the fresh store (labels as the company measures them);
- all applicants: every candidate with at least one interview, features as of their cutoff
  (int_candidate_features_joined, read only), label = counterfactual met_kpi from sim_truth.
Reports AUC of the model, both baselines, p_observable (on a sample) and p_true, and the
lift capture (AUC_model - 0.5) / (AUC_observable - 0.5), with bootstrap 95% CIs. Only this
benchmark reads sim_truth; training never does.

    python bench/quality.py --sizes 20000 100000 --fresh 30000 --pobs-sample 6000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hris.simulator import p_observable  # noqa: E402
from ml.baselines import DimensionLogit, RatingBaseline  # noqa: E402
from ml.metrics import bootstrap_ci  # noqa: E402
from ml.train import TrainConfig  # noqa: E402
from ml.training_pipeline import train_and_evaluate  # noqa: E402
from orchestration.config import Settings, disable_telemetry  # noqa: E402
from orchestration.runtime import Runtime  # noqa: E402
from tests.simulated_store import build_store  # noqa: E402

SCORES = ("model", "baseline_logit", "baseline_rating", "p_observable", "p_true")


def _lift(y, model, obs) -> float:
    return (roc_auc_score(y, model) - 0.5) / (roc_auc_score(y, obs) - 0.5)


def evaluate(pop: pd.DataFrame, n_boot: int) -> list[dict]:
    """AUC (+CI) per score and lift capture (+CI, on the p_observable sample), per family."""
    rows = []
    groups = [("overall", pop), *pop.groupby("role_family")]
    for fam, g in groups:
        y = g["y"].to_numpy(int)
        row = {"family": fam, "n": len(g), "rate": y.mean()}
        for s in SCORES:
            sel = g[s].notna().to_numpy()
            row[s] = bootstrap_ci(roc_auc_score, y[sel], g[s].to_numpy()[sel], n_boot=n_boot)
        smp = g[g["p_observable"].notna()]
        row["n_obs"] = len(smp)
        row["lift"] = bootstrap_ci(_lift, smp["y"].to_numpy(int), smp["model"].to_numpy(),
                                   smp["p_observable"].to_numpy(), n_boot=n_boot)
        rows.append(row)
    return rows


def markdown(title: str, rows: list[dict]) -> str:
    def ci(t):
        return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"
    head = ("| family | n | met rate | model | logit baseline | rating baseline | p_observable"
            " | p_true | lift capture |\n|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['family']} | {r['n']} | {r['rate']:.2f} | {ci(r['model'])} | "
        f"{ci(r['baseline_logit'])} | {ci(r['baseline_rating'])} | {ci(r['p_observable'])} | "
        f"{ci(r['p_true'])} | {ci(r['lift'])} |\n" for r in rows)
    return f"\n### {title}\n\n{head}{body}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fresh", type=int, default=30_000)
    ap.add_argument("--fresh-seed", type=int, default=8)
    ap.add_argument("--pobs-sample", type=int, default=6_000)
    ap.add_argument("--boot", type=int, default=300)
    ap.add_argument("--max-train-minutes", type=float, default=30.0)
    ap.add_argument("--home", default="/tmp/hireloop_bench_quality")
    args = ap.parse_args()
    disable_telemetry()
    endpoint = Runtime(Settings(home=Path(args.home))).up()

    t0 = time.perf_counter()
    fresh = build_store(endpoint, "quality_fresh", args.fresh, args.fresh_seed,
                        as_of="2026-06-01")
    truth = fresh.sim.truth["candidates"].copy()
    truth["pid"] = fresh.pseudonyms().loc[truth["candidate_id"]].to_numpy()
    truth = truth.set_index("pid")
    hires = fresh.read("select * from marts.fct_training_examples")
    hires["y"] = hires["met_kpi"].astype(bool).astype(int)
    everyone = fresh.read("select * from intermediate.int_candidate_features_joined "
                          "where n_interviews > 0")
    everyone["y"] = truth.loc[everyone["candidate_id"], "met_kpi"].astype(int).to_numpy()
    for pop in (hires, everyone):
        pop["p_true"] = truth.loc[pop["candidate_id"], "p_true"].to_numpy()
    rng = np.random.default_rng(0)
    sample = everyone["candidate_id"].to_numpy()[
        rng.choice(len(everyone), min(args.pobs_sample, len(everyone)), replace=False)]
    # every fresh hire gets p_observable too when the sample allows (hires are few)
    sample = np.union1d(sample, hires["candidate_id"].to_numpy()[:args.pobs_sample // 2])
    raw_ids = truth.loc[sample, "candidate_id"].to_numpy()
    t1 = time.perf_counter()
    pobs = p_observable(fresh.sim, raw_ids, progress=True)
    pobs.index = sample
    print(f"fresh store {args.fresh} (seed {args.fresh_seed}): build {t1 - t0:.0f} s, "
          f"p_observable on {len(sample)}: {time.perf_counter() - t1:.0f} s", flush=True)
    for pop in (hires, everyone):
        pop["p_observable"] = pobs.reindex(pop["candidate_id"]).to_numpy()

    out = []
    for n in args.sizes:
        t0 = time.perf_counter()
        store = build_store(endpoint, f"quality_train_{n}", n, args.seed)
        frame = store.read("select * from marts.fct_training_examples")
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = train_and_evaluate(frame, TrainConfig(), make_figures=False)
        t_train = time.perf_counter() - t0
        info = result.model.version_info
        train = frame.iloc[result.split.train]
        y_tr = train["met_kpi"].astype(bool).astype(int).to_numpy()
        rating, logit = RatingBaseline().fit(train, y_tr), DimensionLogit().fit(train, y_tr)
        for pop in (hires, everyone):
            pop["model"] = result.model.predict_proba(pop)
            pop["baseline_rating"] = rating.score(pop)
            pop["baseline_logit"] = logit.predict_proba(pop)
        print(f"\n## trained on {n} applicants (seed {args.seed}): {len(frame)} labelled hires; "
              f"build {t_build:.0f} s, train {t_train:.0f} s; strategy {info['strategy']}")
        for s, v in info["selection"].items():
            print(f"- {s}: holdout mean family AUC {v['mean_family_auc']:.3f}, "
                  f"overall {v['auc']:.3f}, log loss {v['log_loss']:.3f}")
        on, off = info["monotone_on"], info["monotone_off"]
        print(f"- monotone on: mean family AUC {on['mean_family_auc']:.3f} / log loss "
              f"{on['log_loss']:.3f}; off: {off['mean_family_auc']:.3f} / {off['log_loss']:.3f}")
        text = (markdown(f"fresh hires ({args.fresh} applicants, seed {args.fresh_seed})",
                         evaluate(hires, args.boot))
                + markdown("fresh applicants, all (counterfactual met_kpi)",
                           evaluate(everyone, args.boot)))
        print(text, flush=True)
        out.append(text)
        if t_train / 60 * 5 > args.max_train_minutes and n != args.sizes[-1]:
            print(f"next size skipped: training {n} took {t_train:.0f} s; 5x would exceed "
                  f"--max-train-minutes {args.max_train_minutes}")
            break


if __name__ == "__main__":
    main()
