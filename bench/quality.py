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

Then the serving paths (bench/serving_paths.py): the same model on the same people through
the feature store's point-in-time columns, the interview-records route (raw records and
the serving context in force) and `/invocations` (rater_ids and a frozen offset table: the
model's own, this store's as of its as-of date, and as of each --frozen-as-of date), with
AUC, |Δp| against the feature store, lift capture per family, the gap split into its
causes, and the drift of frozen against in-force offsets.

    python bench/quality.py --sizes 20000 100000 --fresh 30000 --pobs-sample 6000
    python bench/quality.py --quick     # 8,000 + 8,000 applicants, a smaller sample
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import serving_paths as sp  # noqa: E402
from hris.pseudonym import pseudonym  # noqa: E402
from hris.simulator import p_observable  # noqa: E402
from ml.baselines import DimensionLogit, RatingBaseline  # noqa: E402
from ml.metrics import bootstrap_ci  # noqa: E402
from ml.pyfunc_model import contract_of  # noqa: E402
from ml.rater_offsets import RaterOffsets, offsets_of, read_rater_offsets  # noqa: E402
from ml.serving_context import ServingContext  # noqa: E402
from ml.train import TrainConfig  # noqa: E402
from ml.training_pipeline import train_and_evaluate  # noqa: E402
from orchestration.config import Settings, disable_telemetry  # noqa: E402
from orchestration.dbt import run_dbt_models  # noqa: E402
from orchestration.runtime import Runtime  # noqa: E402
from orchestration.serving_context import refresh_serving_context  # noqa: E402
from tests.simulated_store import BuiltStore, build_store, fresh_database  # noqa: E402

SCORES = ("model", "baseline_logit", "baseline_rating", "p_observable", "p_true")


def _lift(y, model, obs) -> float:
    den = roc_auc_score(y, obs) - 0.5
    return (roc_auc_score(y, model) - 0.5) / den if den else float("nan")


def _ci_or_na(metric, *arrays, n_boot: int) -> str:
    """`_ci` of a bootstrap, or n/a where the rows cannot give the metric (one class)."""
    if len(arrays[0]) < 10 or len(np.unique(arrays[0])) < 2:
        return "n/a"
    return _ci(bootstrap_ci(metric, *arrays, n_boot=n_boot))


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


PATH_NAMES = {
    "a": "a. feature store, point in time",
    "b": "b. records route, offsets in force",
    "d T": "d. records, one offset per rater as of {T} (diagnostic)",
    "c T": "c. /invocations, frozen as of {T} (the store's as-of)",
    "c model": "c. /invocations, the model's own frozen table",
}


def _path_name(key: str, as_of: date) -> str:
    name = PATH_NAMES.get(key) or f"c. /invocations, frozen as of {key.removeprefix('c A ')}"
    return name.format(T=as_of)


@dataclass
class PathInputs:
    """What the serving-path comparison needs from the fresh store, made once."""

    context: ServingContext
    frozen_dates: list[date]
    tables: dict[str, RaterOffsets]      # "T" = dim_interviewers at as-of, "A <date>" ...
    derived: dict[str, pd.DataFrame]     # "b", "d T", "d A <date>": features by pseudonym
    refused: dict[str, int]
    records: dict[str, dict]             # pseudonym -> the interview tool's records
    offsets: pd.DataFrame                # per interview: point-in-time and frozen offsets
    notes: list[str]


def frozen_check(fresh: BuiltStore, context: ServingContext, day: date) -> str:
    """Rebuild dim_interviewers as of `day` on a copy of the fresh store (what a version
    trained then would freeze) and compare it with the table made from today's steps."""
    name = f"{fresh.database}_as_of_{day:%Y%m%d}"
    fresh_database(fresh.endpoint, name, template=fresh.database)
    admin = fresh.endpoint.connect("postgres")
    admin.autocommit = True
    try:
        run_dbt_models(fresh.endpoint.dbt_env(name), day.isoformat(), ["+dim_interviewers"],
                       str(Path(tempfile.gettempdir()) / f"dbt-target-{name}"))
        conn = fresh.endpoint.connect(name)
        try:
            then = read_rater_offsets(conn)
        finally:
            conn.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}"')
    finally:
        admin.close()
    now = sp.frozen_at(context, day)
    ids = set(then.offsets) | set(now.offsets)
    diff = max(abs(then.offsets.get(i, 0.0) - now.offsets.get(i, 0.0)) for i in ids)
    return (f"frozen as of {day}: dim_interviewers rebuilt by dbt as of that day equals the "
            f"table made from today's steps to {diff:.1e} ({len(ids)} interviewers)")


def path_inputs(fresh: BuiltStore, everyone: pd.DataFrame, home: Path,
                frozen_dates: list[date]) -> PathInputs:
    """Serving context and frozen tables from a store; records and derived features for
    `everyone` (candidate_id, feature_cutoff_date; the populations scored are among them)."""
    conn = fresh.connect()
    try:
        context = refresh_serving_context(conn, fresh.key, home / "serving" / "context.json",
                                          f"bench {fresh.database}")
        in_force = read_rater_offsets(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM marts.fct_candidates_to_score")
            waiting = cur.fetchone()[0]
    finally:
        conn.close()
    today = context.as_of
    rebuilt = sp.frozen_at(context, today)
    ids = set(in_force.offsets) | set(rebuilt.offsets)
    diff = max(abs(in_force.offsets.get(i, 0.0) - rebuilt.offsets.get(i, 0.0)) for i in ids)
    notes = [f"frozen tables from the offset steps: as of T = {today} they equal "
             f"marts.dim_interviewers to {diff:.1e} ({len(ids)} interviewers)",
             f"{waiting} candidates wait in fct_candidates_to_score at T (for them b = a is "
             "what tests/ml/test_interview_records_endpoint.py proves, to 1e-9)"]
    tables = {"T": in_force, **{f"A {d}": sp.frozen_at(context, d) for d in frozen_dates}}
    notes += [frozen_check(fresh, context, d) for d in frozen_dates]
    raw_of = {pid: raw for raw, pid in fresh.pseudonyms().items()}
    pids = everyone["candidate_id"].tolist()
    raw_ids = [raw_of[p] for p in pids]
    cutoffs = pd.Series(pd.to_datetime(everyone["feature_cutoff_date"]).to_numpy(),
                        index=raw_ids)
    t0 = time.perf_counter()
    records = sp.records_of(fresh.sim.raw, raw_ids, cutoffs)
    contexts = {"b": context, "d T": sp.flat_context(context, tables["T"])}
    derived, refused = {}, {}
    for name, ctx in contexts.items():
        derived[name], refused[name] = sp.derived_rows(records, ctx, fresh.key, today)
    offsets = sp.interview_offsets(fresh.sim.raw, raw_ids, cutoffs, context, tables, fresh.key)
    offsets["candidate_id"] = offsets["candidate_id"].map(dict(zip(raw_ids, pids, strict=True)))
    notes.append(f"records of {len(records)} applicants derived {len(contexts)} ways in "
                 f"{time.perf_counter() - t0:.0f} s; refused: {refused}")
    truth = fresh.sim.truth["interviewers"]
    lenient = pd.Series(truth["leniency"].to_numpy(),
                        index=[pseudonym(fresh.key, str(i)) for i in truth["employee_id"]])
    for name, table in tables.items():
        common = [i for i in table.offsets if i in lenient.index]
        r = np.corrcoef([table.offsets[i] for i in common], lenient.loc[common])[0, 1]
        notes.append(f"table {name}: {len(table.offsets)} interviewers, correlation with "
                     f"the simulator's true leniency {r:.3f}")
    return PathInputs(context, frozen_dates, tables, derived, refused,
                      dict(zip(pids, records, strict=True)), offsets, notes)


def path_scores(model, pop: pd.DataFrame, inputs: PathInputs) -> pd.DataFrame:
    """P(met_kpi) of `pop` by every path (NaN where a path refused the row)."""
    contract = contract_of(model)
    out = {"a": sp.score_feature_rows(model, pop.reset_index(drop=True), contract)[0]}
    for name, frame in inputs.derived.items():
        rows = frame.reindex(pop["candidate_id"]).reset_index(drop=True)
        out[name] = sp.score_feature_rows(model, rows, contract)[0]
    tables = {"model": offsets_of(model), **inputs.tables}
    for name, table in tables.items():
        out[f"c {name}"] = sp.score_invocations(model, pop.reset_index(drop=True), contract,
                                                table)[0]
    order = ["a", "b", "c T", *[k for k in out if k.startswith("c A")], "c model", "d T"]
    return pd.DataFrame({k: out[k] for k in order}, index=pop.index)


def _small(x: float) -> str:
    return f"{x:.4f}" if x >= 1e-4 or x == 0 else f"{x:.0e}"


def _ci(t) -> str:
    return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"


def path_table(pop: pd.DataFrame, scores: pd.DataFrame, as_of: date, n_boot: int) -> str:
    """AUC (+CI), |Δp| against the feature store, lift capture overall and per family."""
    keep = scores.notna().all(axis=1).to_numpy()
    g, s = pop[keep], scores[keep]
    y = g["y"].to_numpy(int)
    fams = sorted(g["role_family"].unique())
    smp = g["p_observable"].notna().to_numpy()
    head = ("| path | AUC | mean abs Δp | max abs Δp | lift capture | "
            + " | ".join(f"lift {f}" for f in fams) + " |\n|---|---|---|---|---|"
            + "---|" * len(fams) + "\n")
    lines = []
    for col in s.columns:
        p = s[col].to_numpy()
        dp = np.abs(p - s["a"].to_numpy())
        obs = g["p_observable"].to_numpy()
        lifts = [_ci_or_na(_lift, y[smp], p[smp], obs[smp], n_boot=n_boot)]
        for f in fams:
            m = smp & (g["role_family"] == f).to_numpy()
            lifts.append(_ci_or_na(_lift, y[m], p[m], obs[m], n_boot=n_boot))
        lines.append(f"| {_path_name(col, as_of)} | "
                     f"{_ci_or_na(roc_auc_score, y, p, n_boot=n_boot)} | "
                     f"{_small(dp.mean())} | {_small(dp.max())} | " + " | ".join(lifts) + " |")
    dropped = f" ({(~keep).sum()} refused by some path, left out)" if (~keep).any() else ""
    return (f"{len(g)} people{dropped}; lift capture on the {smp.sum()} with p_observable\n\n"
            + head + "\n".join(lines) + "\n")


def explain(pop: pd.DataFrame, scores: pd.DataFrame, inputs: PathInputs, model) -> str:
    """The gap between the paths, each cause with its number."""
    keep = scores.notna().all(axis=1).to_numpy()
    g, s = pop[keep], scores[keep]

    def dp(x: str, ref: str = "a", mask=None) -> str:
        d = np.abs(s[x] - s[ref]).to_numpy()
        d = d if mask is None else d[mask]
        return f"mean {_small(d.mean())} / max {_small(d.max())}" if len(d) else "no rows"

    adj = [c for c in g.columns if c.startswith("interviewer_") and c.endswith("_adj")]
    b = inputs.derived["b"].reindex(g["candidate_id"])
    feat = np.nanmax(np.abs(b[adj].to_numpy(float) - g[adj].to_numpy(float)))
    own = offsets_of(model)
    iv = inputs.offsets[inputs.offsets["candidate_id"].isin(set(g["candidate_id"]))]
    raters = set(iv["interviewer"].dropna())
    known = len(raters & set(own.offsets))
    uneven = sp.uneven_dimensions([inputs.records[c] for c in g["candidate_id"]])
    t_off = np.abs(iv["T"] - iv["point_in_time"])
    first_ever = (iv["point_in_time"] == 0).mean()
    top = t_off >= t_off.quantile(0.9)
    top_first = (iv["point_in_time"][top] == 0).mean()
    parts = [
        f"- **b = a**: the records route looks each interview's offset up in the steps in "
        f"force by the interview's day, the feature store's own point-in-time definition "
        f"(the steps hold each interviewer's whole history, so an old interview gets the "
        f"offset known before it, not today's): adjusted scores equal to {feat:.1e}, Δp "
        f"{dp('b')}.",
        f"- **c, the model's own table**: the model was trained on another store, whose "
        f"pseudonym key differs (tests/simulated_store.py derives it from the database "
        f"name), so its frozen table knows {known} of the {len(raters)} interviewers here: "
        f"every rater counts as average, adjusted = raw score (Δp {dp('c model')}).",
        f"- **timing (a → d T)**: one offset per interviewer as of T instead of the offset "
        f"known before each interview: per interview |offset_T - offset_pit| mean "
        f"{t_off.mean():.3f}, max {t_off.max():.3f} score points over {len(iv)} interviews "
        f"(interviews with no earlier step, offset 0 in the feature store: {first_ever:.0%} "
        f"of all, {top_first:.0%} of the tenth with the largest difference); "
        f"Δp {dp('d T')}.",
        f"- **mean of the raters (d T → c T)**: `/invocations` subtracts the mean offset of "
        f"all listed raters from every dimension; the feature store averages per score, so "
        f"the two differ where interviews score different dimensions or lack an interviewer: "
        f"{uneven.mean():.1%} of these candidates. Δp {dp('c T', 'd T')} overall; "
        f"{dp('c T', 'd T', ~uneven)} on the others (where the simplification is exact).",
    ]
    first = pd.to_datetime(g["first_interview_date"]).dt.date.to_numpy()
    for d in inputs.frozen_dates:
        later = first > d
        ivl = iv[iv["day"] > d]
        signed = ivl["point_in_time"] - ivl[f"A {d}"]
        drift = np.abs(signed)
        n_new = (ivl[f"A {d}"] == 0).mean() if len(ivl) else float("nan")
        if later.sum() < 20 or g["y"][later].nunique() < 2:
            parts.append(f"- **drift, frozen as of {d}**: {later.sum()} candidates first "
                         "interviewed later: too few to measure")
            continue
        y = g["y"].to_numpy(int)[later]
        auc = {k: roc_auc_score(y, s[k].to_numpy()[later]) for k in ("a", "b", f"c A {d}")}
        parts.append(
            f"- **drift, frozen as of {d}** (a version trained then, serving the "
            f"{later.sum()} candidates first interviewed later): per later interview "
            f"|offset_frozen - offset_in_force| mean {drift.mean():.3f}, max {drift.max():.3f}"
            f", in force minus frozen {signed.mean():+.3f} on average ({n_new:.0%} of those "
            f"interviews by raters the table gives 0); Δp "
            f"{dp(f'c A {d}', mask=later)}; AUC a {auc['a']:.3f}, records route "
            f"{auc['b']:.3f}, frozen {auc[f'c A {d}']:.3f}.")
    return "\n".join(parts) + "\n"


def _change(store: BuiltStore) -> str:
    world = store.sim.world
    shift = getattr(world, "rater_drift_shift", 0.0)
    return (f"; every interviewer's leniency {shift:+.2f} ability units (SD "
            f"{world.leniency_sd}) from {world.change_date}"
            if shift else "")


def waiting_today(endpoint, args, scenario: str) -> tuple[pd.DataFrame, PathInputs]:
    """The fresh world (fresh seed; `scenario` of the simulator) exported as of --today: its
    waiting candidates (fct_candidates_to_score), labelled with the counterfactual met_kpi,
    and the serving paths' inputs with the versions frozen as of each --frozen-as-of date."""
    t0 = time.perf_counter()
    store = build_store(endpoint, f"quality_today_{scenario}", args.fresh, args.fresh_seed,
                        as_of=args.today.isoformat(), scenario=scenario)
    waiting = store.read(
        "select s.*, j.first_interview_date, j.feature_cutoff_date "
        "from marts.fct_candidates_to_score s "
        "join intermediate.int_candidate_features_joined j using (candidate_id)")
    truth = store.sim.truth["candidates"].copy()
    truth["pid"] = store.pseudonyms().loc[truth["candidate_id"]].to_numpy()
    truth = truth.set_index("pid")
    waiting["y"] = truth.loc[waiting["candidate_id"], "met_kpi"].astype(int).to_numpy()
    waiting["p_true"] = truth.loc[waiting["candidate_id"], "p_true"].to_numpy()
    rng = np.random.default_rng(0)
    sample = waiting["candidate_id"].to_numpy()[
        rng.choice(len(waiting), min(args.pobs_sample, len(waiting)), replace=False)]
    pobs = p_observable(store.sim, truth.loc[sample, "candidate_id"].to_numpy())
    pobs.index = sample
    waiting["p_observable"] = pobs.reindex(waiting["candidate_id"]).to_numpy()
    made = path_inputs(store, waiting, Path(args.home) / scenario, args.frozen_as_of)
    print(f"\nexport as of {args.today} (seed {args.fresh_seed}, scenario {scenario}"
          f"{_change(store)}): {len(waiting)} waiting "
          f"candidates, built and prepared in {time.perf_counter() - t0:.0f} s")
    for note in made.notes:
        print(f"- {note}")
    return waiting, made


def refresh_effect(title: str, pop: pd.DataFrame, scores: pd.DataFrame,
                   made: PathInputs) -> str:
    """One line: per frozen date, |Δp| and AUC of the frozen path against the records route."""
    keep = scores.notna().all(axis=1).to_numpy()
    y = pop["y"].to_numpy(int)[keep]
    b = scores["b"].to_numpy()[keep]
    parts = []
    for d in [*made.frozen_dates, "model"]:
        c = scores[f"c A {d}" if d != "model" else "c model"].to_numpy()[keep]
        what = f"frozen as of {d}" if d != "model" else "a table that knows none of the raters"
        parts.append(f"{what}: mean {np.abs(c - b).mean():.4f} / max {np.abs(c - b).max():.4f}"
                     f", AUC {roc_auc_score(y, c):.3f} vs {roc_auc_score(y, b):.3f}")
    return f"- {title}, {keep.sum()} candidates: " + "; ".join(parts)


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
    ap.add_argument("--today", type=date.fromisoformat, default=date(2024, 6, 30),
                    help="as-of date of the export whose waiting candidates are scored")
    ap.add_argument("--today-scenarios", nargs="*", default=["stable", "rater_drift"],
                    help="simulator scenarios of the --today export (rater_drift: every "
                         "interviewer scores harsher from the world's change date on)")
    ap.add_argument("--frozen-as-of", type=date.fromisoformat, nargs="*",
                    default=[date(2023, 6, 30), date(2023, 12, 31)],
                    help="as-of dates of the versions whose frozen offsets serve them")
    ap.add_argument("--quick", action="store_true",
                    help="small: --sizes 8000 --fresh 8000 --pobs-sample 2000 --boot 200")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.fresh, args.pobs_sample, args.boot = [8_000], 8_000, 2_000, 200
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
    joined = everyone.set_index("candidate_id")
    for c in ("rater_ids", "first_interview_date", "feature_cutoff_date"):
        hires[c] = joined.loc[hires["candidate_id"], c].to_numpy()
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
    t1 = time.perf_counter()
    inputs = path_inputs(fresh, everyone, Path(args.home) / "fresh", [])
    print(f"serving paths prepared in {time.perf_counter() - t1:.0f} s", flush=True)
    for note in inputs.notes:
        print(f"- {note}")
    populations = [("fresh hires", hires, inputs), ("fresh applicants, all", everyone, inputs)]
    for scenario in args.today_scenarios:
        waiting, made = waiting_today(endpoint, args, scenario)
        populations.append((f"candidates waiting on {args.today} (fresh world as of that day, "
                            f"scenario {scenario})", waiting, made))

    out = []
    for n in args.sizes:
        t0 = time.perf_counter()
        store = build_store(endpoint, f"quality_train_{n}", n, args.seed)
        frame = store.read("select * from marts.fct_training_examples")
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn = store.connect()
        try:  # frozen into the version, as the pipeline's trained_model does
            frozen = read_rater_offsets(conn)
        finally:
            conn.close()
        result = train_and_evaluate(frame, TrainConfig(), make_figures=False,
                                    rater_offsets=frozen)
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
        effects = []
        for title, pop, made in populations:
            scores = path_scores(result.model, pop, made)
            check = np.nanmax(np.abs(scores["a"].to_numpy()
                                     - result.model.predict_proba(pop)))
            print(f"\n### serving paths: {title} (a equals the frame-scored model to "
                  f"{check:.1e})\n\n"
                  + path_table(pop, scores, made.context.as_of, args.boot) + "\n"
                  + explain(pop, scores, made, result.model), flush=True)
            if made.frozen_dates:
                effects.append(refresh_effect(title, pop, scores, made))
        if effects:
            print("\n### refreshing the offsets with each export: what it changes\n\n"
                  "The records route reads the offsets in force (the serving context the "
                  "pipeline rewrites after each build; the endpoint reloads it within a "
                  "second), so its scores are the feature store's. Against it, a version "
                  "whose offsets were frozen earlier scores the same waiting candidates "
                  "differently by:\n\n" + "\n".join(effects) + "\n", flush=True)
        if t_train / 60 * 5 > args.max_train_minutes and n != args.sizes[-1]:
            print(f"next size skipped: training {n} took {t_train:.0f} s; 5x would exceed "
                  f"--max-train-minutes {args.max_train_minutes}")
            break


if __name__ == "__main__":
    main()
