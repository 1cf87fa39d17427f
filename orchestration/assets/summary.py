"""A summary of the built feature store, as Dagster metadata and as the demo's printout."""

from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output, asset

from monitoring.feature_store_summary import format_summary, summarise_feature_store
from orchestration.resources import HireloopRuntime


@asset(
    deps=[
        AssetKey(["marts", "fct_training_examples"]),
        AssetKey(["marts", "fct_candidates_to_score"]),
    ],
    group_name="reports",
    kinds={"postgres", "python"},
    description="Rows per table, quarantine by reason, label rate per role family.",
)
def feature_store_summary(context: AssetExecutionContext, hireloop: HireloopRuntime) -> Output[str]:
    with hireloop.connection() as conn:
        summary = summarise_feature_store(conn)
    text = format_summary(summary)
    quarantined = int(summary.quarantine["rows"].sum()) if len(summary.quarantine) else 0
    return Output(
        text,
        metadata={
            "label_rate": MetadataValue.md(summary.label_rate.to_markdown(index=False)),
            "quarantine": MetadataValue.md(
                summary.quarantine.to_markdown(index=False) if len(summary.quarantine) else "none"
            ),
            "sales_by_communication": MetadataValue.md(
                summary.sales_by_communication.to_markdown(index=False)
            ),
            "quarantined_rows": quarantined,
        },
    )
