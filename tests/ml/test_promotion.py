"""The promotion gate against a real PostgreSQL-backed MLflow registry."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest

from ml.fingerprint import code_fingerprint, config_fingerprint, data_fingerprint
from ml.promotion import (
    GatePolicy,
    NothingToRollBack,
    apply_decision,
    decide,
    promote,
    promotion_history,
    rollback,
)
from ml.registry import (
    CHALLENGER,
    PREVIOUS_CHAMPION,
    TAG_DATA_SHA256,
    champion_version,
    identical_version,
    identity_tags,
    register_version,
    run_tags,
    version_by_alias,
)
from tests.ml.conftest import log_constant_model

FAMILIES = ("sales", "customer_service", "rnd", "manufacturing")


def metrics(auc: float, ece: float = 0.03, **family_auc: float) -> dict:
    by_family = {f: {"roc_auc": family_auc.get(f, auc), "n": 200} for f in FAMILIES}
    return {"overall": {"roc_auc": auc, "ece": ece, "n": 800}, "by_family": by_family}


@pytest.fixture(scope="module")
def run_id(mlflow_target) -> str:
    return log_constant_model(0.4)


@pytest.fixture
def model_name(mlflow_target) -> str:
    """A registered model of its own per test, so aliases do not leak between tests."""
    return f"hireloop-kpi-test-{uuid.uuid4().hex[:8]}"


def new_version(client, run_id: str, model_name: str) -> str:
    return str(register_version(client, run_id, "model", model_name=model_name).version)


def gate(client, model_name, version, challenger_metrics, champion_metrics):
    decision = decide(challenger_metrics, champion_metrics, GatePolicy())
    return apply_decision(
        client, version, decision, "dagster", "scheduled retrain", model_name=model_name
    )


# -- pure gate -----------------------------------------------------------------------------


def test_gate_without_champion_promotes():
    decision = decide(metrics(0.60), None)
    assert decision.promote and decision.reasons == ["no champion yet"]


def test_gate_checks_each_condition():
    champion = metrics(0.70)
    assert decide(metrics(0.72), champion).promote
    assert not decide(metrics(0.702), champion).promote  # inside the AUC margin
    one_family = decide(metrics(0.74, rnd=0.66), champion)
    assert not one_family.promote
    assert any("FAIL role_families" in r and "rnd" in r for r in one_family.reasons)
    assert not decide(metrics(0.74, ece=0.05), champion).promote
    assert decide(metrics(0.74, ece=0.039), champion).promote  # within calibration tolerance


def test_gate_accepts_extra_checks():
    from ml.promotion import CheckResult

    def veto(challenger, champion, policy):
        return CheckResult("fairness", False, "selection-rate ratio below 0.8", {"ratio": 0.7})

    decision = decide(metrics(0.80), metrics(0.70), checks=[veto])
    assert not decision.promote
    assert decision.figures["checks"]["fairness"]["ratio"] == 0.7


def test_missing_family_figure_fails_closed():
    challenger = metrics(0.80)
    del challenger["by_family"]["manufacturing"]
    assert not decide(challenger, metrics(0.70)).promote


# -- registry ------------------------------------------------------------------------------


def test_register_sets_challenger(mlflow_target, run_id, model_name):
    client = mlflow_target.client
    version = new_version(client, run_id, model_name)
    assert str(version_by_alias(client, CHALLENGER, model_name).version) == version
    assert champion_version(client, model_name) is None


def test_first_version_becomes_champion(mlflow_target, run_id, model_name):
    client = mlflow_target.client
    v1 = new_version(client, run_id, model_name)
    record = gate(client, model_name, v1, metrics(0.65), None)
    assert record["event"] == "promoted"
    assert str(champion_version(client, model_name).version) == v1
    assert version_by_alias(client, CHALLENGER, model_name) is None


def test_better_challenger_promoted(mlflow_target, run_id, model_name):
    client = mlflow_target.client
    v1 = new_version(client, run_id, model_name)
    gate(client, model_name, v1, metrics(0.65), None)
    v2 = new_version(client, run_id, model_name)
    gate(client, model_name, v2, metrics(0.70), metrics(0.65))

    assert str(champion_version(client, model_name).version) == v2
    assert str(version_by_alias(client, PREVIOUS_CHAMPION, model_name).version) == v1
    tags = client.get_model_version(model_name, v2).tags
    assert tags["promotion.decision"] == "promoted"
    assert tags["promotion.champion_before"] == v1
    figures = json.loads(tags["promotion.figures"])
    assert figures["checks"]["overall_auc"] == {
        "passed": True, "challenger": 0.70, "champion": 0.65, "margin": 0.005,
    }


@pytest.mark.parametrize(
    ("challenger", "failing"),
    [
        (metrics(0.64), "overall_auc"),
        (metrics(0.72, sales=0.60), "role_families"),
        (metrics(0.72, ece=0.08), "calibration"),
    ],
    ids=["worse_overall", "worse_in_one_family", "worse_calibration"],
)
def test_worse_challenger_kept_out(mlflow_target, run_id, model_name, challenger, failing):
    client = mlflow_target.client
    v1 = new_version(client, run_id, model_name)
    gate(client, model_name, v1, metrics(0.65), None)
    v2 = new_version(client, run_id, model_name)
    record = gate(client, model_name, v2, challenger, metrics(0.65))

    assert record["event"] == "kept_champion" and not record["promote"]
    assert str(champion_version(client, model_name).version) == v1
    assert str(version_by_alias(client, CHALLENGER, model_name).version) == v2
    tags = client.get_model_version(model_name, v2).tags
    assert tags["promotion.decision"] == "kept_champion"
    assert tags["promotion.promote"] == "false"
    reasons = json.loads(tags["promotion.reasons"])
    assert any(r.startswith(f"FAIL {failing}") for r in reasons)
    assert json.loads(tags["promotion.figures"])["checks"][failing]["passed"] is False
    assert [e["event"] for e in promotion_history(client, model_name)] == [
        "promoted", "kept_champion",
    ]


def test_manual_promote_and_rollback(mlflow_target, run_id, model_name):
    client = mlflow_target.client
    v1 = new_version(client, run_id, model_name)
    gate(client, model_name, v1, metrics(0.65), None)
    v2 = new_version(client, run_id, model_name)
    gate(client, model_name, v2, metrics(0.70), metrics(0.65))
    v3 = new_version(client, run_id, model_name)
    gate(client, model_name, v3, metrics(0.60), metrics(0.70))  # kept out by the gate

    promote(client, v3, actor="alice", why="hotfix for rnd", model_name=model_name)
    assert str(champion_version(client, model_name).version) == v3
    tags = client.get_model_version(model_name, v3).tags
    assert (tags["promotion.decision"], tags["promotion.actor"], tags["promotion.why"]) == (
        "manual_promote", "alice", "hotfix for rnd",
    )

    record = rollback(client, actor="bob", why="rnd scores look off", model_name=model_name)
    assert (record["champion_before"], record["champion_after"]) == (v3, v2)
    assert str(champion_version(client, model_name).version) == v2
    assert str(version_by_alias(client, PREVIOUS_CHAMPION, model_name).version) == v1
    tags = client.get_model_version(model_name, v2).tags
    assert (tags["promotion.decision"], tags["promotion.actor"], tags["promotion.why"]) == (
        "rollback", "bob", "rnd scores look off",
    )
    assert client.get_model_version(model_name, v3).tags["promotion.rolled_back_by"] == "bob"

    rollback(client, actor="bob", why="further back", model_name=model_name)
    assert str(champion_version(client, model_name).version) == v1
    with pytest.raises(NothingToRollBack):
        rollback(client, actor="bob", why="nothing left", model_name=model_name)

    history = promotion_history(client, model_name)
    assert [(e["event"], e["version"], e["actor"]) for e in history] == [
        ("promoted", v1, "dagster"),
        ("promoted", v2, "dagster"),
        ("kept_champion", v3, "dagster"),
        ("manual_promote", v3, "alice"),
        ("rollback", v2, "bob"),
        ("rollback", v1, "bob"),
    ]


def test_manual_actions_need_a_reason(mlflow_target, run_id, model_name):
    client = mlflow_target.client
    v1 = new_version(client, run_id, model_name)
    with pytest.raises(ValueError):
        promote(client, v1, actor="alice", why=" ", model_name=model_name)


# -- run tags ------------------------------------------------------------------------------


def test_data_fingerprint_ignores_order_but_not_content():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    shuffled = frame.iloc[[2, 0, 1]][["b", "a"]]
    assert data_fingerprint(frame) == data_fingerprint(shuffled)
    changed = frame.assign(a=[1.0, 2.0, 3.5])
    assert data_fingerprint(changed)["sha256"] != data_fingerprint(frame)["sha256"]
    assert data_fingerprint(frame)["rows"] == 3


def test_data_fingerprint_ignores_summation_noise_of_a_rebuild():
    """dbt rebuilding the same data sums aggregates in another order: last-bit differences
    (measured 1.8e-15) must not make a new version; a change in the 6th decimal must."""
    frame = pd.DataFrame({"a": [1.0 / 3, 2.0 / 7, 0.1 + 0.2], "b": ["x", "y", "z"]})
    rebuilt = frame.assign(a=frame["a"] + np.array([1.8e-15, -8.9e-16, 0.0]))
    assert not rebuilt["a"].equals(frame["a"])
    assert data_fingerprint(rebuilt) == data_fingerprint(frame)
    moved = frame.assign(a=frame["a"] + np.array([0.0, 2e-6, 0.0]))
    assert data_fingerprint(moved)["sha256"] != data_fingerprint(frame)["sha256"]


def test_run_tags(mlflow_target):
    fingerprint = data_fingerprint(pd.DataFrame({"a": [1.0]}))
    tags = run_tags("dagster-run-1", "abc123", fingerprint)
    assert tags[TAG_DATA_SHA256] == fingerprint["sha256"]
    assert tags["dagster.run_id"] == "dagster-run-1"
    assert tags["mlflow.source.git.commit"] == "abc123"
    assert "dagster.run_id" not in run_tags(None, None, fingerprint)


def test_identical_version_matches_data_config_and_code_only_all_three(
        mlflow_target, run_id, model_name, tmp_path):
    client = mlflow_target.client
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "train.py").write_text("depth = 3\n")
    data = data_fingerprint(pd.DataFrame({"a": [1.0, 2.0]}))["sha256"]
    identity = identity_tags(data, config_fingerprint({"seed": 0, "n_search": 8}),
                             code_fingerprint(code))
    assert identical_version(client, identity, model_name) is None  # no model yet
    first = register_version(client, run_id, "model", model_name=model_name, tags=identity)
    assert identical_version(client, identity, model_name).version == first.version
    # Same data, config and code in another order or spelling: the same version.
    assert identity == identity_tags(
        data_fingerprint(pd.DataFrame({"a": [2.0, 1.0]}))["sha256"],
        config_fingerprint({"n_search": 8, "seed": 0}), code_fingerprint(code))
    # Any one of the three changed: nothing identical.
    changed_config = {**identity, **identity_tags(data, config_fingerprint({"seed": 1}),
                                                   code_fingerprint(code))}
    (code / "train.py").write_text("depth = 4\n")
    changed_code = identity_tags(data, identity["hireloop.train.config_sha256"],
                                 code_fingerprint(code))
    changed_data = {**identity, TAG_DATA_SHA256: data_fingerprint(
        pd.DataFrame({"a": [1.0, 2.5]}))["sha256"]}
    for other in (changed_config, changed_code, changed_data):
        assert other != identity and identical_version(client, other, model_name) is None
    untagged = register_version(client, run_id, "model", model_name=model_name)
    assert identical_version(client, identity, model_name).version == first.version
    assert untagged.version != first.version
