"""The after-build report: data quality (terminal + steward's HTML page) and the feature store.

One function for the Dagster summary asset and `hireloop summary`, so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitoring.data_quality_report import (
    DataQualitySummary,
    format_data_quality,
    summarise_data_quality,
    write_data_quality_report,
)
from monitoring.feature_store_summary import (
    FeatureStoreSummary,
    format_summary,
    summarise_feature_store,
)
from monitoring.invalid_values import format_invalid_values, invalid_value_columns

REPORT_NAME = "data_quality.html"
DATA_DOCS_INDEX = Path("data_docs") / "index.html"


@dataclass
class StoreReport:
    text: str
    data_quality: DataQualitySummary
    feature_store: FeatureStoreSummary | None  # None: asked for data quality only
    report_path: Path
    data_docs: Path | None


def build_store_report(conn, reports_dir: Path, as_of: str | None = None,
                       with_feature_store: bool = True) -> StoreReport:
    """Summarise a built store and write the steward's page under `reports_dir`.

    `with_feature_store=False` leaves the marts out: a build that stopped inside dbt has
    its quarantine (staging) but perhaps no marts, and the steward still needs the page.
    """
    dq = summarise_data_quality(conn)
    fs = summarise_feature_store(conn) if with_feature_store else None
    docs = reports_dir / DATA_DOCS_INDEX
    docs = docs if docs.exists() else None
    path = write_data_quality_report(dq, reports_dir / REPORT_NAME, data_docs=docs, as_of=as_of)
    where = f"Data-quality report (for the HR data steward): {path}"
    if docs is not None:
        where += f"\nGreat Expectations Data Docs: {docs}"
    invalid = format_invalid_values(invalid_value_columns(conn))
    parts = [format_data_quality(dq), invalid, where, format_summary(fs) if fs else ""]
    text = "\n\n".join(p for p in parts if p)
    return StoreReport(text, dq, fs, path, docs)
