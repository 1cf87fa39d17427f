"""The promotion gate: does the challenger replace the champion? And people's overrides.

The gate is a list of independent checks, each comparing challenger and champion metrics
computed on the same newest mature hires; the challenger is promoted only if every check
passes (or there is no champion yet). A kept champion is a normal outcome. Every decision,
automatic or by a person (`promote`, `rollback`), is written as tags on the version and as
an append-only event on the registered model, so the promotion history lives in MLflow.

Metrics look like::

    {"overall": {"roc_auc": 0.71, "ece": 0.03, "n": 800},
     "by_family": {"sales": {"roc_auc": 0.69, "n": 210}, ...}}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
from mlflow import MlflowClient

from ml.evaluation import gate_metrics, holdout_metrics, load_version_model
from ml.fairness_gate import compare_fairness, fairness_failures
from ml.fairness_io import scored_holdout
from ml.fairness_tables import AuditPolicy
from ml.registry import (
    CHALLENGER,
    CHAMPION,
    MODEL_NAME,
    PREVIOUS_CHAMPION,
    champion_version,
    version_by_alias,
)

Metrics = dict[str, Any]

HISTORY_PREFIX = "promotion.history."
MAX_FAIRNESS_REASONS = 5  # the reasons land in a version tag: keep them readable and short


@dataclass(frozen=True)
class GatePolicy:
    """Thresholds of the gate.

    auc_margin: the challenger's overall AUC must exceed the champion's by this much.
    per_family_tolerance: no role family's AUC may drop by more than this.
    calibration_tolerance: the overall ECE may not rise by more than this.
    fairness_four_fifths: no reported category's impact ratio may be under this with a
    significant difference (adjusted p < fairness_alpha; categories under
    fairness_min_share of the holdout are not reported), nor under it and more than
    fairness_margin below the champion's when it holds at least fairness_min_n people
    (ml.fairness_gate).
    """

    auc_margin: float = 0.005
    per_family_tolerance: float = 0.02
    calibration_tolerance: float = 0.01
    fairness_four_fifths: float = 0.8
    fairness_alpha: float = 0.05
    fairness_min_share: float = 0.02
    fairness_margin: float = 0.1
    fairness_min_n: int = 30

    def audit_policy(self) -> AuditPolicy:
        return AuditPolicy(min_share=self.fairness_min_share,
                           four_fifths=self.fairness_four_fifths, alpha=self.fairness_alpha)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)


class GateCheck(Protocol):
    """One check of the gate; append more (e.g. a fairness audit) to the list passed to decide."""

    def __call__(self, challenger: Metrics, champion: Metrics, policy: GatePolicy) -> CheckResult:
        ...


@dataclass(frozen=True)
class Decision:
    promote: bool
    reasons: list[str]
    figures: dict[str, Any]

    @property
    def outcome(self) -> str:
        return "promoted" if self.promote else "kept_champion"


def _num(value: Any) -> float | None:
    """A finite float, or None for a missing / NaN figure (e.g. a one-class family)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def check_overall_auc(challenger: Metrics, champion: Metrics, policy: GatePolicy) -> CheckResult:
    new = _num(challenger.get("overall", {}).get("roc_auc"))
    old = _num(champion.get("overall", {}).get("roc_auc"))
    figures = {"challenger": new, "champion": old, "margin": policy.auc_margin}
    if new is None or old is None:
        return CheckResult("overall_auc", False, "overall AUC missing; cannot compare", figures)
    passed = new >= old + policy.auc_margin
    verb = "beats" if passed else "does not beat"
    reason = f"overall AUC {new:.4f} {verb} champion {old:.4f} + margin {policy.auc_margin}"
    return CheckResult("overall_auc", passed, reason, figures)


def check_role_families(challenger: Metrics, champion: Metrics, policy: GatePolicy) -> CheckResult:
    new_by = challenger.get("by_family", {})
    figures: dict[str, Any] = {"tolerance": policy.per_family_tolerance, "families": {}}
    worse, missing, skipped = [], [], []
    for family, old_metrics in sorted(champion.get("by_family", {}).items()):
        old = _num(old_metrics.get("roc_auc"))
        new = _num(new_by.get(family, {}).get("roc_auc"))
        figures["families"][family] = {"challenger": new, "champion": old}
        if old is None:
            skipped.append(family)  # champion has no AUC there (one class): nothing to defend
        elif new is None:
            missing.append(family)
        elif new < old - policy.per_family_tolerance:
            worse.append(f"{family} {new:.4f} < {old:.4f} - {policy.per_family_tolerance}")
    if missing or worse:
        parts = [f"worse in role family: {w}" for w in worse]
        parts += [f"no AUC for role family {f}" for f in missing]
        return CheckResult("role_families", False, "; ".join(parts), figures)
    note = f" (no champion AUC for {', '.join(skipped)})" if skipped else ""
    reason = f"no role family worse than tolerance {policy.per_family_tolerance}{note}"
    return CheckResult("role_families", True, reason, figures)


def check_calibration(challenger: Metrics, champion: Metrics, policy: GatePolicy) -> CheckResult:
    new = _num(challenger.get("overall", {}).get("ece"))
    old = _num(champion.get("overall", {}).get("ece"))
    figures = {"challenger": new, "champion": old, "tolerance": policy.calibration_tolerance}
    if new is None or old is None:
        return CheckResult("calibration", False, "ECE missing; cannot compare", figures)
    passed = new <= old + policy.calibration_tolerance
    verb = "within" if passed else "worse than"
    reason = f"ECE {new:.4f} {verb} champion {old:.4f} + tolerance {policy.calibration_tolerance}"
    return CheckResult("calibration", passed, reason, figures)


def check_fairness(challenger: Metrics, champion: Metrics, policy: GatePolicy) -> CheckResult:
    """The four-fifths rule on the challenger's holdout, and no category's ratio sunk under
    it well below the champion's (figures: metrics["fairness"], ml.fairness_gate). Fails
    closed without figures. Applies to the first model too (`applies_to_first_model`)."""
    new = challenger.get("fairness")
    figures: dict[str, Any] = {"four_fifths": policy.fairness_four_fifths,
                               "alpha": policy.fairness_alpha,
                               "margin": policy.fairness_margin,
                               "min_n": policy.fairness_min_n}
    if new is None:
        return CheckResult("fairness", False, "no fairness figures: the gate needs the "
                           "holdout's protected attributes (judge(..., people=))", figures)
    old = (champion or {}).get("fairness")
    failures, notes = fairness_failures(new, old, policy.fairness_four_fifths,
                                        policy.fairness_margin, policy.fairness_min_n,
                                        policy.fairness_alpha)
    ratios = {k: v["impact_ratio"] for k, v in new["categories"].items()}
    figures.update({"challenger_min_impact_ratio": min(ratios.values(), default=None),
                    "failures": failures})
    if failures:
        shown = failures[:MAX_FAIRNESS_REASONS]
        more = len(failures) - len(shown)
        reason = "; ".join(shown) + (f"; and {more} more (figures)" if more else "")
        return CheckResult("fairness", False, reason, figures)
    note = f" ({'; '.join(notes)})" if notes else ""
    reason = (f"every reported category's impact ratio meets the four-fifths rule or differs "
              f"insignificantly, none sunk below the champion's{note}")
    return CheckResult("fairness", True, reason, figures)


check_fairness.applies_to_first_model = True  # type: ignore[attr-defined]

DEFAULT_CHECKS: tuple[GateCheck, ...] = (check_overall_auc, check_role_families, check_calibration)


def decide(
    challenger_metrics: Metrics,
    champion_metrics: Metrics | None,
    policy: GatePolicy | None = None,
    checks: Sequence[GateCheck | Callable[..., CheckResult]] = DEFAULT_CHECKS,
) -> Decision:
    """Run every check; promote when all pass. Without a champion only the checks marked
    `applies_to_first_model` (the fairness check) run: with none of them, it promotes."""
    policy = policy or GatePolicy()
    figures: dict[str, Any] = {"policy": asdict(policy)}
    if champion_metrics is None:
        figures["challenger"] = challenger_metrics.get("overall", {})
        first = [c for c in checks if getattr(c, "applies_to_first_model", False)]
        results = [check(challenger_metrics, None, policy) for check in first]
        if results:
            figures["checks"] = {r.name: {"passed": r.passed, **r.figures} for r in results}
        reasons = ["no champion yet"] + [
            f"{'pass' if r.passed else 'FAIL'} {r.name}: {r.reason}" for r in results]
        return Decision(all(r.passed for r in results), reasons, figures)
    results = [check(challenger_metrics, champion_metrics, policy) for check in checks]
    figures["checks"] = {r.name: {"passed": r.passed, **r.figures} for r in results}
    reasons = [f"{'pass' if r.passed else 'FAIL'} {r.name}: {r.reason}" for r in results]
    return Decision(all(r.passed for r in results), reasons, figures)


@dataclass(frozen=True)
class Judgement:
    """Challenger and champion figures on the same holdout rows, and the gate's decision."""

    challenger: Metrics
    champion: Metrics | None  # None: there was no champion to judge
    champion_version: str | None
    decision: Decision


def judge(
    client: MlflowClient,
    challenger: Any,
    holdout: pd.DataFrame,
    policy: GatePolicy | None = None,
    *,
    model_name: str = MODEL_NAME,
    tracking_uri: str | None = None,
    checks: Sequence[GateCheck | Callable[..., CheckResult]] = DEFAULT_CHECKS,
    people: pd.DataFrame | None = None,
) -> Judgement:
    """Score the challenger (a HireloopModel) and the registered champion on the same
    `holdout` rows (the challenger's newest mature hires) with the same metric code, and
    decide. With `people` (marts.dim_candidates' protected columns, ml.fairness_io) the
    fairness figures are computed too and `check_fairness` joins the checks. Reads the
    registry, writes nothing (`apply_decision` records the outcome)."""
    policy = policy or GatePolicy()
    champion = champion_version(client, model_name)
    new = gate_metrics(holdout_metrics(challenger, holdout))
    old, model = None, None
    if champion is not None:
        model = load_version_model(client, champion.version, model_name,
                                   tracking_uri=tracking_uri)
        old = gate_metrics(holdout_metrics(model, holdout))
    if people is not None:
        champion_sample = None if model is None else scored_holdout(model, holdout, people)
        new["fairness"], old_fairness = compare_fairness(
            challenger, champion_sample, holdout, people, policy.audit_policy(),
            policy.fairness_four_fifths, policy.fairness_margin, policy.fairness_min_n)
        if old is not None:
            old["fairness"] = old_fairness
        if check_fairness not in checks:
            checks = (*checks, check_fairness)
    return Judgement(new, old, None if champion is None else str(champion.version),
                     decide(new, old, policy, checks))


IDENTICAL = "identical_version"


def no_new_challenger(version: str, champion_before: str | None) -> dict[str, Any]:
    """The gate's record when a build trained what an existing version already is:
    nothing to decide, nothing recorded, the champion stays."""
    return {"event": IDENTICAL, "version": version, "promote": False,
            "reasons": [f"same data, training config and code as version {version}: no new "
                        f"challenger, champion stays {champion_before or 'unset'}"],
            "champion_before": champion_before, "champion_after": champion_before}


# -- recording ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _append_history(client: MlflowClient, model_name: str, event: dict[str, Any]) -> str:
    """Add one event tag to the registered model; keys are numbered, never overwritten."""
    tags = client.get_registered_model(model_name).tags
    numbers = [int(k[len(HISTORY_PREFIX):]) for k in tags if k.startswith(HISTORY_PREFIX)
               and k[len(HISTORY_PREFIX):].isdigit()]
    key = f"{HISTORY_PREFIX}{max(numbers, default=0) + 1:06d}"
    client.set_registered_model_tag(model_name, key, json.dumps(event, sort_keys=True))
    return key


def promotion_history(client: MlflowClient, model_name: str = MODEL_NAME) -> list[dict[str, Any]]:
    """Every recorded decision, oldest first."""
    tags = client.get_registered_model(model_name).tags
    keys = sorted(k for k in tags if k.startswith(HISTORY_PREFIX))
    return [json.loads(tags[k]) for k in keys]


def _record(
    client: MlflowClient,
    model_name: str,
    version: str,
    event: str,
    decision: Decision,
    actor: str,
    why: str,
    champion_before: str | None,
    champion_after: str | None,
) -> dict[str, Any]:
    record = {
        "event": event,
        "version": version,
        "promote": decision.promote,
        "reasons": decision.reasons,
        "figures": decision.figures,
        "actor": actor,
        "why": why,
        "at": _now(),
        "champion_before": champion_before,
        "champion_after": champion_after,
    }
    tags = {
        "promotion.decision": event,
        "promotion.promote": str(decision.promote).lower(),
        "promotion.reasons": json.dumps(decision.reasons),
        "promotion.figures": json.dumps(decision.figures, sort_keys=True, default=str),
        "promotion.actor": actor,
        "promotion.why": why,
        "promotion.at": record["at"],
    }
    if event != "rollback":
        # What this version replaced (or faced); a rollback keeps the original, so that
        # further rollbacks can walk back through earlier champions.
        tags["promotion.champion_before"] = champion_before or ""
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)
    record["history_key"] = _append_history(client, model_name, record)
    return record


def _move_champion(client: MlflowClient, model_name: str, version: str) -> str | None:
    """Point `champion` at `version`, keeping the one it replaces as `previous_champion`."""
    before = champion_version(client, model_name)
    if before is not None and str(before.version) != version:
        client.set_registered_model_alias(model_name, PREVIOUS_CHAMPION, before.version)
    client.set_registered_model_alias(model_name, CHAMPION, version)
    challenger = version_by_alias(client, CHALLENGER, model_name)
    if challenger is not None and str(challenger.version) == version:
        client.delete_registered_model_alias(model_name, CHALLENGER)
    return str(before.version) if before is not None else None


def apply_decision(
    client: MlflowClient,
    version: str | int,
    decision: Decision,
    actor: str,
    why: str,
    *,
    model_name: str = MODEL_NAME,
    event: str | None = None,
) -> dict[str, Any]:
    """Act on a gate decision and record it; returns the record (for Dagster metadata)."""
    version = str(version)
    if decision.promote:
        before_v = _move_champion(client, model_name, version)
        after_v: str | None = version
    else:
        before = champion_version(client, model_name)
        before_v = after_v = str(before.version) if before is not None else None
    return _record(
        client, model_name, version, event or decision.outcome, decision, actor, why,
        before_v, after_v,
    )


def promote(
    client: MlflowClient, version: str | int, actor: str, why: str, *, model_name: str = MODEL_NAME
) -> dict[str, Any]:
    """A person makes `version` champion, bypassing the gate; recorded with who and why."""
    if not why.strip():
        raise ValueError("a manual promotion needs a reason")
    client.get_model_version(model_name, str(version))  # fails loudly for an unknown version
    decision = Decision(True, [f"manual promotion by {actor}: {why}"], {})
    return apply_decision(
        client, version, decision, actor, why, model_name=model_name, event="manual_promote"
    )


class NothingToRollBack(RuntimeError):
    """There is no previous champion to return to."""


def rollback(
    client: MlflowClient, actor: str, why: str, *, model_name: str = MODEL_NAME
) -> dict[str, Any]:
    """Return `champion` to the previous champion; recorded with who and why.

    Repeated rollbacks walk further back: the restored version's own record says which
    champion it had replaced, and that becomes the new `previous_champion`.
    """
    if not why.strip():
        raise ValueError("a rollback needs a reason")
    current = champion_version(client, model_name)
    target = version_by_alias(client, PREVIOUS_CHAMPION, model_name)
    if current is None or target is None:
        raise NothingToRollBack(f"{model_name} has no previous champion to roll back to")
    current_v, target_v = str(current.version), str(target.version)
    client.set_registered_model_alias(model_name, CHAMPION, target_v)
    earlier = target.tags.get("promotion.champion_before") or ""
    if earlier and earlier not in (target_v, current_v):
        client.set_registered_model_alias(model_name, PREVIOUS_CHAMPION, earlier)
    else:
        client.delete_registered_model_alias(model_name, PREVIOUS_CHAMPION)
    client.set_model_version_tag(model_name, current_v, "promotion.rolled_back_at", _now())
    client.set_model_version_tag(model_name, current_v, "promotion.rolled_back_by", actor)
    decision = Decision(True, [f"rollback by {actor} from version {current_v}: {why}"], {})
    return _record(
        client, model_name, target_v, "rollback", decision, actor, why, current_v, target_v,
    )
