"""The HR lead's monitoring page: dated, self-contained, in English or Chinese through the
catalog, estimates marked as estimates, one page per as-of and version, an index."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from monitoring.i18n import translator
from monitoring.monitoring_page import read_records, write_page
from monitoring.quality_store import QUALITY_COLUMNS
from tests.monitoring.outside_urls import outside_urls_under, page_outside_urls

AT = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
DRIFT = pd.DataFrame({"role_family": ["rnd", "sales"], "drift_share": [0.0, 0.0625],
                      "n_current": [150, 160], "prediction_drifted": [False, False],
                      "alarm": [False, True]})


def _rows() -> pd.DataFrame:
    rows = []
    for family in ("all", "sales"):
        for cohort, kind, auc in (("2024-Q3", "realised", 0.62), ("2024-Q4", "early", 0.70),
                                  ("2024-Q4", "estimate", 0.69), ("2025-Q1", "estimate", 0.68)):
            row = dict.fromkeys(QUALITY_COLUMNS)
            row.update(role_family=family, cohort_quarter=cohort, kind=kind, n=120, auc=auc,
                       reference_auc=0.66, mean_predicted=0.64, calibration_error=0.07)
            rows.append(row)
    return pd.DataFrame(rows)


def test_the_page_is_dated_self_contained_and_marks_estimates(tmp_path):
    rows = _rows()
    for language in ("en", "zh"):
        page = write_page(tmp_path / language, "2026-01-01", "3", DRIFT, rows,
                          translator(language), AT)
        again = write_page(tmp_path / language, "2026-01-01", "3", DRIFT, rows,
                           translator(language), AT)
        assert again == page and page.name == "2026-01-01_v3.html"
        assert sorted(p.name for p in page.parent.iterdir()) == [
            "2026-01-01_v3.html", "2026-01-01_v3.json", "index.html"]
        text = page.read_text(encoding="utf-8")
        assert not page_outside_urls(text) and not outside_urls_under(page.parent)
        assert "2026-01-01" in text and "2026-01-02 09:00:00 UTC" in text
        label = translator(language).gettext("ESTIMATE (no labels yet)")
        assert text.count(f"<strong>{label}</strong>") == (rows["kind"] == "estimate").sum()
        assert "6.2%" in text  # sales' drift share
    zh = (tmp_path / "zh" / "monitoring" / "2026-01-01_v3.html").read_text("utf-8")
    assert '<html lang="zh-Hans">' in zh and "估计值（尚无结果）" in zh


def test_the_index_lists_every_page_newest_first(tmp_path):
    t = translator("en")
    write_page(tmp_path, "2025-10-01", "2", DRIFT.iloc[:0], _rows().iloc[:0], t, AT)
    write_page(tmp_path, "2026-01-01", "3", DRIFT, _rows(), t, AT)
    folder = tmp_path / "monitoring"
    records = read_records(folder)
    assert [(r.as_of, r.model_version) for r in records] == [("2025-10-01", "2"),
                                                           ("2026-01-01", "3")]
    newest = records[-1]
    assert newest.newest_realised_cohort == "2024-Q3" and newest.newest_realised_auc == 0.62
    assert records[0].max_drift_share is None
    index = (folder / "index.html").read_text("utf-8")
    assert index.index("2026-01-01_v3.html") < index.index("2025-10-01_v2.html")
