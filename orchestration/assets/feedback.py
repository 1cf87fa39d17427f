"""The HR leads' feedback report: attainment by interview signal, per role family and quarter.

Thin: reads the export's as-of date, the champion and the previous champion, and calls
monitoring.feedback_report; the page's path and the headline tables become metadata.
"""

from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output, asset

from hris.exports import required_as_of
from ml.registry import CHAMPION, PREVIOUS_CHAMPION
from orchestration.assets.model import promotion_decision
from orchestration.resources import HireloopRuntime, MlflowResource


@asset(
    deps=[AssetKey(["marts", "fct_training_examples"]),
          AssetKey(["marts", "fct_key_question_answers"]),
          AssetKey(["marts", "dim_interview_questions"]), promotion_decision],
    group_name="monitoring",
    kinds={"python", "postgres", "html"},
    description="The HR leads' feedback page for the export's quarter ($HIRELOOP_HOME/reports/"
                "feedback/, kept, with an index): per role family, KPI attainment by band of "
                "each interview dimension and by decile of the champion's score, key "
                "questions answered fully or not (with intervals), the drivers' SHAP shares "
                "under the previous and the current champion.",
)
def feedback_report(context: AssetExecutionContext, hireloop: HireloopRuntime,
                    mlflow: MlflowResource) -> Output:
    from monitoring.feedback import read_feedback_data
    from monitoring.feedback_report import key_tables, write_feedback_report
    champion = mlflow.alias_model(CHAMPION)
    previous = mlflow.alias_model(PREVIOUS_CHAMPION) if champion is not None else None
    if champion is None:
        context.log.info("no champion yet: the page has no decile or driver tables")
    with hireloop.connection("ml") as conn:
        with conn.cursor() as cur:
            as_of = required_as_of(cur)
        data = read_feedback_data(conn)
    report = write_feedback_report(data, hireloop.settings.reports_dir, as_of, champion,
                                   previous, language=hireloop.settings.page_language)
    tables = key_tables(report)
    value = {"quarter": report.quarter, "as_of": report.as_of, "page": str(report.page),
             "index": str(report.index), "champion": report.champion,
             "previous": report.previous}
    return Output(value, metadata={
        "quarter": report.quarter, "as_of": report.as_of,
        "champion": str(report.champion), "previous_champion": str(report.previous),
        "page": MetadataValue.path(str(report.page)),
        "every_quarter": MetadataValue.path(str(report.index)),
        **{name: MetadataValue.md(frame.to_markdown(index=False, floatfmt=".3f")
                                  if len(frame) else "none")
           for name, frame in tables.items()},
    })
