"""The steward's data-quality summary accounts for every raw row and shows no personal data."""

from __future__ import annotations

from hris.contract import RAW_TABLES
from monitoring.data_quality_report import (
    format_data_quality,
    summarise_data_quality,
    write_data_quality_report,
)


def test_summary_counts_every_raw_row_and_page_shows_no_raw_ids(feature_store, tmp_path):
    conn = feature_store.connect()
    try:
        summary = summarise_data_quality(conn)
    finally:
        conn.close()
    tables = summary.tables.set_index("table")
    assert list(tables.index) == list(RAW_TABLES)
    for name, frame in feature_store.sim.raw.items():
        assert tables.loc[name, "rows_in"] == len(frame)
        assert tables.loc[name, "clean"] + tables.loc[name, "quarantined"] == len(frame)
    assert tables["conserved"].all()
    assert "none lost" in format_data_quality(summary)

    docs = tmp_path / "docs" / "index.html"
    page = write_data_quality_report(summary, tmp_path / "dq.html", data_docs=docs,
                                     as_of="2025-01-01").read_text()
    assert 'href="docs/index.html"' in page  # relative: the folder can be moved or shared
    assert "As-of date: 2025-01-01" in page and "Generated at 20" in page
    # the simulated export the fixture loaded, named by its id in raw._exports
    assert summary.export_ids == [1] and str(summary.as_of) == "2025-01-01"
    assert "Exports covered: #1" in page and "simulated (sandbox)" in page
    candidates = feature_store.sim.raw["candidates"]
    for column in ("candidate_id", "full_name", "email"):
        assert not any(str(v) in page for v in candidates[column].head(50))
