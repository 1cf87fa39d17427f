"""The raw row rules (hris.rules, the one loader of the dbt project's spec), re-exported for
the Great Expectations suites and the pages that list allowed values."""

from hris.rules import (
    DBT_PROJECT_YML,
    QUARANTINE,
    VOID,
    VOID_REASONS,
    OrderRule,
    OrphanRule,
    RangeRule,
    RuleSpec,
    RuleSpecError,
    TableRules,
    allowed_values,
    load_rules,
    parse_rules,
)

__all__ = [
    "DBT_PROJECT_YML", "QUARANTINE", "VOID", "VOID_REASONS", "OrderRule", "OrphanRule",
    "RangeRule", "RuleSpec", "RuleSpecError", "TableRules", "allowed_values", "load_rules",
    "parse_rules",
]
