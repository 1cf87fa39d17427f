"""A counting UnexpectedRowsExpectation: one query per rule instead of two.

GX's UnexpectedRowsExpectation computes two metrics, the first rows of the query and their
count, so every rule scans its table twice; our results keep counts only (no row ever
leaves the database), so the count is all we ask for.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.expectations import UnexpectedRowsExpectation


class ExpectNoUnexpectedRows(UnexpectedRowsExpectation):
    """Fails when `unexpected_rows_query` returns rows; observed_value is their count."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine=None) -> dict:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


ROW_QUERY_TYPES = frozenset({"unexpected_rows_expectation", "expect_no_unexpected_rows"})
