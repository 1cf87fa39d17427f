"""Which raw findings stop the run: table-level failures, not row defects.

Row defects are expected (staging quarantines them); a table that lost a required column,
whose rules could not run, or whose rows are orphans beyond a share of the table is not
fit to build on.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.data_quality.runner import SuiteOutcome


@dataclass(frozen=True)
class RawTablePolicy:
    """Limits for raw tables: the largest share of a table's rows that may be orphans."""

    max_orphan_share: float = 0.2


def table_failures(outcome: SuiteOutcome, policy: RawTablePolicy = RawTablePolicy()
                   ) -> list[str]:
    """Messages naming the table and the figure, one per table-level failure (none: ok)."""
    out = []
    rows = outcome.rows or 0
    for o in outcome.outcomes:
        if o.error is not None:
            out.append(f"{outcome.table}: rule {o.label} could not run: {o.error}")
        elif o.table_level and not o.success:
            out.append(f"{outcome.table}: {o.description or o.label} failed")
        elif o.reason == "orphan" and rows and o.unexpected_count:
            share = o.unexpected_count / rows
            if share > policy.max_orphan_share:
                out.append(f"{outcome.table}: {o.unexpected_count} of {rows} rows "
                           f"({share:.1%}) are orphans ({o.column}), above the limit of "
                           f"{policy.max_orphan_share:.0%}")
    return out
