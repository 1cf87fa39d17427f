"""The loop's decision log: appends with reasons and figures intact, refuses an unknown
decision or one without a reason. Real PostgreSQL."""

from __future__ import annotations

import pytest

from monitoring.loop_decisions import LoopDecision, read_decisions, record_decision


@pytest.fixture()
def cursor(pg_server):
    conn = pg_server.endpoint.connect(pg_server.create_database("loopdec"))
    conn.autocommit = True
    with conn.cursor() as cur:
        yield cur
    conn.close()


def test_decisions_append_in_order_with_reasons_and_figures(cursor):
    first = LoopDecision("2025-04-01", "2025-Q1", "no_action",
                         ["drift share 0.10 ≤ 0.30 in every family"],
                         {"drift_share": {"sales": 0.1}}, champion_before="3",
                         champion_after="3", run_key="2025-Q1")
    second = LoopDecision("2025-07-01", "2025-Q2", "retrained_promoted",
                          ["AUC drop 0.06 > 0.03 (rnd)"], {"auc_drop": {"rnd": 0.06}},
                          champion_before="3", champion_after="4", run_key="2025-Q2")
    ids = [record_decision(cursor, d) for d in (first, second)]
    table = read_decisions(cursor)
    assert list(table["decision_id"]) == ids
    assert list(table["decision"]) == ["no_action", "retrained_promoted"]
    assert table.loc[1, "reasons"] == ["AUC drop 0.06 > 0.03 (rnd)"]
    assert table.loc[1, "figures"] == {"auc_drop": {"rnd": 0.06}}
    assert list(table["champion_after"]) == ["3", "4"]


@pytest.mark.parametrize("kwargs, message", [
    ({"decision": "promote", "reasons": ["x"]}, "unknown loop decision"),
    ({"decision": "no_action", "reasons": []}, "at least one reason"),
])
def test_a_decision_must_be_known_and_reasoned(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LoopDecision("2025-04-01", "2025-Q1", **kwargs)
