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

REPORT_NAME = "data_quality.html"
DATA_DOCS_INDEX = Path("data_docs") / "index.html"


@dataclass
class StoreReport:
    text: str
    data_quality: DataQualitySummary
    feature_store: FeatureStoreSummary
    report_path: Path
    data_docs: Path | None


def build_store_report(conn, reports_dir: Path, as_of: str | None = None) -> StoreReport:
    """Summarise a built store and write the steward's page under `reports_dir`."""
    dq = summarise_data_quality(conn)
    fs = summarise_feature_store(conn)
    docs = reports_dir / DATA_DOCS_INDEX
    docs = docs if docs.exists() else None
    path = write_data_quality_report(dq, reports_dir / REPORT_NAME, data_docs=docs, as_of=as_of)
    where = f"Data-quality report (for the HR data steward): {path}"
    if docs is not None:
        where += f"\nGreat Expectations Data Docs: {docs}"
    text = "\n\n".join([format_data_quality(dq), where, format_summary(fs)])
    return StoreReport(text, dq, fs, path, docs)
