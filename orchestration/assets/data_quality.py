"""Great Expectations suites as Dagster asset checks (monitoring.data_quality does the work).

- raw/<table>: `raw_row_defects` (WARN: defects are expected, staging quarantines them) and
  `raw_table_contract` (ERROR, blocking: a required column gone, a rule that cannot run,
  orphans above a share of the table stop the run before dbt).
- staging/stg_hris__<table>: `staging_suite` (ERROR): the same rules on clean rows, in full.
- marts/fct_training_examples: `feature_store_suite` (ERROR, blocking): training does not
  run on a failing feature store.

Every check writes its expectations to monitoring.dq_results and links its Data Docs page.
"""

from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    ConfigurableResource,
    MetadataValue,
    multi_asset_check,
)
from pydantic import Field

from hris.exports import required_as_of
from hris.import_rules import read_import_rules

# Great Expectations loads on first use (see monitoring/data_quality/__init__.py).
from monitoring import data_quality as dq
from orchestration.resources import HireloopRuntime

FEATURE_STORE_KEY = AssetKey(["marts", "fct_training_examples"])
RAW_ROWS, RAW_TABLE = "raw_row_defects", "raw_table_contract"
STAGING, FEATURE_STORE = "staging_suite", "feature_store_suite"

RULES = dq.load_rules()


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def staging_key(table: str) -> AssetKey:
    return AssetKey(["staging", f"stg_hris__{table}"])


class DataQualityResource(ConfigurableResource):
    """Bounds of the data-quality checks and where their Data Docs go."""

    max_orphan_share: float = Field(0.2, description="raw: largest share of orphan rows")
    label_rate_min: float = Field(0.05, description="feature store: lowest met_kpi rate")
    label_rate_max: float = Field(0.95, description="feature store: highest met_kpi rate")
    min_rows_per_family: int = Field(30, description="feature store: rows per role family")
    docs_dir: str | None = Field(None, description="Data Docs folder "
                                                   "(default $HIRELOOP_HOME/reports/data_docs)")
    workers: int = Field(2, ge=1, description="suites validated at a time (each with its own "
                                              "GX context and database connection)")

    def policy(self) -> "dq.RawTablePolicy":
        return dq.RawTablePolicy(max_orphan_share=self.max_orphan_share)

    def bounds(self) -> "dq.FeatureStoreBounds":
        return dq.FeatureStoreBounds(label_rate_min=self.label_rate_min,
                                  label_rate_max=self.label_rate_max,
                                  min_rows_per_family=self.min_rows_per_family)

    def docs_path(self, hireloop: HireloopRuntime) -> Path:
        return Path(self.docs_dir) if self.docs_dir else (
            hireloop.settings.reports_dir / "data_docs")

    def runner(self, hireloop: HireloopRuntime, kind: str) -> "dq.DataQualityRunner":
        """A runner whose Data Docs site is `<docs>/<kind>` (`<docs>/index.html` links all).
        The checks read what dbt reads and builds: the transform role's (pg_roles)."""
        root = self.docs_path(hireloop)
        return dq.DataQualityRunner(hireloop.endpoint("transform").url(hireloop.database),
                                 dq.docs_dir_for(root, kind), workers=self.workers)


def _record(hireloop: HireloopRuntime, data_quality: DataQualityResource,
            outcomes: "list[dq.SuiteOutcome]") -> None:
    """Results to monitoring.dq_results; the top Data Docs index links every kind's site."""
    with hireloop.connection("transform") as conn:
        dq.write_results(conn, outcomes)
    dq.write_docs_index(data_quality.docs_path(hireloop))


def _metadata(outcome: "dq.SuiteOutcome", runner: "dq.DataQualityRunner") -> dict:
    failing = [f"{o.label}: {o.unexpected_count if o.error is None else 'error'}"
               for o in outcome.failed]
    meta = {
        "rows": outcome.rows if outcome.rows is not None else -1,
        "expectations": len(outcome.outcomes),
        "failing_expectations": MetadataValue.md(
            "\n".join(f"- {f}" for f in failing) if failing else "none"),
        "unexpected_by_reason": MetadataValue.json(outcome.by_reason()),
        "seconds": round(outcome.seconds, 2),
        "data_docs_index": MetadataValue.path(str(runner.index_path)),
        "data_docs_all": MetadataValue.path(str(runner.docs_dir.parent / "index.html")),
    }
    if outcome.docs_url:
        meta["data_docs"] = MetadataValue.url(outcome.docs_url)
    return meta


@multi_asset_check(
    specs=[spec for t in RULES.tables for spec in (
        AssetCheckSpec(RAW_ROWS, asset=raw_key(t),
                       description="Row defects measured by the raw GX suite (quarantined by "
                                   "staging; a warning, never blocking)."),
        AssetCheckSpec(RAW_TABLE, asset=raw_key(t), blocking=True,
                       description="Required columns present, every rule runs, orphans "
                                   "within the configured share; a failure stops the run."),
    )],
    can_subset=False,
    name="raw_data_quality",
)
def raw_data_quality(context: AssetCheckExecutionContext, hireloop: HireloopRuntime,
                     data_quality: DataQualityResource):
    with hireloop.connection("transform") as conn, conn.cursor() as cur:
        as_of = required_as_of(cur)
        imports = read_import_rules(cur)  # the profile in force, as staging reads it
    runner = data_quality.runner(hireloop, "raw")
    outcomes = runner.validate_all(dq.raw_suites(RULES, as_of, imports), context.run.run_id,
                                   progress=context.log.info)
    _record(hireloop, data_quality, outcomes)
    policy = data_quality.policy()
    for outcome in outcomes:
        table = outcome.table.split(".", 1)[1]
        meta = _metadata(outcome, runner)
        defects = outcome.by_reason()
        voided = outcome.field_defects()  # fields staging voids, their rows kept
        description = ((f"{sum(defects.values())} row defects in {outcome.rows} rows: "
                        + ", ".join(f"{r} {n}" for r, n in defects.items())) if defects
                       else f"no row defects in {outcome.rows} rows")
        if voided:
            description += ("; voided fields: "
                            + ", ".join(f"{c} {r} {n}" for (c, r), n in voided.items()))
        yield AssetCheckResult(
            asset_key=raw_key(table), check_name=RAW_ROWS, passed=not defects and not voided,
            severity=AssetCheckSeverity.WARN, metadata=meta, description=description)
        failures = dq.table_failures(outcome, policy)
        for message in failures:
            context.log.error(message)
        yield AssetCheckResult(
            asset_key=raw_key(table), check_name=RAW_TABLE, passed=not failures,
            severity=AssetCheckSeverity.ERROR,
            metadata={**meta, "max_orphan_share": policy.max_orphan_share},
            description="; ".join(failures) if failures else "table contract holds")


@multi_asset_check(
    specs=[AssetCheckSpec(STAGING, asset=staging_key(t),
                          description="The raw rules on the typed staging view: every clean "
                                      "row passes.")
           for t in RULES.tables],
    can_subset=False,
    name="staging_data_quality",
)
def staging_data_quality(context: AssetCheckExecutionContext, hireloop: HireloopRuntime,
                         data_quality: DataQualityResource):
    with hireloop.connection("transform") as conn, conn.cursor() as cur:
        as_of = required_as_of(cur)
        columns = dq.staging_columns(cur, RULES.tables)
    runner = data_quality.runner(hireloop, "staging")
    outcomes = runner.validate_all(dq.staging_suites(RULES, as_of, columns), context.run.run_id,
                                   progress=context.log.info)
    _record(hireloop, data_quality, outcomes)
    for table, outcome in zip(RULES.tables, outcomes, strict=True):
        failing = ", ".join(f"{o.label} {o.unexpected_count}" for o in outcome.failed)
        yield AssetCheckResult(
            asset_key=staging_key(table), check_name=STAGING, passed=outcome.success,
            severity=AssetCheckSeverity.ERROR, metadata=_metadata(outcome, runner),
            description=f"{outcome.table}: failing {failing}" if failing
            else f"{outcome.table}: all {len(outcome.outcomes)} expectations pass")


@multi_asset_check(
    specs=[AssetCheckSpec(FEATURE_STORE, asset=FEATURE_STORE_KEY, blocking=True,
                          description="Required features present, features in range, label "
                                      "rate and rows per role family within bounds; a "
                                      "failure keeps training from running.")],
    name="feature_store_data_quality",
)
def feature_store_data_quality(context: AssetCheckExecutionContext,
                               hireloop: HireloopRuntime, data_quality: DataQualityResource):
    runner = data_quality.runner(hireloop, "feature_store")
    bounds = data_quality.bounds()
    outcome = runner.validate(dq.feature_store_suite(bounds), context.run.run_id)
    _record(hireloop, data_quality, [outcome])
    failing = [f"{o.description or o.label}: {o.unexpected_count}" for o in outcome.failed]
    for message in failing:
        context.log.error(f"{outcome.table}: {message}")
    yield AssetCheckResult(
        asset_key=FEATURE_STORE_KEY, check_name=FEATURE_STORE, passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={**_metadata(outcome, runner),
                  "label_rate_bounds": f"[{bounds.label_rate_min}, {bounds.label_rate_max}]",
                  "min_rows_per_family": bounds.min_rows_per_family},
        description=(f"{outcome.table} fails: " + "; ".join(failing)) if failing
        else f"{outcome.table}: all {len(outcome.outcomes)} expectations pass")


DATA_QUALITY_CHECKS = [raw_data_quality, staging_data_quality, feature_store_data_quality]
