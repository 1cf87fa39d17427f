"""A changed applicant pool and harsher interviewers, each in a simulated quarter of a real
sandbox (real PostgreSQL, dbt, MLflow, endpoint over HTTP; tests/orchestration/
quarter_sandbox.py): the quarter's feature drift is detected and recorded, and the loop's
recorded decision is the trigger's thresholds applied to the recorded figures, recomputed
here, with reasons that name them.

Drift compares a quarter once every interviewed applicant of it is decided
(monitoring/drift_frames.py: a half-decided quarter holds the quick rejects, not the slow
hires), so a quarter's drift is recorded when the next quarter closes. One sandbox: quarter 1
`covariate_shift`, quarter 2 `rater_drift`, quarter 3 `stable` (each quarter's cohort is
drawn under its own scenario); quarter 2's close judges quarter 1, quarter 3's judges
quarter 2. At the demo's volume every family's drift is tested (at least the trigger's 100).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from monitoring.loop_trigger import TriggerPolicy, decide, read_figures
from orchestration.loop_cycle import close_quarter
from orchestration.quarters import run_quarter
from tests.orchestration.quarter_sandbox import QUICK_RETRAIN, served_sandbox

HISTORY_N, SEED, PER_QUARTER = 3_000, 29, 1_666
# The module's sandbox (a history, a champion, quarters of dbt builds) is set up inside
# its first test: room beyond the suite's 900 s for a loaded machine.
pytestmark = pytest.mark.timeout(2400)
SCENARIOS = ("covariate_shift", "rater_drift", "stable")
JUDGED = {"covariate_shift": 1, "rater_drift": 2}  # the close that judges the scenario's quarter


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


def _cursor_read(box, read):
    conn = box.pg_server.endpoint.connect(box.database)
    try:
        with conn.cursor() as cur:
            return read(conn, cur)
    finally:
        conn.close()


@pytest.mark.parametrize("scenario", JUDGED)
def test_the_quarters_feature_drift_is_detected_and_recorded(quarters, scenario):
    judged, close = quarters.results[SCENARIOS.index(scenario)], quarters.results[
        JUDGED[scenario]]
    policy = TriggerPolicy()
    drift = quarters.box.read(
        "SELECT role_family, drift_share, n_current, alarm, quarter FROM "
        f"monitoring.feature_drift_summary WHERE as_of = '{close.as_of}'")
    # the close's drift compared the scenario's quarter, the newest one fully decided
    assert set(drift["quarter"]) == {judged.quarter}, drift
    tested = drift[drift["n_current"] >= policy.min_drift_n]
    assert len(tested) == 4, drift  # every family has enough decided applicants to test
    over = tested[tested["drift_share"] > policy.max_drift_share]
    assert len(over) > 0, drift  # the scenario's change is seen in at least one family
    assert over["alarm"].all()  # and the drift policy's own alarm agrees


@pytest.mark.parametrize("scenario", JUDGED)
def test_the_recorded_decision_is_the_thresholds_applied_to_the_recorded_figures(
        quarters, scenario):
    index = JUDGED[scenario]
    result, closed = quarters.results[index], quarters.closed[index]
    rows = quarters.box.read(
        "SELECT decision, reasons, figures FROM monitoring.loop_decisions "
        f"WHERE quarter = '{result.quarter}'")
    assert len(rows) == 1  # the quarter's one decision
    row = rows.iloc[0]
    again = decide(_cursor_read(quarters.box, lambda _, cur: read_figures(
        cur, result.as_of.isoformat(), TriggerPolicy())), TriggerPolicy())
    assert again.retrain  # recomputed from the recorded figures: past a threshold
    assert row["decision"] in ("retrained_promoted", "retrained_kept", "refused")
    assert closed.row.decision == row["decision"]
    recorded = row["figures"]["trigger"]
    assert recorded["reasons"] == again.reasons  # every reason, recomputed
    breaches = [r for r in again.reasons if r.endswith(": retrain")]
    assert any("feature drift share" in r for r in breaches)
    assert row["reasons"][:len(breaches)] == [f"trigger: {r}" for r in breaches]
