"""The retrain gate: challengers over data windows against the champion on one held-out cohort.

Every challenger (ml.windows) and the champion are scored on the same rows by two routes:
- `mature`: the newest mature cohort (the gate cohort), final labels; no challenger trained
  on it;
- `early`: the early route (ml.windows.early_gate_rows), hires of the cohorts after it with
  two or more reviews, labelled provisionally by their reviews so far, each challenger by
  its out-of-fold predictions (ml.crossfit: the challengers learn from these hires' partial
  labels); tried when it holds at least `min_early_rows` hires. After a change of the KPI's
  drivers the gate cohort is the old world for quarters; these cohorts are the new one.
On a route a challenger passes when
- DeLong's paired interval of its AUC minus the champion's lies above `margin` overall
  (a point estimate 0.005 higher is noise at a hundred hires per role family),
- no role family is significantly worse (the family's interval entirely below zero), and
- the promotion gate's own rules hold (ml.promotion.check_role_families and
  check_calibration, with this policy's tolerances; a calibration worse by more than the
  tolerance refuses only when significantly worse (paired bootstrap of the ECE difference),
  and always on the gate cohort: it is a promise about the mature label, which provisional
  labels are not);
it passes the gate when it passes on either route, each tested at `level`.
The gate picks, among those that pass, the one with the largest difference on a route it
passed; when none passes the champion stays, which is a successful outcome. Soundness
(ml.model_checks: beats the interviewer-rating baseline, predicts no NaN, carries its
signature) is recorded for every challenger and judged on the pick (a blocking check in
orchestration): an unsound pick is refused, never quietly swapped for the runner-up, since
whatever made it unsound (the data, the code) is this run's and a person must look. The same
holds for fairness: with the gate cohort's protected attributes (`people`), every challenger and the
champion get the promotion gate's fairness figures on the gate rows (ml.fairness_gate: the
four-fifths rule with a significance test, no category sunk below the champion's), and an
unfair pick is refused for cause. Protected attributes are read for this judgement only;
no score or threshold is ever adjusted per group.

Everything the decision rests on is in `RetrainVerdict.figures`; `decide_from_figures`
recomputes the decision from them alone (a test does, on the recorded row).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.evaluation import gate_metrics, holdout_metrics
from ml.fairness_gate import compare_fairness, fairness_failures
from ml.fairness_io import scored_holdout
from ml.features import FAMILY_COLUMN, LABEL
from ml.metrics import bootstrap_ci, expected_calibration_error
from ml.model_checks import ModelCheck, beats_rating_baseline, carries_signature, finite_predictions
from ml.paired_auc import delong_by_family
from ml.promotion import GatePolicy, check_calibration, check_role_families
from ml.split import COHORT

PROMOTED = "retrained_promoted"
KEPT = "retrained_kept"
REFUSED = "refused"


@dataclass(frozen=True)
class RetrainGatePolicy:
    """Thresholds of the retrain gate (see the module docstring)."""

    margin: float = field(default=0.0, metadata={
        "description": "the overall AUC difference's interval must lie above this"})
    level: float = field(default=0.95, metadata={"description": "interval level"})
    per_family_tolerance: float = field(default=0.05, metadata={
        "description": "promotion rule: no family's AUC point estimate lower by more than "
                       "this (0.02 is within noise at a hundred hires per family)"})
    calibration_tolerance: float = field(default=0.01, metadata={
        "description": "promotion rule: ECE no worse than the champion's by more than this, "
                       "unless the paired bootstrap interval of the difference reaches 0"})
    calibration_boot: int = field(default=500, metadata={
        "description": "bootstrap resamples of the ECE difference"})
    min_gate_rows: int = field(default=50, metadata={
        "description": "fewer hires in the gate cohort: no decision, the champion stays"})
    min_early_rows: int = field(default=150, metadata={
        "description": "fewer hires on the early route: it is not tried"})

    def gate_policy(self) -> GatePolicy:
        return GatePolicy(per_family_tolerance=self.per_family_tolerance,
                          calibration_tolerance=self.calibration_tolerance)


def soundness(trained: Any, baseline_margin: float = 0.0) -> list[ModelCheck]:
    """ml.model_checks on one challenger (an ml.tracking.TrainedModel)."""
    return [beats_rating_baseline(trained.comparison, margin=baseline_margin),
            finite_predictions(trained.model, trained.holdout),
            carries_signature(trained.signature)]


def _paired(entry) -> dict[str, Any] | None:
    return None if entry is None else entry.as_dict()


ROUTES = ("mature", "early")
# What each route's rows are, for reasons and tables.
ROUTE_ROWS = {"mature": "gate cohort (mature labels)",
              "early": "early route (provisional labels: reviews so far, out of fold)"}


def _ece_difference(y: np.ndarray, p_new: np.ndarray, p_old: np.ndarray) -> float:
    return expected_calibration_error(y, p_new) - expected_calibration_error(y, p_old)


def _calibration(new_metrics: dict, old_metrics: dict, y: np.ndarray, p_new: np.ndarray,
                 p_old: np.ndarray, policy: RetrainGatePolicy) -> dict[str, Any]:
    """The promotion gate's calibration rule (ml.promotion.check_calibration) with a paired
    test, as the AUC has one: a challenger worse by more than the tolerance is refused only
    when the paired bootstrap interval of its ECE minus the champion's lies above zero. On
    about 300 hires ECE moves by a few hundredths from sampling alone."""
    rule = check_calibration(new_metrics, old_metrics, policy.gate_policy())
    diff, low, high = bootstrap_ci(_ece_difference, y, p_new, p_old,
                                   n_boot=policy.calibration_boot, level=policy.level)
    interval = (f"difference {diff:+.4f}, {policy.level:.0%} interval "
                f"[{low:+.4f}, {high:+.4f}]")
    if rule.passed:
        return {"passed": True, "reason": f"{rule.reason} ({interval})"}
    if low <= 0:
        return {"passed": True, "reason": f"{rule.reason}, but not significantly "
                                          f"({interval} reaches 0)"}
    return {"passed": False, "reason": f"{rule.reason}, significantly ({interval})"}


def _judged_on(p_new: np.ndarray, model: Any, champion: Any, rows: pd.DataFrame,
               policy: RetrainGatePolicy, calibration: bool = True) -> dict[str, Any]:
    """A challenger's paired test and promotion rules against the champion on `rows`
    (without the calibration rule for `calibration=False`)."""
    y = rows[LABEL].astype(bool).to_numpy()
    p_old = np.asarray(champion.predict_proba(rows), float)
    paired = delong_by_family(rows[FAMILY_COLUMN], y, p_new, p_old, policy.level)
    new_metrics = gate_metrics(holdout_metrics(model, rows, p_new))
    old_metrics = gate_metrics(holdout_metrics(champion, rows))
    families = check_role_families(new_metrics, old_metrics, policy.gate_policy())
    checks = {families.name: {"passed": families.passed, "reason": families.reason}}
    if calibration:
        checks["calibration"] = _calibration(new_metrics, old_metrics, y, p_new, p_old, policy)
    return {"overall": _paired(paired.pop("overall")),
            "by_family": {f: _paired(v) for f, v in paired.items()},
            "checks": checks}


def judge_challenger(model: Any, champion: Any | None, gate_rows: pd.DataFrame,
                     policy: RetrainGatePolicy, early_rows: pd.DataFrame | None = None,
                     early_proba: np.ndarray | None = None) -> dict[str, Any]:
    """One challenger's figures against the champion on `gate_rows` (the mature route) and,
    when they hold `min_early_rows`, on `early_rows` with `early_proba` (the early route:
    the challenger's out-of-fold predictions, ml.crossfit), and whether it passes."""
    p_new = np.asarray(model.predict_proba(gate_rows), float)
    out: dict[str, Any] = {"metrics": gate_metrics(holdout_metrics(model, gate_rows, p_new))}
    if champion is None:
        out.update(passed=True, reasons=["no champion to beat"])
        return out
    out.update(_judged_on(p_new, model, champion, gate_rows, policy))
    if (early_rows is not None and early_proba is not None
            and len(early_rows) >= policy.min_early_rows):
        # Calibration is a promise about the mature label: judged on the gate cohort, never
        # on provisional labels (a different, more often positive target).
        out["early"] = _judged_on(np.asarray(early_proba, float), model, champion,
                                  early_rows, policy, calibration=False)
        mature = out["checks"]["calibration"]
        out["early"]["checks"]["calibration"] = {
            **mature, "reason": f"{mature['reason']} ({ROUTE_ROWS['mature']})"}
    out["passed"], out["reasons"] = passes(out, policy)
    return out


def _route_passes(judged: dict[str, Any], policy: RetrainGatePolicy,
                  where: str) -> tuple[bool, list[str]]:
    """Whether one route's figures (overall, by_family, checks) pass, and why."""
    o = judged.get("overall")
    if o is None:
        return False, [f"{where} lacks one class: no AUC to compare"]
    above = o["low"] > policy.margin
    reasons = [
        f"{where}: AUC {o['auc_a']:.3f} vs champion {o['auc_b']:.3f} on n={o['n']}: "
        f"difference {o['diff']:+.3f}, {o['level']:.0%} interval [{o['low']:+.3f}, "
        f"{o['high']:+.3f}] {'above' if above else 'not above'} margin {policy.margin}"]
    worse = [f"{f} {v['diff']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}] n={v['n']}"
             for f, v in sorted(judged.get("by_family", {}).items())
             if v is not None and v["high"] < 0]
    if worse:
        reasons.append(f"{where}: significantly worse in role family " + "; ".join(worse))
    failed = [f"{name}: {c['reason']}" for name, c in judged.get("checks", {}).items()
              if not c["passed"]]
    reasons += [f"{where}: promotion rule {r}" for r in failed]
    return bool(above and not worse and not failed), reasons


def passed_routes(judged: dict[str, Any], policy: RetrainGatePolicy) -> list[str]:
    """The routes (ROUTES) a judged challenger passes on, from its figures alone."""
    out = []
    for route in ROUTES:
        figures = judged if route == "mature" else judged.get("early")
        if figures is not None and _route_passes(figures, policy, route)[0]:
            out.append(route)
    return out


def passes(judged: dict[str, Any], policy: RetrainGatePolicy) -> tuple[bool, list[str]]:
    """Whether a judged challenger passes (on either route), from its recorded figures
    alone, and why."""
    reasons = _route_passes(judged, policy, ROUTE_ROWS["mature"])[1]
    if judged.get("early") is not None:
        reasons += _route_passes(judged["early"], policy, ROUTE_ROWS["early"])[1]
    return bool(passed_routes(judged, policy)), reasons


@dataclass(frozen=True)
class RetrainVerdict:
    """The gate's choice: `winner` (a window name) or None to keep the champion."""

    decision: str                 # PROMOTED or KEPT
    winner: str | None
    reasons: list[str]
    figures: dict[str, Any]


def _pick(challengers: dict[str, dict[str, Any]], policy: RetrainGatePolicy) -> str | None:
    """The passing challenger with the largest overall difference on a route it passed (no
    champion: the highest gate AUC); None when none passes."""
    def key(name: str) -> float:
        c = challengers[name]
        if c.get("overall") is None:
            return c["metrics"]["overall"].get("roc_auc") or -1.0
        diffs = [(c if r == "mature" else c["early"])["overall"]["diff"]
                 for r in passed_routes(c, policy)]
        return max(diffs, default=c["overall"]["diff"])

    passing = [n for n, c in challengers.items() if c["passed"]]
    return max(passing, key=key) if passing else None


def soundness_figures(checks: dict[str, list[ModelCheck]]) -> dict[str, dict[str, Any]]:
    """Window -> check name -> passed, detail and figures (for the verdict's figures)."""
    return {w: {c.name: {"passed": c.passed, "detail": c.detail, **c.figures} for c in cs}
            for w, cs in checks.items()}


def fairness_of(models: dict[str, Any], champion: Any | None, rows: pd.DataFrame,
                people: pd.DataFrame, policy: GatePolicy) -> dict[str, dict[str, Any]]:
    """Window -> the promotion gate's fairness judgement of that challenger on `rows`
    against the champion on the same rows: passed, failures, notes, the lowest impact
    ratio and n (for the verdict's figures)."""
    out = {}
    champion_sample = None if champion is None else scored_holdout(champion, rows, people)
    for name, model in models.items():
        new, old = compare_fairness(model, champion_sample, rows, people, policy.audit_policy(),
                                    policy.fairness_four_fifths, policy.fairness_margin,
                                    policy.fairness_min_n)
        failures, notes = fairness_failures(new, old, policy.fairness_four_fifths,
                                            policy.fairness_margin, policy.fairness_min_n,
                                            policy.fairness_alpha)
        ratios = [c["impact_ratio"] for c in new["categories"].values()]
        out[name] = {"passed": not failures, "failures": failures, "notes": notes,
                     "min_impact_ratio": min(ratios, default=None), "n": new["n"],
                     "drop_p": new.get("drop_p", {})}
    return out


def refusals(figures: dict[str, Any]) -> list[str]:
    """Why the pick in `figures` is refused (its failed soundness checks, its fairness
    failures); [] when there is no pick or it is sound and fair."""
    winner = figures.get("winner")
    if winner is None:
        return []
    checks = figures.get("soundness", {}).get(winner, {})
    unsound = [f"challenger '{winner}' refused, {name}: {c['detail']}"
               for name, c in checks.items() if not c["passed"]]
    fairness = figures.get("fairness", {}).get(winner, {})
    return unsound + [f"challenger '{winner}' refused, fairness: {f}"
                      for f in fairness.get("failures", [])]


def decide(challengers: dict[str, dict[str, Any]], windows: dict[str, dict[str, Any]],
           gate_cohort: str, champion_version: str | None, policy: RetrainGatePolicy,
           vs_all: dict[str, Any] | None = None,
           soundness: dict[str, dict[str, Any]] | None = None,
           fairness: dict[str, dict[str, Any]] | None = None,
           early_gate: dict[str, Any] | None = None) -> RetrainVerdict:
    """The verdict over judged challengers (`judge_challenger`, by window name);
    `soundness` (soundness_figures) and `fairness` (fairness_of) are recorded beside, for
    the blocking check, and `early_gate` (early_gate_summary) beside the routes."""
    figures = {"gate_cohort": gate_cohort, "champion": champion_version,
               "policy": asdict(policy), "windows": windows, "challengers": challengers,
               "vs_all": vs_all or {}, "soundness": soundness or {},
               "fairness": fairness or {}, "early_gate": early_gate or {}}
    winner = _pick(challengers, policy)
    figures["winner"] = winner
    reasons = [f"{name}: " + "; ".join(c["reasons"]) for name, c in challengers.items()]
    if winner is None:
        early = (" or on the early route" if any(c.get("early") for c in challengers.values())
                 else "")
        head = (f"champion {champion_version} kept: no challenger beat it on cohort "
                f"{gate_cohort}{early} by more than noise")
        return RetrainVerdict(KEPT, None, [head, *reasons], figures)
    routes = passed_routes(challengers[winner], policy) if champion_version else ["mature"]
    where = " and ".join(ROUTE_ROWS[r] + (f" {gate_cohort}" if r == "mature" else "")
                         for r in routes)
    head = (f"challenger '{winner}' replaces champion {champion_version or '(none)'}: it "
            f"beats it on the {where}")
    return RetrainVerdict(PROMOTED, winner, [head, *reasons], figures)


def decide_from_figures(figures: dict[str, Any]) -> tuple[str, str | None]:
    """(decision, winner) recomputed from a verdict's figures alone: KEPT, PROMOTED, or
    REFUSED when the pick failed a soundness check or the fairness gate."""
    policy = RetrainGatePolicy(**figures["policy"])
    judged = {n: {**c, "passed": passes(c, policy)[0] if figures["champion"] else True}
              for n, c in figures["challengers"].items()}
    winner = _pick(judged, policy)
    if winner is None:
        return KEPT, None
    return (REFUSED if refusals({**figures, "winner": winner}) else PROMOTED), winner


def gate(models: dict[str, Any], champion: Any | None, champion_version: str | None,
         gate_rows: pd.DataFrame, gate_cohort: str, windows: dict[str, dict[str, Any]],
         policy: RetrainGatePolicy,
         soundness: dict[str, dict[str, Any]] | None = None,
         people: pd.DataFrame | None = None,
         early_rows: pd.DataFrame | None = None,
         early_proba: dict[str, np.ndarray] | None = None) -> RetrainVerdict:
    """Judge every challenger model (by window name) against the champion on `gate_rows`
    and on `early_rows` (ml.windows.early_gate_rows: the early route) by its out-of-fold
    predictions `early_proba` (by window name, ml.crossfit); also record each window
    against the `all` window, to show what the window bought. With `people`
    (marts.dim_candidates' protected columns, ml.fairness_io) the fairness gate judges every
    challenger too, on the gate cohort."""
    if len(gate_rows) < policy.min_gate_rows:
        figures = {"gate_cohort": gate_cohort, "champion": champion_version,
                   "policy": asdict(policy), "windows": windows, "challengers": {},
                   "n_gate": len(gate_rows), "winner": None, "vs_all": {},
                   "soundness": soundness or {}, "fairness": {}}
        return RetrainVerdict(KEPT, None, [
            f"champion {champion_version} kept: gate cohort {gate_cohort} has "
            f"{len(gate_rows)} hires, fewer than min_gate_rows {policy.min_gate_rows}"],
            figures)
    judged = {n: judge_challenger(m, champion, gate_rows, policy, early_rows,
                                  (early_proba or {}).get(n))
              for n, m in models.items()}
    vs_all = {}
    if "all" in models:
        y = gate_rows[LABEL].astype(bool).to_numpy()
        p_all = np.asarray(models["all"].predict_proba(gate_rows), float)
        for name, model in models.items():
            if name != "all":
                entry = delong_by_family(gate_rows[FAMILY_COLUMN], y,
                                         np.asarray(model.predict_proba(gate_rows), float),
                                         p_all, policy.level)["overall"]
                vs_all[name] = _paired(entry)
    fairness = (None if people is None else
                fairness_of(models, champion, gate_rows, people, policy.gate_policy()))
    return decide(judged, windows, gate_cohort, champion_version, policy, vs_all, soundness,
                  fairness, early_gate_summary(early_rows, policy))


def early_gate_summary(early_rows: pd.DataFrame | None,
                       policy: RetrainGatePolicy) -> dict[str, Any]:
    """What the early route held: hires, cohorts, reviews so far, and whether it was tried."""
    if early_rows is None or not len(early_rows):
        return {"n": 0, "tried": False}
    return {"n": len(early_rows), "tried": len(early_rows) >= policy.min_early_rows,
            "cohorts": sorted(early_rows[COHORT].astype(str).unique()),
            "positive_share": round(float(early_rows[LABEL].astype(bool).mean()), 4),
            "reviews": {str(k): int(v) for k, v in
                        early_rows["n_label_reviews"].value_counts().sort_index().items()}}


def summary_table(figures: dict[str, Any]) -> pd.DataFrame:
    """One row per challenger and role family: difference, interval, n (for metadata)."""
    rows = []
    policy = RetrainGatePolicy(**figures["policy"]) if "policy" in figures else None
    for name, c in figures.get("challengers", {}).items():
        passed = [] if policy is None or not figures.get("champion") else passed_routes(c, policy)
        for route in ROUTES:
            judged = c if route == "mature" else c.get("early")
            if judged is None:
                continue
            for scope, entry in [("overall", judged.get("overall")),
                                 *sorted((judged.get("by_family") or {}).items())]:
                if entry is None:
                    continue
                rows.append({"challenger": name, "route": route, "scope": scope,
                             "auc": entry["auc_a"], "champion_auc": entry["auc_b"],
                             "diff": entry["diff"], "low": entry["low"],
                             "high": entry["high"], "n": entry["n"],
                             "passed": (route in passed) if scope == "overall" else None})
    return pd.DataFrame(rows)


__all__ = ["KEPT", "PROMOTED", "REFUSED", "ROUTES", "ROUTE_ROWS", "RetrainGatePolicy",
           "RetrainVerdict", "decide", "decide_from_figures", "early_gate_summary",
           "fairness_of", "gate", "judge_challenger", "passed_routes", "passes", "refusals",
           "soundness", "soundness_figures", "summary_table"]
