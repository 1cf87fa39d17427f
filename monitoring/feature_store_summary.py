"""What the feature store holds, in the terms an HR lead and an ML engineer ask about.

Rows per mart, the label rate per role family, and the seed's table for sales: the share
of hires meeting the KPI by communication score band (monitoring.score_bands, the bands the
feedback report reads every dimension by). (What was quarantined and why is
monitoring.data_quality_report.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ml.datasets import read_frame
from monitoring.score_bands import BAND_LABELS, attainment_by_band

SCHEMAS = ("marts",)
COMMUNICATION_BANDS = BAND_LABELS  # the bands of monitoring.score_bands, named for sales


@dataclass
class FeatureStoreSummary:
    rows: pd.DataFrame  # schema, table, rows
    label_rate: pd.DataFrame  # role_family, hires, met_kpi_rate
    sales_by_communication: pd.DataFrame  # band, hires, met_kpi_rate
    notes: list[str] = field(default_factory=list)


def _tables(conn) -> pd.DataFrame:
    return read_frame(
        conn,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = ANY(%s) AND table_name NOT LIKE '\\_%%' "
        "ORDER BY 1, 2",
        [list(SCHEMAS)],
    )


def _count(conn, schema: str, table: str) -> int:
    return int(read_frame(conn, f'SELECT count(*) AS n FROM "{schema}"."{table}"')["n"].iloc[0])


def summarise_feature_store(conn) -> FeatureStoreSummary:
    """Read the summary from a built feature store (a psycopg2 connection)."""
    tables = _tables(conn)
    rows = pd.DataFrame(
        [
            (s, t, _count(conn, s, t))
            for s, t in tables.itertuples(index=False)
        ],
        columns=["schema", "table", "rows"],
    )
    label_rate = read_frame(
        conn,
        "SELECT role_family, count(*) AS hires, avg(met_kpi::int) AS met_kpi_rate "
        "FROM marts.fct_training_examples GROUP BY 1 ORDER BY 1",
    )
    sales = read_frame(
        conn,
        "SELECT interviewer_communication, kpi_attainment, met_kpi "
        "FROM marts.fct_training_examples WHERE role_family = 'sales'",
    )
    sales = attainment_by_band(sales, "interviewer_communication")[
        ["band", "hires", "met_kpi_rate"]]
    return FeatureStoreSummary(rows, label_rate, sales)


def format_summary(summary: FeatureStoreSummary) -> str:
    """Plain-text tables for the terminal."""

    def table(frame: pd.DataFrame, floatfmt: str = "{:.1%}") -> str:
        formatters = {
            c: floatfmt.format for c in frame.columns if c.endswith("rate")
        }
        return frame.to_string(index=False, formatters=formatters, na_rep="–")

    return "\n\n".join(
        [
            "== Feature store (marts) ==\n"
            + table(summary.rows.loc[summary.rows["schema"] == "marts", ["table", "rows"]]),
            "== Label rate per role family (mature hires meeting the KPI) ==\n"
            + table(summary.label_rate),
            "== Sales: share of hires meeting the KPI by interviewer communication score ==\n"
            + table(summary.sales_by_communication),
        ]
    )
