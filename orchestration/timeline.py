"""The printed timeline of simulated quarters and where to look next (pure: no I/O).

One line per quarter: candidates scored, feature drift share (the largest family's), the
champion's AUC on its newest matured cohort (realised) and on the newest cohort without
labels (an estimate, always labelled so), the loop's decision and the champion after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NOT_YET = "—"


@dataclass(frozen=True)
class CohortAuc:
    """An AUC of one cohort (all role families together) and the rows behind it."""

    cohort: str
    auc: float
    n: int


@dataclass(frozen=True)
class TimelineRow:
    """What one quarter's line shows."""

    quarter: str
    scored: int
    drift_share: Mapping[str, float]     # per role family; empty: nothing compared
    realised: CohortAuc | None           # None: no matured cohort after the champion's
    estimate: CohortAuc | None           # None: no unlabelled cohort estimated
    decision: str
    champion: str | None
    run_urls: Mapping[str, str] = field(default_factory=dict)  # job name -> Dagster run


COLUMNS = (("quarter", 8), ("scored", 6), ("drift share (max)", 26),
           ("AUC realised (cohort, n)", 25), ("AUC estimate (cohort, n)", 25),
           ("decision", 18), ("champion", 8))


def _drift(shares: Mapping[str, float]) -> str:
    if not shares:
        return NOT_YET
    family = max(sorted(shares), key=lambda f: shares[f])
    return f"{shares[family]:.3f} ({family})"


def _auc(figure: CohortAuc | None, label: str = "") -> str:
    if figure is None:
        return NOT_YET
    return f"{label}{figure.auc:.3f} ({figure.cohort}, {figure.n})"


def _cells(values: Sequence[str]) -> str:
    return "  ".join(v.ljust(w) for v, (_, w) in zip(values, COLUMNS, strict=True)).rstrip()


def header() -> str:
    """The column titles."""
    return _cells([name for name, _ in COLUMNS])


def timeline_line(row: TimelineRow) -> str:
    """One quarter's line, under `header()`."""
    return _cells([row.quarter, str(row.scored), _drift(row.drift_share), _auc(row.realised),
                   _auc(row.estimate, "est. "), row.decision,
                   NOT_YET if row.champion is None else f"v{row.champion}"])


def timeline(rows: Sequence[TimelineRow]) -> str:
    """The header and one line per quarter."""
    return "\n".join([header(), *(timeline_line(r) for r in rows)])


def where_next(rows: Sequence[TimelineRow], *, dagster_port: int, evidently_port: int,
               monitoring_page: Path, feedback_page: Path) -> list[str]:
    """Where to look next: each quarter's Dagster runs, the monitoring and feedback pages
    (their indexes), and the UIs (`hireloop ui` serves them on loopback)."""
    lines = [f"{r.quarter} runs: " + ", ".join(f"{job} {url}" for job, url in r.run_urls.items())
             for r in rows if r.run_urls]
    return [*lines,
            f"monitoring page (drift, quality by family): {monitoring_page}",
            f"feedback page (HR leads): {feedback_page}",
            f"Dagster (runs, the loop_trigger sensor's ticks): http://127.0.0.1:{dagster_port} "
            "(start it with `hireloop ui`)",
            "Evidently UI (project hireloop: drift, quality and decisions over time): "
            f"http://127.0.0.1:{evidently_port} (with `hireloop ui`)",
            "est.: estimated from calibrated probabilities before labels mature; realised: "
            "on the newest cohort whose labels have matured"]


__all__ = ["CohortAuc", "TimelineRow", "header", "timeline", "timeline_line", "where_next"]
