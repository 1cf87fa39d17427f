"""A changed applicant pool and harsher interviewers, each in a simulated quarter of a real
sandbox (real PostgreSQL, dbt, MLflow, endpoint over HTTP; tests/orchestration/
quarter_sandbox.py): the quarter's feature drift is detected and recorded, and the loop's
recorded decision is the trigger's thresholds applied to the recorded figures, recomputed
here, with reasons that name them.

One sandbox: quarter 1 `covariate_shift`, quarter 2 `rater_drift` (each quarter's cohort is
drawn under its own scenario), 2,500 applicants a quarter so every family's drift is tested
(at least the trigger's 100 scored candidates).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from monitoring.loop_trigger import TriggerPolicy, decide, read_figures
from orchestration.loop_cycle import close_quarter
from orchestration.quarters import run_quarter
from tests.orchestration.quarter_sandbox import QUICK_RETRAIN, served_sandbox

HISTORY_N, SEED, PER_QUARTER = 3_000, 29, 2_500
# The module's sandbox (a history, a champion, quarters of dbt builds) is set up inside
# its first test: room beyond the suite's 900 s for a loaded machine.
pytestmark = pytest.mark.timeout(2400)
SCENARIOS = ("covariate_shift", "rater_drift")


@pytest.fixture(scope="module")
def quarters(pg_server, hireloop_home, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenario_quarters")
    with served_sandbox(pg_server, hireloop_home, folder, "scenarios", HISTORY_N,
                        SEED) as box:
        results, closed = [], []
        for scenario in SCENARIOS:
            result = run_quarter(scenario, PER_QUARTER, hireloop=box.runtime,
                                 endpoint=box.endpoint, definitions=box.defs,
                                 instance=box.instance)
            results.append(result)
            closed.append(close_quarter(result, hireloop=box.runtime, definitions=box.defs,
                                        instance=box.instance, retrain_config=QUICK_RETRAIN))
    yield SimpleNamespace(results=results, closed=closed, box=box)


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=SCENARIOS)
def test_the_quarters_feature_drift_is_detected_and_recorded(quarters, index):
    result = quarters.results[index]
    policy = TriggerPolicy()
    drift = quarters.box.read(
        "SELECT role_family, drift_share, n_current, alarm FROM "
        f"monitoring.feature_drift_summary WHERE as_of = '{result.as_of}'")
    tested = drift[drift["n_current"] >= policy.min_drift_n]
    assert len(tested) == 4, drift  # every family has enough scored candidates to test
    over = tested[tested["drift_share"] > policy.max_drift_share]
    assert len(over) > 0, drift  # the scenario's change is seen in at least one family
    assert over["alarm"].all()  # and the drift policy's own alarm agrees


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=SCENARIOS)
def test_the_recorded_decision_is_the_thresholds_applied_to_the_recorded_figures(
        quarters, index):
    result, closed = quarters.results[index], quarters.closed[index]
    rows = quarters.box.read(
        "SELECT decision, reasons, figures FROM monitoring.loop_decisions "
        f"WHERE quarter = '{result.quarter}'")
    assert len(rows) == 1  # the quarter's one decision
    row = rows.iloc[0]
    conn = quarters.box.pg_server.endpoint.connect(quarters.box.database)
    try:
        with conn.cursor() as cur:
            again = decide(read_figures(cur, result.as_of.isoformat()), TriggerPolicy())
    finally:
        conn.close()
    assert again.retrain  # recomputed from the recorded figures: past a threshold
    assert row["decision"] in ("retrained_promoted", "retrained_kept", "refused")
    assert closed.row.decision == row["decision"]
    recorded = row["figures"]["trigger"]
    assert recorded["reasons"] == again.reasons  # every reason, recomputed
    breaches = [r for r in again.reasons if r.endswith(": retrain")]
    assert any("feature drift share" in r for r in breaches)
    assert row["reasons"][:len(breaches)] == [f"trigger: {r}" for r in breaches]
