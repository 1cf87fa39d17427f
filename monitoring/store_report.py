"""The after-build report: data quality (terminal + steward's HTML pages) and the feature store.

One function for the Dagster summary asset and `hireloop summary`, so both say the same.
Each build's page is kept (`data_quality/<time>_export-<id>.html`, listed with the trend in
`data_quality/index.html`); `data_quality.html` is the latest one, where it always was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from monitoring.data_quality_history import (
    HISTORY_DIR,
    page_name,
    record_for,
    write_index,
    write_record,
)
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
from monitoring.i18n import translator
from monitoring.invalid_values import format_invalid_values, invalid_value_columns

REPORT_NAME = "data_quality.html"
DATA_DOCS_INDEX = Path("data_docs") / "index.html"


@dataclass
class StoreReport:
    text: str
    data_quality: DataQualitySummary
    feature_store: FeatureStoreSummary | None  # None: asked for data quality only
    report_path: Path  # the latest page (data_quality.html)
    data_docs: Path | None
    build_page: Path | None = None  # this build's page, kept
    history_index: Path | None = None  # every build's page, with the trend


def write_steward_pages(dq: DataQualitySummary, reports_dir: Path, language: str = "en",
                        as_of: str | None = None, generated_at: dt.datetime | None = None,
                        data_docs: Path | None = None) -> tuple[Path, Path, Path]:
    """This build's page (kept), the latest page and the index; returns (latest, build, index)."""
    t = translator(language)
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    as_of = as_of or (dq.as_of.isoformat() if dq.as_of else None)
    folder = Path(reports_dir) / HISTORY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = page_name(generated_at, dq.export_ids)
    index = folder / "index.html"
    common = {"data_docs": data_docs, "as_of": as_of, "language": language,
              "generated_at": generated_at, "history_index": index}
    build = write_data_quality_report(dq, folder / name, **common)
    write_record(folder, record_for(dq, name, generated_at, as_of))
    write_index(folder, t, generated_at)
    latest = write_data_quality_report(dq, Path(reports_dir) / REPORT_NAME, **common)
    return latest, build, index


def build_store_report(conn, reports_dir: Path, as_of: str | None = None,
                       language: str = "en", with_feature_store: bool = True) -> StoreReport:
    """Summarise a built store and write the steward's pages under `reports_dir`
    (in `language`: en | zh).

    `with_feature_store=False` leaves the marts out: a build that stopped inside dbt has
    its quarantine (staging) but perhaps no marts, and the steward still needs the page.
    """
    dq = summarise_data_quality(conn)
    fs = summarise_feature_store(conn) if with_feature_store else None
    docs = reports_dir / DATA_DOCS_INDEX
    docs = docs if docs.exists() else None
    path, build, index = write_steward_pages(dq, reports_dir, language=language, as_of=as_of,
                                             data_docs=docs)
    where = (f"Data-quality report (for the HR data steward): {path}\n"
             f"  this build, kept: {build}\n  every build, with the trend: {index}")
    if docs is not None:
        where += f"\nGreat Expectations Data Docs: {docs}"
    invalid = format_invalid_values(invalid_value_columns(dq))
    parts = [format_data_quality(dq), invalid, where, format_summary(fs) if fs else ""]
    text = "\n\n".join(p for p in parts if p)
    return StoreReport(text, dq, fs, path, docs, build_page=build, history_index=index)
