"""The retraining trigger: its decision is the thresholds applied to the recorded figures
(recomputed here, independently), its reasons name each figure and threshold, and it reads
the newest as-of's figures from the real monitoring tables. Real PostgreSQL."""

from __future__ import annotations

import pytest

from monitoring.loop_decisions import LoopDecision, record_decision
from monitoring.loop_trigger import TriggerPolicy, decide, quarter_looked_at, read_figures
from tests.monitoring.loop_figures import (
    insert_drift,
    insert_drivers,
    insert_quality,
    stable_quarter,
)


@pytest.fixture()
def cursor(pg_server):
    conn = pg_server.endpoint.connect(pg_server.create_database("trigger"))
    conn.autocommit = True
    with conn.cursor() as cur:
        yield cur
    conn.close()


def expected_breaches(figures: dict, p: TriggerPolicy) -> set[tuple[str, str]]:
    """The thresholds applied by hand: (figure, family) past its threshold with enough n."""
    out = set()
    for r in figures["drift"]:
        if r["n_current"] >= p.min_drift_n and r["drift_share"] > p.max_drift_share:
            out.add(("drift_share", r["role_family"]))
    for r in figures["quality"]:
        if r["kind"] == "realised":
            if r["n"] >= p.min_auc_n and r["reference_auc"] - r["auc"] > p.max_auc_drop:
                out.add(("auc_drop", r["role_family"]))
            if r["n"] >= p.min_calibration_n and r["calibration_error"] > \
                    p.max_calibration_error:
                out.add(("calibration_error", r["role_family"]))
        if r["kind"] == "early" and r["n"] >= p.min_early_n and \
                abs(r["mean_predicted"] - r["mean_observed"]) > p.max_early_gap:
            out.add(("early_gap", r["role_family"]))
        if r["kind"] == "early" and r["early_auc_n"] >= p.min_early_auc_n and \
                r["early_auc"] is not None and r["early_reference_auc"] is not None and \
                r["early_reference_auc"] - r["early_auc"] > p.max_early_auc_drop:
            out.add(("early_auc_drop", r["role_family"]))
    for r in figures["drivers"]:
        if r["n_current"] >= p.min_driver_n and r["p_value"] < p.driver_change_alpha:
            out.add(("driver_change_p", r["role_family"]))
    return out


SCENARIOS = {
    "stable": lambda cur: None,
    "covariate_shift": lambda cur: insert_drift(cur, "2025-04-01", "rnd", 5 / 32,
                                                model_version="2"),
    "auc_drop": lambda cur: insert_quality(cur, "2025-04-01", "rnd", "realised", "2024-Q1",
                                           360, auc=0.58, reference_auc=0.72,
                                           calibration_error=0.06, model_version="2"),
    "miscalibrated": lambda cur: insert_quality(cur, "2025-04-01", "sales", "realised",
                                                "2024-Q1", 330, auc=0.71, reference_auc=0.72,
                                                calibration_error=0.19, model_version="2"),
    "concept_drift_early": lambda cur: insert_quality(
        cur, "2025-04-01", "rnd", "early", "2024-Q4", 110, mean_predicted=0.58,
        mean_observed=0.38, model_version="2"),
    "drivers_moved": lambda cur: insert_drivers(cur, "2025-04-01", "rnd", 4.6e-8, 185,
                                                model_version="2"),
    "drivers_moved_too_few": lambda cur: insert_drivers(cur, "2025-04-01", "rnd", 4.6e-8, 60,
                                                        model_version="2"),
    "too_few_to_tell": lambda cur: insert_quality(
        cur, "2025-04-01", "sales", "early", "2024-Q4", 30, mean_predicted=0.6,
        mean_observed=0.1, model_version="2"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_decision_is_the_thresholds_applied_to_the_recorded_figures(cursor, scenario):
    stable_quarter(cursor, "2025-01-01")                   # an older as-of: not looked at
    insert_drift(cursor, "2025-01-01", "rnd", 0.5, model_version="0")
    stable_quarter(cursor, "2025-04-01")
    SCENARIOS[scenario](cursor)
    figures = read_figures(cursor)
    assert figures["as_of"] == "2025-04-01"
    policy = TriggerPolicy()
    decision = decide(figures, policy)

    breaches = expected_breaches(figures, policy)
    assert decision.retrain == bool(breaches)
    assert {(c.figure, c.role_family) for c in decision.breaches} == breaches
    assert (scenario in ("stable", "too_few_to_tell", "drivers_moved_too_few")) == (not breaches)
    assert decision.quarter == "2025-Q1"
    assert decision.figures["thresholds"]["max_drift_share"] == policy.max_drift_share

    # One reason per figure looked at, naming the figure, the family and the threshold.
    assert len(decision.reasons) == len(decision.checks)
    for figure, family in breaches:
        check = next(c for c in decision.breaches if (c.figure, c.role_family) ==
                     (figure, family))
        reason = decision.reasons[decision.breaches.index(check)]
        assert reason.startswith(f"{family}: ") and reason.endswith("retrain")
        if figure == "driver_change_p":  # a p-value: breaches below its threshold
            assert f"< threshold {policy.driver_change_alpha:.2g}" in reason
            continue
        threshold = getattr(policy, {"drift_share": "max_drift_share",
                                     "auc_drop": "max_auc_drop",
                                     "calibration_error": "max_calibration_error",
                                     "early_gap": "max_early_gap",
                                     "early_auc_drop": "max_early_auc_drop"}[figure])
        assert f"> threshold {threshold:.3f}" in reason
    assert any("feature drift share" in r for r in decision.reasons)
    assert any("AUC drop" in r for r in decision.reasons)
    assert any("calibration error" in r for r in decision.reasons)
    assert any("early-attainment gap" in r for r in decision.reasons)
    assert any("KPI driver change p-value" in r for r in decision.reasons)
    if scenario == "too_few_to_tell":
        assert "sales: early-attainment gap not tested (n 30 < min 100)" in decision.reasons
    if scenario == "drivers_moved":
        assert ("rnd: KPI driver change p-value 4.6e-08 < threshold 0.0001 (n 185 ≥ min 100): "
                "retrain") in decision.reasons
    if scenario == "drivers_moved_too_few":
        assert "rnd: KPI driver change p-value not tested (n 60 < min 100)" in decision.reasons


def test_newest_cohort_and_latest_model_version_are_read(cursor):
    insert_quality(cursor, "2025-04-01", "rnd", "realised", "2023-Q3", 300, auc=0.5,
                   reference_auc=0.72, calibration_error=0.3)  # older cohort: not looked at
    insert_quality(cursor, "2025-04-01", "rnd", "realised", "2023-Q4", 300, auc=0.70,
                   reference_auc=0.72, calibration_error=0.05)
    figures = read_figures(cursor)
    assert [(r["cohort_quarter"], r["auc"]) for r in figures["quality"]] == [("2023-Q4", 0.70)]
    assert figures["drift"] == []
    assert not decide(figures).retrain

    # The new champion's figures, computed later for the same as-of, replace the old one's.
    insert_drift(cursor, "2025-04-01", "rnd", 0.0, model_version="1")
    insert_drift(cursor, "2025-04-01", "rnd", 0.25, model_version="2")
    assert [r["model_version"] for r in read_figures(cursor)["drift"]] == ["2"]


def test_the_cohort_looked_at_is_the_newest_with_the_rows_its_test_needs(cursor):
    """At an as-of the newest early cohort holds a handful of hires (those who started in
    its first days); the one before holds the quarter's: that one is tested."""
    insert_quality(cursor, "2025-04-01", "all", "early", "2024-Q3", 280,
                   mean_predicted=0.60, mean_observed=0.40)
    insert_quality(cursor, "2025-04-01", "all", "early", "2024-Q4", 4,
                   mean_predicted=0.60, mean_observed=0.60)
    policy = TriggerPolicy()
    figures = read_figures(cursor, policy=policy)
    assert [(r["cohort_quarter"], r["n"]) for r in figures["quality"]] == [("2024-Q3", 280)]
    decision = decide(figures, policy)
    assert decision.retrain
    assert "all: early-attainment gap 0.200 > threshold 0.120 (n 280 ≥ min 100): retrain" \
        in decision.reasons
    # a policy needing more rows than any cohort has: the newest, untested
    strict = TriggerPolicy(min_early_n=1000)
    figures = read_figures(cursor, policy=strict)
    assert [r["cohort_quarter"] for r in figures["quality"]] == ["2024-Q4"]
    assert not decide(figures, strict).retrain


def test_the_early_auc_drop_is_against_the_versions_first_look(cursor):
    """How well the champion ranks hires by their reviews so far, now against its first
    look (each side pooled over its as-of's cohorts with enough hires): a drop past the
    threshold retrains; a new champion is judged against its own first look, never its
    predecessor's."""
    level = {"mean_predicted": 0.70, "mean_observed": 0.70}  # the levels agree throughout
    insert_quality(cursor, "2025-01-01", "all", "early", "2024-Q2", 300, auc=0.76, **level)
    insert_quality(cursor, "2025-01-01", "all", "early", "2024-Q3", 300, auc=0.72, **level)
    insert_quality(cursor, "2025-01-01", "all", "early", "2024-Q4", 3, auc=1.0, **level)
    policy = TriggerPolicy()
    first = decide(read_figures(cursor, "2025-01-01", policy), policy)
    assert "all: early AUC drop (first look − now) not tested (no value)" in first.reasons
    assert not first.retrain

    insert_quality(cursor, "2025-04-01", "all", "early", "2024-Q3", 300, auc=0.70, **level)
    insert_quality(cursor, "2025-04-01", "all", "early", "2024-Q4", 260, auc=0.64, **level)
    insert_quality(cursor, "2025-04-01", "all", "early", "2025-Q1", 5, auc=0.10, **level)
    figures = read_figures(cursor, "2025-04-01", policy)
    (row,) = figures["quality"]
    assert row["cohort_quarter"] == "2024-Q4"  # the newest with the rows: the gap's cohort
    assert row["early_reference_auc"] == pytest.approx((300 * 0.76 + 300 * 0.72) / 600)
    assert row["early_auc"] == pytest.approx((300 * 0.70 + 260 * 0.64) / 560)
    assert row["early_auc_n"] == 560  # the handful of the newest cohort: left out
    decision = decide(figures, policy)
    assert [c.figure for c in decision.breaches] == ["early_auc_drop"]
    assert ("all: early AUC drop (first look − now) 0.068 > threshold 0.060 (n 560 ≥ min "
            "500): retrain") in decision.reasons
    assert "all: early-attainment gap 0.000 ≤ threshold 0.120 (n 260 ≥ min 100): within" \
        in decision.reasons  # the gap alone would not have seen it

    # The new champion's figures, computed later at the same as-of: its own first look.
    insert_quality(cursor, "2025-04-01", "all", "early", "2024-Q4", 560, auc=0.60,
                   model_version="2", **level)  # computed later: the version looked at
    again = decide(read_figures(cursor, "2025-04-01", policy), policy)
    assert not again.retrain
    assert "all: early AUC drop (first look − now) not tested (no value)" in again.reasons


def _kept(cursor, decision, version: str) -> None:
    """The retrain the trigger asked for kept `version`, recording the trigger's figures."""
    record_decision(cursor, LoopDecision(
        as_of=decision.as_of, quarter=decision.quarter, decision="retrained_kept",
        reasons=["kept"], figures={"trigger": {"figures": decision.figures}},
        champion_before=version, champion_after=version))


def test_a_shift_already_acted_on_does_not_retrain_again_unless_it_grows(cursor):
    """A lasting shift retrained once and kept the champion: at later looks the same figure
    of the same family is 'acted on', not a breach, until it grows by the re-fire margin;
    a new champion, or a challenger refused for cause, acts on nothing."""
    policy = TriggerPolicy()
    stable_quarter(cursor, "2025-04-01")
    insert_drift(cursor, "2025-04-01", "rnd", 5 / 32, model_version="2")
    first = decide(read_figures(cursor, policy=policy), policy)
    assert [(c.figure, c.role_family) for c in first.breaches] == [("drift_share", "rnd")]
    _kept(cursor, first, "2")

    stable_quarter(cursor, "2025-07-01")
    insert_drift(cursor, "2025-07-01", "rnd", 6 / 32, model_version="2")  # +0.031: same shift
    figures = read_figures(cursor, policy=policy)
    assert figures["acted_on"] == [{"figure": "drift_share", "role_family": "rnd",
                                    "value": pytest.approx(5 / 32), "as_of": "2025-04-01",
                                    "quarter": "2025-Q1"}]
    later = decide(figures, policy)
    assert not later.retrain
    assert ("rnd: feature drift share 0.188 past threshold 0.080 (n 150), acted on in 2025-Q1 "
            "(0.156 then; retrained, champion kept) and not worse since by the re-fire margin: "
            "no retrain") in later.reasons

    # Grown by more than half the threshold (0.156 + 0.04): retrain again.
    cursor.execute("UPDATE monitoring.feature_drift_summary SET drift_share = 7 / 32.0 "
                   "WHERE as_of = '2025-07-01' AND role_family = 'rnd' AND model_version = '2'")
    grown = decide(read_figures(cursor, policy=policy), policy)
    assert [(c.figure, c.role_family) for c in grown.breaches] == [("drift_share", "rnd")]

    # A refused challenger acted on nothing; a new champion starts afresh.
    record_decision(cursor, LoopDecision(
        as_of="2025-04-01", quarter="2025-Q1", decision="refused", reasons=["unfair"],
        figures={"trigger": {"figures": first.figures}}, champion_before="3",
        champion_after="3"))
    insert_drift(cursor, "2025-07-01", "rnd", 6 / 32, model_version="3")
    fresh = read_figures(cursor, policy=policy)
    assert fresh["acted_on"] == []
    assert decide(fresh, policy).retrain


def test_nothing_recorded_is_none_and_creates_no_table(cursor):
    assert read_figures(cursor) is None
    cursor.execute("SELECT to_regclass('monitoring.model_quality')")
    assert cursor.fetchone()[0] is None


def test_an_estimate_never_triggers(cursor):
    insert_quality(cursor, "2025-04-01", "rnd", "estimate", "2025-Q1", 500, auc=0.3,
                   reference_auc=0.72, calibration_error=0.4)
    decision = decide(read_figures(cursor))
    assert not decision.retrain and decision.checks == ()
    assert decision.figures["quality"][0]["kind"] == "estimate"  # kept beside the decision


@pytest.mark.parametrize("as_of, quarter", [("2025-04-01", "2025-Q1"),
                                            ("2025-02-15", "2025-Q1"),
                                            ("2025-01-01", "2024-Q4")])
def test_the_quarter_looked_at_is_the_one_the_as_of_closes(as_of, quarter):
    assert quarter_looked_at(as_of) == quarter


@pytest.mark.parametrize("kwargs, message", [
    ({"max_auc_drop": 0}, "max_auc_drop must lie between 0 and 1"),
    ({"min_early_n": 0}, "min_early_n must be a whole number of rows"),
    ({"driver_change_alpha": 1.5}, "driver_change_alpha must lie between 0 and 1"),
    ({"refire_margin": 0}, "refire_margin must be above 0"),
])
def test_a_bad_threshold_is_refused_naming_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TriggerPolicy(**kwargs)
