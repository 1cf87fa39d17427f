"""The retraining trigger: configured thresholds applied to the figures of one as-of.

Pure policy (`decide`) over figures read from the monitoring tables (`read_figures`):
`monitoring.feature_drift_summary` (a row per family) and `monitoring.model_quality`
(realised, early and estimate rows). For each family (and 'all') one cohort of each kind is
looked at, the newest with the rows its test needs: older cohorts were looked at when they
were newest, and testing every cohort again each quarter would multiply the false alarms.

Figures tested, each only with enough rows behind it (fewer: "not tested", never a breach):
- feature drift share (drifted / tested model inputs, K-S with Bonferroni, monitoring.drift);
- AUC drop, `reference_auc - auc`, on the newest realised cohort;
- calibration error on the newest realised cohort;
- early-attainment gap, `|mean_predicted - mean_observed|`, on the newest early cohort
  (realised KPI attainment so far against the model's probability);
- early AUC drop, `early_reference_auc - early_auc`: how much worse the champion now ranks
  hires by their reviews so far than it did at its first look, each side pooled over the
  early cohorts of its as-of with `min_early_n` hires (one to three reviews each, weighted by
  hires; none trained on: the monitor never judges a champion's own cohorts). Pooled, both
  sides hold the same mix of review counts: a cohort with one review ranks worse than one
  with three in any world (stable, 20,000 applicants: 0.61-0.75 vs 0.75-0.82). The gap above
  compares levels, which a drifted world can leave in place (measured: within ±0.10 under
  concept drift); the ranking is what concept drift breaks, and it shows in the reviews a
  year before the labels mature.
- KPI driver change, the p-value of monitoring.kpi_drivers' test that KPI attainment still
  depends on the family's dimension scores as in the champion's own cohorts (early hires,
  the reviews so far): concept drift asked directly, without the model. Breach when the
  p-value is BELOW `driver_change_alpha`.
Estimates (confidence-based) are recorded beside the decision and never trigger: they assume
the model is still calibrated, which is exactly what concept drift breaks.

A shift already acted on does not retrain again by itself: when a retrain for a figure of a
family kept this same champion (`retrained_kept` in monitoring.loop_decisions), the same
figure of the same family past its threshold at a later look is "acted on", not a breach,
unless it has grown worse since by `refire_margin` of its threshold (a p-value: fallen by
another factor `driver_change_alpha`). A lasting covariate shift otherwise retrains at
every close after it (measured: bench/loop.py's covariate_shift and rater_drift, kept at
all five later closes). A new champion starts with nothing acted on; a refused challenger
acts on nothing.

Retrain when any tested figure is past its threshold and not acted on. Every figure looked at
gives one reason, naming the figure, the family, the value, the threshold and the rows behind
it, so a reader can recompute the decision from `figures` (`acted_on` included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any

from hris.calendar import quarter_of

BREACH, WITHIN, UNTESTED, ACTED_ON = "breach", "within", "untested", "acted_on"


@dataclass(frozen=True)
class TriggerPolicy:
    """Thresholds of the trigger; why each default. Each figure must stay inside its
    threshold in a stable world at every look (eight quarters, five rows each: zero false
    alarms is the aim), so each is set past the figure's sampling noise at its minimum n.
    Noise measured by simulation (2,000 draws of calibrated probabilities, Beta(4, 4), and
    labels drawn from them; AUC about 0.69):

    | n | AUC sd | ECE (10 bins) mean / 99th / 99.7th percentile |
    |---|---|---|
    | 200 | 0.037 | 0.070 / 0.122 / 0.130 |
    | 300 | 0.030 | 0.058 / 0.102 / 0.108 |
    | 400 | 0.026 | 0.050 / 0.089 / 0.096 |

    - `max_drift_share` 0.08, `min_drift_n` 100: the drift policy's Bonferroni K-S flags any
      feature of a stable family in at most 5 % of runs (measured, monitoring.drift: 3 of 48
      stable family-quarters flagged one feature of 32, share 0.03; none two). 0.08 asks
      three drifted inputs of 30-32 (0.094-0.10), never reached by noise; a covariate-shift
      quarter reaches it (measured shares 0.08-0.14 at 150-500 rows; 0.067-0.10 at 325-493
      decided applicants in tests/orchestration/test_scenario_quarters.py, where 0.10 would
      have asked four inputs and missed it). Below a hundred scored applicants K-S finds
      only gross shifts.
    - `max_auc_drop` 0.10, `min_auc_n` 250: the realised AUC's sd is about 0.033 at 250
      hires (0.037 at 200, 0.030 at 300, above), and the reference (the champion's own
      holdout AUC) is one fixed value, so 0.10 is three of them. A demo-size quarter's
      matured cohort holds 259-357 hires (bench/loop.py), and at 300 the first post-change
      cohort (259) went untested: its drop was 0.137 under concept drift (0.058 in the
      stable world, whose largest over seven looks). Smaller cohorts (a family's quarter is
      about a hundred hires) are left to the pooled 'all' row and to the early evidence.
      (0.005 on point estimates is noise.)
    - `max_calibration_error` 0.12, `min_calibration_n` 300: a perfectly calibrated model
      shows 0.058 on 300 rows from sampling alone, above 0.108 in 0.3 % of draws; 0.12 is past
      that. At 200 rows the 99.7th percentile is 0.130: too noisy to act on.
    - `max_early_gap` 0.12, `min_early_n` 100: attainment so far is a share of one to three
      reviews per hire (sd about 0.4), so a mean over 100 hires has an sd of 0.04 and 0.12 is
      three of them. It assumes the early rows put the model's probability and the realised
      attainment on one scale (the monitor's job): a stable world's systematic offset between
      them must stay well under 0.12 (bench/loop.py's stable scenario says).
    - `max_early_auc_drop` 0.06, `min_early_auc_n` 500: measured on bench/loop.py's 20,000-
      applicant stable world over seven looks, the pooled early AUC (770-890 hires, 'all')
      stayed within 0.036 of its first look; a family's (170-260 hires) moved by up to 0.10
      (manufacturing 0.772 -> 0.672), so families are left to the pooled row. The same
      world under concept drift moved 'all' by at most 0.029 in its first four quarters:
      the simulator's concept drift barely shows in the early ranking at this size, and this
      figure watches for a larger change, not that one.
    - `refire_margin` 0.5: a figure acted on retrains again once it has grown by half its
      threshold (drift share +0.04: one more drifted input of 30; AUC drop +0.05).
    - `driver_change_alpha` 0.0001, `min_driver_n` 100: one test per family per look (four
      families, eight looks). The p-values are not exact: the stable world of
      tests/orchestration/test_simulate_quarters.py (900 applicants a quarter) reached
      3.2e-4 in sales at 149 early hires, so 0.001 raised a false alarm there; concept
      drift at demo size passes 1e-4 at its fifth close (3.7e-5) and far below it after.
      Measured on bench/loop.py's 20,000-applicant worlds, a year of
      early hires per family (170-250): stable p 0.18-0.98, concept drift 6.3e-8 to 0.023
      (three of four families under 0.001); single cohorts of 50-90 hires: stable ≥ 0.005
      over twenty, concept drift's first cohort under 0.001 in every family. Under a hundred
      early hires the fit has a dozen parameters for too few rows.
    """

    max_drift_share: float = 0.08
    min_drift_n: int = 100
    max_auc_drop: float = 0.10
    min_auc_n: int = 250
    max_calibration_error: float = 0.12
    min_calibration_n: int = 300
    max_early_gap: float = 0.12
    min_early_n: int = 100
    max_early_auc_drop: float = 0.06
    min_early_auc_n: int = 500
    driver_change_alpha: float = 0.0001
    min_driver_n: int = 100
    refire_margin: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.driver_change_alpha < 1:
            raise ValueError("driver_change_alpha must lie between 0 and 1")
        if not self.refire_margin > 0:
            raise ValueError("refire_margin must be above 0 (a share of each threshold)")
        for name, value in asdict(self).items():
            if name.startswith("min_") and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number of rows, at least 1")
            if name.startswith("max_") and not 0 < value < 1:
                raise ValueError(f"{name} must lie between 0 and 1")


@dataclass(frozen=True)
class Check:
    """One figure of one family against its threshold."""

    figure: str          # a key of LABELS
    role_family: str
    value: float | None
    threshold: float
    n: int
    min_n: int
    status: str          # BREACH | WITHIN | UNTESTED | ACTED_ON
    acted_on: dict[str, Any] | None = None  # the look whose retrain kept the champion

    def _shown(self, value: float) -> str:
        return f"{value:.2g}" if self.figure in BELOW else f"{value:.3f}"

    def reason(self) -> str:
        label = LABELS[self.figure]
        if self.status == ACTED_ON:
            then = self.acted_on or {}
            return (f"{self.role_family}: {label} {self._shown(self.value)} past threshold "
                    f"{self._shown(self.threshold)} (n {self.n}), acted on in "
                    f"{then.get('quarter')} ({self._shown(then.get('value'))} then; retrained, "
                    f"champion kept) and not worse since by the re-fire margin: no retrain")
        if self.status == UNTESTED:
            why = "no value" if self.value is None else f"n {self.n} < min {self.min_n}"
            return f"{self.role_family}: {label} not tested ({why})"
        breach = self.status == BREACH
        if self.figure in BELOW:
            sign, shown = ("<" if breach else "≥"), f"{self.value:.2g} {{}} threshold " \
                f"{self.threshold:.2g}"
        else:
            sign, shown = (">" if breach else "≤"), f"{self.value:.3f} {{}} threshold " \
                f"{self.threshold:.3f}"
        verdict = "retrain" if breach else "within"
        return (f"{self.role_family}: {label} {shown.format(sign)} "
                f"(n {self.n} ≥ min {self.min_n}): {verdict}")


LABELS = {"drift_share": "feature drift share", "auc_drop": "AUC drop (reference − realised)",
          "calibration_error": "calibration error", "early_gap": "early-attainment gap",
          "early_auc_drop": "early AUC drop (first look − now)",
          "driver_change_p": "KPI driver change p-value"}
# Figures that breach by falling below their threshold (a p-value); the others by exceeding.
BELOW = frozenset({"driver_change_p"})


@dataclass(frozen=True)
class TriggerDecision:
    """What the trigger decided for one as-of: retrain or not, why, and from what."""

    as_of: str
    quarter: str
    retrain: bool
    checks: tuple[Check, ...]
    figures: dict[str, Any]

    @property
    def reasons(self) -> list[str]:
        """Breaches first, then those acted on, then the figures within their thresholds,
        then the untested."""
        order = {BREACH: 0, ACTED_ON: 1, WITHIN: 2, UNTESTED: 3}
        return [c.reason() for c in sorted(self.checks, key=lambda c: order[c.status])]

    @property
    def breaches(self) -> list[Check]:
        return [c for c in self.checks if c.status == BREACH]


def quarter_looked_at(as_of: str | dt.date) -> str:
    """The quarter an as-of closes: the one holding the day before it ('2025-04-01' ->
    '2025-Q1'); two exports in one quarter look at the same quarter."""
    day = dt.date.fromisoformat(str(as_of)[:10]) if not isinstance(as_of, dt.date) else as_of
    return quarter_of(day - dt.timedelta(days=1))


def _check(figure: str, family: str, value: float | None, threshold: float, n: int,
           min_n: int) -> Check:
    tested = value is not None and n >= min_n
    past = value is not None and (value < threshold if figure in BELOW else value > threshold)
    status = UNTESTED if not tested else BREACH if past else WITHIN
    return Check(figure, family, value, threshold, n, min_n, status)


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)  # NaN: no value


def _acknowledged(check: Check, then: dict[str, Any] | None, policy: TriggerPolicy) -> Check:
    """`check`, or ACTED_ON when it breaches as it did at a look whose retrain kept the
    champion and has not grown worse since by the re-fire margin."""
    if check.status != BREACH or then is None or then.get("value") is None:
        return check
    before = float(then["value"])
    if check.figure in BELOW:
        worse = check.value < before * policy.driver_change_alpha
    else:
        worse = check.value > before + policy.refire_margin * check.threshold
    return check if worse else replace(check, status=ACTED_ON, acted_on=dict(then))


def decide(figures: dict[str, Any], policy: TriggerPolicy = TriggerPolicy()) -> TriggerDecision:
    """Apply `policy` to `figures` (the shape `read_figures` returns)."""
    checks: list[Check] = []
    for row in figures.get("drift", []):
        checks.append(_check("drift_share", row["role_family"], _num(row["drift_share"]),
                             policy.max_drift_share, int(row["n_current"]), policy.min_drift_n))
    for row in figures.get("quality", []):
        family, n = row["role_family"], int(row["n"])
        if row["kind"] == "realised":
            auc, ref = _num(row.get("auc")), _num(row.get("reference_auc"))
            drop = None if auc is None or ref is None else ref - auc
            checks.append(_check("auc_drop", family, drop, policy.max_auc_drop, n,
                                 policy.min_auc_n))
            checks.append(_check("calibration_error", family,
                                 _num(row.get("calibration_error")),
                                 policy.max_calibration_error, n, policy.min_calibration_n))
        elif row["kind"] == "early":
            pred, obs = _num(row.get("mean_predicted")), _num(row.get("mean_observed"))
            gap = None if pred is None or obs is None else abs(pred - obs)
            checks.append(_check("early_gap", family, gap, policy.max_early_gap, n,
                                 policy.min_early_n))
            ref, auc = _num(row.get("early_reference_auc")), _num(row.get("early_auc"))
            drop = None if ref is None or auc is None else ref - auc
            checks.append(_check("early_auc_drop", family, drop, policy.max_early_auc_drop,
                                 int(row.get("early_auc_n") or 0), policy.min_early_auc_n))
    for row in figures.get("drivers", []):
        checks.append(_check("driver_change_p", row["role_family"], _num(row["p_value"]),
                             policy.driver_change_alpha, int(row["n_current"]),
                             policy.min_driver_n))
    acted = {(a["figure"], a["role_family"]): a for a in figures.get("acted_on", [])}
    checks = [_acknowledged(c, acted.get((c.figure, c.role_family)), policy) for c in checks]
    as_of = str(figures["as_of"])
    return TriggerDecision(as_of=as_of, quarter=quarter_looked_at(as_of),
                           retrain=any(c.status == BREACH for c in checks),
                           checks=tuple(checks),
                           figures={**figures, "thresholds": asdict(policy)})


# --- reading the recorded figures -------------------------------------------------------

_DRIFT = ("role_family", "model_version", "drift_share", "n_drifted", "n_features",
          "n_current", "prediction_drifted")
_DRIVERS = ("role_family", "model_version", "n_reference", "n_current", "chi2", "df", "p_value",
            "moves")
_QUALITY = ("role_family", "kind", "cohort_quarter", "model_version", "n", "n_positive", "auc",
            "reference_auc", "brier", "calibration_error", "mean_predicted", "mean_observed",
            "n_reviews_mean")


def _exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    return bool(cursor.fetchone()[0])


def newest_as_of(cursor) -> str | None:
    """The newest as-of with drift or quality figures (None: none recorded yet). Reads
    only: a daemon looking at an installation without monitoring tables creates nothing."""
    tables = [t for t in ("monitoring.feature_drift_summary", "monitoring.model_quality")
              if _exists(cursor, t)]
    if not tables:
        return None
    union = " UNION ALL ".join(f"SELECT max(as_of) AS d FROM {t}" for t in tables)
    cursor.execute(f"SELECT max(d) FROM ({union}) AS both_tables")
    day = cursor.fetchone()[0]
    return None if day is None else day.isoformat()


def _rows(cursor, sql: str, params: tuple) -> list[dict[str, Any]]:
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_figures(cursor, as_of: str | None = None, policy: TriggerPolicy | None = None
                 ) -> dict[str, Any] | None:
    """The figures of `as_of` (default: the newest), JSON-ready; None when there are none.

    Drift and KPI driver changes: the family rows of the model version computed last at
    that as-of. Quality: per
    (family, kind), the newest cohort, of the model version computed last for that kind,
    with the rows `policy` needs to test it (realised: `min_auc_n`, early: `min_early_n`),
    else the newest cohort. The newest cohort of a quarter is still filling (at an as-of,
    the hires of the quarter before have one review each only if they started in its first
    days: a handful); looking only at it left the early figures never tested.
    """
    policy = policy or TriggerPolicy()
    as_of = as_of or newest_as_of(cursor)
    if as_of is None:
        return None
    drift: list[dict[str, Any]] = []
    if _exists(cursor, "monitoring.feature_drift_summary"):
        drift = _rows(cursor, f"""
            SELECT {', '.join(_DRIFT)} FROM monitoring.feature_drift_summary s
            WHERE as_of = %s AND model_version = (
                SELECT model_version FROM monitoring.feature_drift_summary
                WHERE as_of = %s ORDER BY computed_at DESC, model_version DESC LIMIT 1)
            ORDER BY role_family""", (as_of, as_of))
    quality: list[dict[str, Any]] = []
    if _exists(cursor, "monitoring.model_quality"):
        quality = _rows(cursor, f"""
            WITH latest AS (
                SELECT DISTINCT ON (kind) kind, model_version FROM monitoring.model_quality
                WHERE as_of = %s ORDER BY kind, computed_at DESC, model_version DESC)
            SELECT DISTINCT ON (q.role_family, q.kind) {', '.join('q.' + c for c in _QUALITY)}
            FROM monitoring.model_quality q JOIN latest USING (kind, model_version)
            WHERE q.as_of = %s
            ORDER BY q.role_family, q.kind,
                     q.n >= CASE q.kind WHEN 'realised' THEN %s WHEN 'early' THEN %s
                                        ELSE 0 END DESC,
                     q.cohort_quarter DESC""",
            (as_of, as_of, policy.min_auc_n, policy.min_early_n))
    drivers: list[dict[str, Any]] = []
    if _exists(cursor, "monitoring.kpi_driver_change"):
        drivers = _rows(cursor, f"""
            SELECT {', '.join(_DRIVERS)} FROM monitoring.kpi_driver_change
            WHERE as_of = %s AND model_version = (
                SELECT model_version FROM monitoring.kpi_driver_change
                WHERE as_of = %s ORDER BY computed_at DESC, model_version DESC LIMIT 1)
            ORDER BY role_family""", (as_of, as_of))
    if not drift and not quality and not drivers:
        return None
    early = [r for r in quality if r["kind"] == "early"]
    for row, (auc, n, reference) in zip(early, _early_aucs(cursor, as_of, early,
                                                            policy.min_early_n), strict=True):
        row.update(early_auc=auc, early_auc_n=n, early_reference_auc=reference)
    version = next((str(r["model_version"]) for r in (*drift, *quality, *drivers)), None)
    return {"as_of": as_of, "drift": [_plain(r) for r in drift],
            "quality": [_plain(r) for r in quality], "drivers": [_plain(r) for r in drivers],
            "acted_on": acted_on(cursor, version, as_of, policy)}


def acted_on(cursor, version: str | None, as_of: str, policy: TriggerPolicy
             ) -> list[dict[str, Any]]:
    """What retrains before `as_of` acted on and kept `version` for: per (figure, family),
    the value, as-of and quarter of the latest such look where it breached (recomputed from
    the trigger figures that look recorded, with `policy`)."""
    if version is None or not _exists(cursor, "monitoring.loop_decisions"):
        return []
    cursor.execute("""
        SELECT quarter, figures -> 'trigger' -> 'figures' FROM monitoring.loop_decisions
        WHERE decision = 'retrained_kept' AND champion_after = %s AND as_of < %s
          AND figures ? 'trigger' ORDER BY as_of, decision_id""", (version, as_of))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for quarter, then in cursor.fetchall():
        for c in decide(then, policy).breaches:
            out[(c.figure, c.role_family)] = {"figure": c.figure, "role_family": c.role_family,
                                              "value": c.value, "as_of": then["as_of"],
                                              "quarter": quarter}
    return list(out.values())


def _pooled_early_auc(cursor, as_of: str, family: str, version: str, min_n: int
                      ) -> tuple[float | None, int]:
    """The version's early AUC at `as_of` over the family's early cohorts with at least
    `min_n` hires, weighted by hires, and their hires (None, 0: no such cohort)."""
    cursor.execute("""
        SELECT sum(auc * n) / sum(n), coalesce(sum(n), 0) FROM monitoring.model_quality
        WHERE kind = 'early' AND auc IS NOT NULL AND n >= %s AND as_of = %s
          AND role_family = %s AND model_version = %s""", (min_n, as_of, family, version))
    auc, n = cursor.fetchone()
    return (None if auc is None else float(auc)), int(n)


def _early_aucs(cursor, as_of: str, early: list[dict[str, Any]], min_n: int
                ) -> list[tuple[float | None, int, float | None]]:
    """Per early row: its version's pooled early AUC at `as_of`, the hires behind it, and
    the same at the version's first look before `as_of` (None at its first look)."""
    out = []
    for row in early:
        family, version = row["role_family"], str(row["model_version"])
        cursor.execute("SELECT min(as_of) FROM monitoring.model_quality WHERE kind = 'early' "
                       "AND model_version = %s AND role_family = %s", (version, family))
        first = cursor.fetchone()[0]
        auc, n = _pooled_early_auc(cursor, as_of, family, version, min_n)
        reference = None
        if first is not None and first.isoformat() < as_of:
            reference = _pooled_early_auc(cursor, first.isoformat(), family, version, min_n)[0]
        out.append((auc, n, reference))
    return out


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, bool | int)
                else v) for k, v in row.items()}


__all__ = ["Check", "TriggerDecision", "TriggerPolicy", "acted_on", "decide", "newest_as_of",
           "quarter_looked_at", "read_figures"]
