"""A counting UnexpectedRowsExpectation, and one shared query for all rules of a table.

GX's UnexpectedRowsExpectation computes two metrics, the first rows of the query and their
count, so every rule scans its table twice; our results keep counts only (no row ever
leaves the database), so the count is all we ask for.

A table's rules can also share one metric, `table_rules_query.counts`: one query returning
every rule's count in one row (`count(*) FILTER (WHERE rule)` per rule, so one scan of the
table instead of one per rule). Each expectation of the table carries the same
`table_rules_query` and `table_rule_queries`, so the metric has the same id for all of them
and GX's validation graph computes it once per validation; each expectation reads its own
count at `rule_index`. Should the shared query fail (a table without a column one rule
reads), the rules are counted one by one, so a failing rule fails alone, as before.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Optional

from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations import UnexpectedRowsExpectation
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import (
    QueryMetricProvider,
    render_derived_table_alias,
)
from great_expectations.expectations.registry import get_metric_kwargs
from great_expectations.validator.metric_configuration import MetricConfiguration

log = logging.getLogger(__name__)

TABLE_RULES_METRIC = "table_rules_query.counts"


class TableRuleCounts(QueryMetricProvider):
    """Every rule count of one table: the one row of `table_rules_query` (ints), or, when it
    fails, each rule of `table_rule_queries` counted alone (an int, or its error message)."""

    metric_name = TABLE_RULES_METRIC
    value_keys = ("table_rules_query", "table_rule_queries")
    query_param_name: ClassVar[str] = "table_rules_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine,
                    metric_domain_kwargs: dict, metric_value_kwargs: dict,
                    metrics: dict[str, Any], runtime_configuration: dict) -> tuple:
        batch, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)

        def run(query: str) -> tuple:
            text = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=query, batch_selectable=batch, execution_engine=execution_engine)
            return tuple(execution_engine.execute_query(sa.text(text)).fetchone())

        try:
            return tuple(int(v) for v in run(cls._get_query_from_metric_value_kwargs(
                metric_value_kwargs)))
        except Exception:
            log.info("the shared rule query failed; counting its rules one by one",
                     exc_info=True)
        out: list[int | str] = []
        for query in metric_value_kwargs["table_rule_queries"]:
            try:
                # the same count UnexpectedRowsExpectation's row_count metric takes
                alias = render_derived_table_alias(subquery=query, alias="rule_rows",
                                                   dialect_name=execution_engine.dialect_name)
                out.append(int(run(f"SELECT COUNT(*) FROM {alias}")[0]))
            except Exception as exc:  # this rule's own error, as its expectation's
                out.append(str(exc) or type(exc).__name__)
        return tuple(out)


class ExpectNoUnexpectedRows(UnexpectedRowsExpectation):
    """Fails when `unexpected_rows_query` returns rows; observed_value is their count.

    With `table_rules_query` set, the count is read from the table's shared rule counts
    (`TableRuleCounts`) at `rule_index` instead of running `unexpected_rows_query`.
    """

    table_rules_query: Optional[str] = None  # noqa: UP045 (pydantic v1 fields)
    table_rule_queries: Optional[list[str]] = None  # noqa: UP045
    rule_index: Optional[int] = None  # noqa: UP045

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)
    success_keys: ClassVar[tuple[str, ...]] = (
        "unexpected_rows_query", "table_rules_query", "table_rule_queries", "rule_index")

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None):
        if self.table_rules_query is None:
            return super().get_validation_dependencies(execution_engine, runtime_configuration)
        # Expectation's: the result format only, none of the row_count metric
        deps = Expectation.get_validation_dependencies(self, execution_engine,
                                                       runtime_configuration)
        kwargs = get_metric_kwargs(TABLE_RULES_METRIC, configuration=self.configuration,
                                   runtime_configuration=runtime_configuration)
        deps.set_metric_configuration(TABLE_RULES_METRIC, MetricConfiguration(
            metric_name=TABLE_RULES_METRIC,
            metric_domain_kwargs=kwargs["metric_domain_kwargs"],
            metric_value_kwargs=kwargs["metric_value_kwargs"]))
        return deps

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine=None) -> dict:
        if self.table_rules_query is None:
            count = metrics["unexpected_rows_query.row_count"]
        else:
            count = metrics[TABLE_RULES_METRIC][self.rule_index]
            if isinstance(count, str):  # this rule could not run (the fallback's message)
                raise RuntimeError(count)
        return {"success": count == 0, "result": {"observed_value": count}}


ROW_QUERY_TYPES = frozenset({"unexpected_rows_expectation", "expect_no_unexpected_rows"})
