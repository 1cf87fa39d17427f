"""The printed timeline of simulated quarters (orchestration.timeline): one line per quarter
with its figures in the header's columns, estimates labelled, nothing invented for what a
quarter lacks, and where to look next."""

from __future__ import annotations

from pathlib import Path

from orchestration.timeline import (
    COLUMNS,
    CohortAuc,
    TimelineRow,
    header,
    timeline,
    timeline_line,
    where_next,
)

FIRST = TimelineRow(quarter="2025-Q1", scored=212, drift_share={"sales": 0.031, "rnd": 0.0},
                    realised=CohortAuc("2023-Q4", 0.7021, 350),
                    estimate=CohortAuc("2025-Q1", 0.7114, 150), decision="no_action",
                    champion="1", run_urls={"monitor_quarter": "http://127.0.0.1:3000/runs/a"})
SECOND = TimelineRow(quarter="2025-Q2", scored=198, drift_share={"rnd": 0.188, "sales": 0.0},
                     realised=None, estimate=None, decision="retrained_promoted", champion="2",
                     run_urls={"monitor_quarter": "http://127.0.0.1:3000/runs/b",
                               "retrain": "http://127.0.0.1:3000/runs/c"})


def _columns(line: str) -> list[str]:
    """The line cut at the header's column starts."""
    starts, at = [], 0
    for _, width in COLUMNS:
        starts.append(at)
        at += width + 2
    return [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]


def test_a_quarters_line_puts_each_figure_under_its_column():
    cells = dict(zip([name for name, _ in COLUMNS], _columns(timeline_line(FIRST)), strict=True))
    assert cells == {
        "quarter": "2025-Q1", "scored": "212", "drift share (max)": "0.031 (sales)",
        "AUC realised (cohort, n)": "0.702 (2023-Q4, 350)",
        "AUC estimate (cohort, n)": "est. 0.711 (2025-Q1, 150)",
        "decision": "no_action", "champion": "v1"}
    assert _columns(header()) == [name for name, _ in COLUMNS]


def test_the_largest_family_share_is_shown_and_missing_figures_are_dashes():
    cells = _columns(timeline_line(SECOND))
    assert cells[2] == "0.188 (rnd)"
    assert cells[3] == cells[4] == "—"  # no matured cohort, no estimate: nothing invented
    empty = TimelineRow("2025-Q3", 0, {}, None, None, "no_action", None)
    assert _columns(timeline_line(empty))[2:] == ["—", "—", "—", "no_action", "—"]


def test_the_timeline_is_a_header_and_one_line_per_quarter():
    lines = timeline([FIRST, SECOND]).splitlines()
    assert lines == [header(), timeline_line(FIRST), timeline_line(SECOND)]


def test_where_next_names_each_quarters_runs_the_pages_and_the_uis():
    lines = where_next([FIRST, SECOND], dagster_port=3000, evidently_port=8010,
                       monitoring_page=Path("/h/reports/monitoring/index.html"),
                       feedback_page=Path("/h/reports/feedback/index.html"))
    assert lines[0] == "2025-Q1 runs: monitor_quarter http://127.0.0.1:3000/runs/a"
    assert lines[1] == ("2025-Q2 runs: monitor_quarter http://127.0.0.1:3000/runs/b, "
                        "retrain http://127.0.0.1:3000/runs/c")
    text = "\n".join(lines)
    for expected in ("/h/reports/monitoring/index.html", "/h/reports/feedback/index.html",
                     "http://127.0.0.1:3000 ", "http://127.0.0.1:8010 ", "hireloop ui",
                     "est.:"):
        assert expected in text
