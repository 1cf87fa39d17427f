"""The after-build report, as Dagster metadata and as the demo's printout."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output, asset

from monitoring.store_report import build_store_report
from orchestration.resources import HireloopRuntime


@asset(
    deps=[
        AssetKey(["marts", "fct_training_examples"]),
        AssetKey(["marts", "fct_candidates_to_score"]),
    ],
    group_name="reports",
    kinds={"postgres", "python", "html"},
    description="Data quality per table (rows in, quarantined by reason, clean; the steward's "
                "HTML page) and the feature store: rows, label rate per role family.",
)
def feature_store_summary(context: AssetExecutionContext, hireloop: HireloopRuntime) -> Output[str]:
    # The steward's report reads raw, staging, quarantine and the checks: transform's.
    with hireloop.connection("transform") as conn:
        report = build_store_report(conn, hireloop.settings.reports_dir,
                                    language=hireloop.settings.page_language)
    tables = report.data_quality.tables
    metadata = {
        "data_quality": MetadataValue.md(tables.to_markdown(index=False)),
        "data_quality_report": MetadataValue.path(str(report.report_path)),
        "data_quality_every_build": MetadataValue.path(str(report.history_index)),
        "quarantined_rows": int(tables["quarantined"].sum()),
        "rows_in": int(tables["rows_in"].sum()),
        "every_row_accounted_for": bool(tables["conserved"].all()),
        "label_rate": MetadataValue.md(
            report.feature_store.label_rate.to_markdown(index=False)),
        "sales_by_communication": MetadataValue.md(
            report.feature_store.sales_by_communication.to_markdown(index=False)),
    }
    if report.data_docs is not None:
        metadata["data_docs"] = MetadataValue.path(str(Path(report.data_docs)))
    return Output(report.text, metadata=metadata)
