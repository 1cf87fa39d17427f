"""Data quality: Great Expectations suites on raw, staging and the feature store.

The raw suites measure the same row rules the staging quarantine applies (dbt vars
`raw_rules`), so their unexpected counts per reason agree with the quarantine's; staging and
the feature store must pass in full. Results go to monitoring.dq_results and Data Docs.
"""

from monitoring.data_quality.feature_suite import FeatureStoreBounds, feature_store_suite
from monitoring.data_quality.gate import RawTablePolicy, table_failures
from monitoring.data_quality.results import ensure_dq_results, write_results
from monitoring.data_quality.rules import RuleSpec, TableRules, load_rules
from monitoring.data_quality.runner import (
    DataQualityRunner,
    ExpectationOutcome,
    SuiteOutcome,
    docs_dir_for,
    write_docs_index,
)
from monitoring.data_quality.suites import (
    SuiteSpec,
    raw_suite,
    raw_suites,
    staging_columns,
    staging_suite,
    staging_suites,
)

__all__ = [
    "DataQualityRunner", "ExpectationOutcome", "FeatureStoreBounds", "RawTablePolicy",
    "RuleSpec", "SuiteOutcome", "SuiteSpec", "TableRules", "docs_dir_for", "ensure_dq_results",
    "feature_store_suite", "load_rules", "raw_suite", "raw_suites", "staging_columns",
    "staging_suite", "staging_suites", "table_failures", "write_docs_index", "write_results",
]
