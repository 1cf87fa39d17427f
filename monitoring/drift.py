"""Feature drift and prediction drift per role family, computed by Evidently 0.7.

One Evidently Report per role family (0.7's GroupBy returns the overall value for every
group, DESIGN.md), one `ValueDrift` per model input and one for the model's probability.
The figures in our tables are read back from the same snapshot, so the table and the
Evidently workspace cannot disagree.

Method: the two-sample Kolmogorov-Smirnov test (Evidently's `ks`, scipy's `ks_2samp`) on
every numeric feature, at a Bonferroni-corrected threshold: a feature drifts when its
p-value is below `family_alpha / k` (k features tested for the family), so a stable world
flags any feature of a family in at most `family_alpha` of runs whatever k is. Not
Evidently's default: it switches to the normed Wasserstein distance (threshold 0.1) above
1,000 reference rows, and at our cohort sizes sampling noise alone exceeds 0.1.

Measured on simulated feature stores (8,000 applicants, seeds 21 and 5, stable; seed 21
covariate_shift), reference = the decided applicants of 2022-2023 (1,020-1,622 per family),
current = random draws of decided 2024 applicants (40 draws per size and family):

| world | current rows | K-S, Bonferroni 0.05: runs flagging any | drifted share | W 0.1 share |
|---|---|---|---|---|
| stable | 50 | 0-5 % | 0.000-0.004 | 0.85-0.91 |
| stable | 150 | 0-5 % | 0.000-0.002 | 0.50-0.63 |
| stable | 500 | 0-22 % | 0.000-0.010 | 0.05-0.37 |
| covariate_shift | 50 | 5-35 % | 0.003-0.020 | 0.87-0.92 |
| covariate_shift | 150 | 28-95 % | 0.013-0.085 | 0.64-0.84 |
| covariate_shift | 500 | 98-100 % | 0.076-0.144 | 0.31-0.45 |

(W: Evidently's normed Wasserstein at 0.1, which flags nearly every stable run). Whole
quarters through monitoring.drift_run (reference = decided 2022-2023 applicants, 1,020-1,622
per family; current = each decided 2024 quarter, 115-225 per family; the champion's 32
inputs; alarm = drift share >= 0.05 or prediction drift): stable worlds, seeds 21, 5, 3, 11,
48 family-quarters: 3 with one drifted feature (share 0.03, the 5 % family-wise rate),
no prediction drift, no alarm. covariate_shift (change at 2024-01-01), seeds 21 and 5, 24
family-quarters: alarms in 2, 4 and 7 of 8 in the first, second and third quarter after
the change (prediction drift in 7 of 24). Small shifts (0.2-0.4 SD of a few abilities) at
~150 rows per family are found in the quarters after, not at once.

Features with fewer than `min_values` non-null values on either side are not tested
(reported as such). The prediction is tested the same way, on its own at
`prediction_alpha`. Snapshots keep figures only (`aggregates_only`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.core.report import Snapshot
from evidently.legacy.renderers.html_widgets import CounterData, counter
from evidently.metrics import ValueDrift

from ml.features import FAMILY_COLUMN, assert_allowed, numeric_frame

PREDICTION = "probability"  # the model's calibrated P(met_kpi), as a column
FEATURE_KIND, PREDICTION_KIND = "feature", "prediction"
TABLE_COLUMNS = ("role_family", "feature", "kind", "method", "statistic", "threshold",
                 "drifted", "n_reference", "n_current")


class DriftInputError(ValueError):
    """The frames cannot be compared (the message says what is missing)."""


@dataclass(frozen=True)
class DriftPolicy:
    """How drift is tested; the defaults are the measured choice in the module docstring."""

    method: str = "ks"              # Evidently stattest name, a p-value: drift when below
    family_alpha: float = 0.05      # Bonferroni: each of k features at family_alpha / k
    prediction_alpha: float = 0.01  # the probability column, tested on its own
    min_values: int = 20            # fewer non-null values on a side: not tested
    alarm_share: float = 0.05       # a family alarms at this drift share or prediction drift

    def __post_init__(self) -> None:
        if not (0 < self.family_alpha < 1 and 0 < self.prediction_alpha < 1):
            raise ValueError("family_alpha and prediction_alpha must lie in (0, 1)")
        if self.min_values < 2:
            raise ValueError("min_values must be at least 2")


@dataclass
class FamilyDrift:
    """One role family's result: a row per tested column, and the Evidently snapshot."""

    role_family: str
    table: pd.DataFrame          # TABLE_COLUMNS, features first, then the prediction
    snapshot: Snapshot = field(repr=False)
    untested: list[str] = field(default_factory=list)  # features with too few values

    @property
    def features(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == FEATURE_KIND]

    @property
    def drift_share(self) -> float:
        """Drifted features / tested features (0 when none could be tested)."""
        feats = self.features
        return float(feats["drifted"].mean()) if len(feats) else 0.0

    @property
    def prediction_drifted(self) -> bool | None:
        pred = self.table[self.table["kind"] == PREDICTION_KIND]
        return bool(pred["drifted"].iloc[0]) if len(pred) else None

    def alarm(self, policy: DriftPolicy) -> bool:
        return self.drift_share >= policy.alarm_share or bool(self.prediction_drifted)

    def summary(self, policy: DriftPolicy | None = None) -> dict:
        feats = self.features
        return {"role_family": self.role_family, "n_features": len(feats),
                "n_drifted": int(feats["drifted"].sum()), "drift_share": self.drift_share,
                "prediction_drifted": self.prediction_drifted,
                "n_untested": len(self.untested),
                "n_reference": int(self.table["n_reference"].max()) if len(self.table) else 0,
                "n_current": int(self.table["n_current"].max()) if len(self.table) else 0,
                "alarm": self.alarm(policy or DriftPolicy())}


def _testable(ref: pd.Series, cur: pd.Series, min_values: int) -> bool:
    return int(ref.notna().sum()) >= min_values and int(cur.notna().sum()) >= min_values


def family_drift(reference: pd.DataFrame, current: pd.DataFrame, features: Sequence[str],
                 role_family: str, policy: DriftPolicy = DriftPolicy(),
                 tags: Sequence[str] = (), metadata: Mapping[str, str] | None = None
                 ) -> FamilyDrift:
    """Drift of `current` against `reference` (one family's rows each) on `features` and,
    when both frames carry it, the `probability` column.

    Runs one Evidently Report (a `ValueDrift` per column, Bonferroni thresholds) and reads
    statistic and verdict back from its snapshot (a test that fails = drifted).
    """
    assert_allowed(features)
    missing = [c for c in features if c not in reference.columns or c not in current.columns]
    if missing:
        raise DriftInputError(f"{len(missing)} model inputs are missing from the frames, e.g. "
                              f"{missing[:3]}: read both frames with the model's features")
    columns = [c for c in features
               if _testable(reference[c], current[c], policy.min_values)]
    untested = [c for c in features if c not in columns]
    with_pred = PREDICTION in reference.columns and PREDICTION in current.columns
    all_cols = columns + ([PREDICTION] if with_pred else [])
    ref = numeric_frame(reference, all_cols) if all_cols else reference.iloc[:, :0]
    cur = numeric_frame(current, all_cols) if all_cols else current.iloc[:, :0]
    if not all_cols or len(ref) == 0 or len(cur) == 0:
        raise DriftInputError(f"role family {role_family!r}: nothing to compare (reference "
                              f"{len(ref)} rows, current {len(cur)} rows)")
    threshold = policy.family_alpha / max(len(columns), 1)
    metrics = [ValueDrift(column=c, method=policy.method, threshold=threshold) for c in columns]
    if with_pred:
        metrics.append(ValueDrift(column=PREDICTION, method=policy.method,
                                  threshold=policy.prediction_alpha))
    definition = DataDefinition(numerical_columns=all_cols)
    report = Report(metrics, metadata=dict(metadata or {}), tags=list(tags),
                    include_tests=True)
    snapshot = report.run(Dataset.from_pandas(cur, data_definition=definition),
                          Dataset.from_pandas(ref, data_definition=definition))
    table = _table(snapshot, role_family, ref, cur)
    if table["feature"].tolist() != all_cols:
        raise RuntimeError("Evidently returned other columns than asked for")
    return FamilyDrift(role_family, table, aggregates_only(snapshot), untested)


def aggregates_only(snapshot: Snapshot) -> Snapshot:
    """The snapshot with each ValueDrift's plots replaced by its figures (statistic,
    threshold): Evidently 0.7's drift widget plots the current rows' values against their
    row index (`plot_agg_line_data`), row data that `include_data=False` does not remove.
    Metric values and test results, all the dashboards read, are kept."""
    widgets = []
    for result in snapshot._metrics.values():
        config = getattr(result.metric_value_location, "metric", None)
        params = getattr(config, "params", {}) or {}
        title = f"{params.get('column', '')}: {params.get('method', '')} drift"
        result.widget = [counter(title=title, counters=[
            CounterData.float("statistic", float(result.value), 4),
            CounterData.float("threshold", float(params.get("threshold", float("nan"))), 4)])]
        widgets += result.widget
    snapshot._widgets = widgets
    return snapshot


def _table(snapshot: Snapshot, role_family: str, ref: pd.DataFrame, cur: pd.DataFrame
           ) -> pd.DataFrame:
    """One row per ValueDrift of the snapshot: its value, threshold and test verdict."""
    out = snapshot.dict()
    verdict = {t["metric_config"]["metric_id"]: t["status"] for t in out["tests"]}
    rows = []
    for metric in out["metrics"]:
        config = metric["config"]
        column = config["column"]
        status = verdict.get(metric["id"])
        if status not in ("SUCCESS", "FAIL"):
            raise RuntimeError(f"Evidently gave no drift verdict for a column ({status})")
        rows.append({
            "role_family": role_family, "feature": column,
            "kind": PREDICTION_KIND if column == PREDICTION else FEATURE_KIND,
            "method": config["method"], "statistic": float(metric["value"]),
            "threshold": float(config["threshold"]), "drifted": status == "FAIL",
            "n_reference": int(ref[column].notna().sum()),
            "n_current": int(cur[column].notna().sum()),
        })
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def drift_by_family(reference: pd.DataFrame, current: pd.DataFrame,
                    features_by_family: Mapping[str, Sequence[str]],
                    policy: DriftPolicy = DriftPolicy(), tags: Sequence[str] = (),
                    metadata: Mapping[str, str] | None = None) -> dict[str, FamilyDrift]:
    """`family_drift` for every family of `features_by_family` with current rows.

    A family without current rows is left out (nothing was scored for it); one without
    reference rows is an error: the champion cannot have been trained without it.
    """
    for name, frame in (("reference", reference), ("current", current)):
        if FAMILY_COLUMN not in frame.columns:
            raise DriftInputError(f"the {name} frame has no {FAMILY_COLUMN} column")
    out = {}
    for family, features in features_by_family.items():
        cur = current[current[FAMILY_COLUMN] == family]
        if not len(cur):
            continue
        ref = reference[reference[FAMILY_COLUMN] == family]
        out[family] = family_drift(ref, cur, features, family, policy,
                                   tags=[*tags, family],
                                   metadata={**(metadata or {}), "role_family": family})
    return out


def summary_frame(results: Mapping[str, FamilyDrift], policy: DriftPolicy | None = None
                  ) -> pd.DataFrame:
    """One row per family: features tested, drifted, share, prediction drift, sizes, alarm."""
    return pd.DataFrame([r.summary(policy) for r in results.values()])


def result_table(results: Mapping[str, FamilyDrift]) -> pd.DataFrame:
    """Every family's rows in one frame (TABLE_COLUMNS)."""
    if not results:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    return pd.concat([r.table for r in results.values()], ignore_index=True)
