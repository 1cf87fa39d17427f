"""Data quality: Great Expectations suites on raw, staging and the feature store.

The raw suites measure the same row rules the staging quarantine applies (dbt vars
`raw_rules`), so their unexpected counts per reason agree with the quarantine's; staging and
the feature store must pass in full. Results go to monitoring.dq_results and Data Docs.

The names below load their submodule on first use (PEP 562): importing Great Expectations
takes seconds, and every Dagster process (code server, each run) loads the definitions,
most of which never validate anything.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "FeatureStoreBounds": "feature_suite", "feature_store_suite": "feature_suite",
    "RawTablePolicy": "gate", "table_failures": "gate",
    "ensure_dq_results": "results", "write_results": "results",
    "RuleSpec": "rules", "TableRules": "rules", "load_rules": "rules",
    "DataQualityRunner": "runner", "ExpectationOutcome": "runner", "SuiteOutcome": "runner",
    "docs_dir_for": "runner", "write_docs_index": "runner",
    "SuiteSpec": "suites", "raw_suite": "suites", "raw_suites": "suites",
    "staging_columns": "suites", "staging_suite": "suites", "staging_suites": "suites",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
