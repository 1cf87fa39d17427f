"""The feedback analysis for HR leads: which interview signals went with KPI attainment.

Per role family, on the mature hires of the feature store (marts.fct_training_examples) of
the complete hire cohorts (ml.split.complete_cohorts, the training split's rule: a newer
quarter's labels so far are only its early leavers, who would drag it down):
- attainment by band of each dimension the family's interviews score (monitoring.score_bands,
  on the interviewer's mean score) and by decile of the champion's score;
- for each key question (marts.fct_key_question_answers), the share meeting the KPI of
  those who answered it fully against those who did not, with Wilson intervals and
  Newcombe's interval for the difference: a lift is claimed only where that interval
  excludes no difference, and never on fewer than MIN_GROUP hires a side;
- attainment per hire quarter (every cohort, the incomplete ones marked);
- how the drivers moved between the previous and the current champion: each one's share
  of the mean |SHAP| (log-odds contributions, XGBoost's exact tree SHAP plus any linear
  base, as the model explains its scores), both versions on the same hires.
Plain functions on frames and models: the caller reads the store and loads the versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hris.contract import DIMENSIONS, ROLE_FAMILIES
from ml.datasets import read_frame
from ml.features import FAMILY_COLUMN
from ml.scoring_input import reason_label
from ml.split import COHORT, complete_cohorts
from monitoring.intervals import Interval, newcombe_difference, wilson
from monitoring.score_bands import attainment_by_band

MIN_GROUP = 10        # fewer hires on a side of a comparison: no claim
MIN_DECILE_HIRES = 30  # fewer hires in a family: no decile table
SCORED_SHARE = 0.5    # a dimension is the family's when at least this share has its score
NOT_A_DRIVER = ("role family",)  # a family's base rate, constant within the family

EXAMPLES_SQL = "SELECT * FROM marts.fct_training_examples ORDER BY candidate_id"
ANSWERS_SQL = ("SELECT candidate_id, question_id, answered_fully "
               "FROM marts.fct_key_question_answers ORDER BY candidate_id, question_id")
QUESTIONS_SQL = ("SELECT question_id, role_family, scenario_type, dimension, prompt_text "
                 "FROM marts.dim_interview_questions WHERE is_key_question "
                 "ORDER BY role_family, question_id")


@dataclass(frozen=True)
class FeedbackData:
    """What the analysis reads of the feature store."""

    examples: pd.DataFrame   # fct_training_examples
    answers: pd.DataFrame    # candidate_id, question_id, answered_fully
    questions: pd.DataFrame  # the key questions

    @property
    def complete(self) -> list[str]:
        """The hire cohorts whose labels are (nearly) all in (ml.split.complete_cohorts)."""
        return complete_cohorts(self.examples) if len(self.examples) else []

    def analysed(self) -> pd.DataFrame:
        """The hires the tables read: those of complete cohorts."""
        return self.examples.loc[self.examples[COHORT].isin(self.complete)]


def read_feedback_data(conn) -> FeedbackData:
    """The mature hires, their key-question answers and the key questions (psycopg2)."""
    return FeedbackData(read_frame(conn, EXAMPLES_SQL), read_frame(conn, ANSWERS_SQL),
                        read_frame(conn, QUESTIONS_SQL))


def _labels(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    attainment = pd.to_numeric(rows["kpi_attainment"], errors="coerce").astype(float)
    return attainment.to_numpy(), rows["met_kpi"].astype(bool).to_numpy()


def family_dimensions(rows: pd.DataFrame) -> list[str]:
    """The dimensions the family's interviewers score (`interviewer_<d>` present in at
    least SCORED_SHARE of its hires), in the contract's order."""
    out = []
    for d in DIMENSIONS:
        column = f"interviewer_{d}"
        if column in rows and pd.to_numeric(rows[column], errors="coerce").notna().mean() \
                >= SCORED_SHARE:
            out.append(d)
    return out


def band_tables(rows: pd.DataFrame) -> pd.DataFrame:
    """dimension, band, hires, mean_attainment, met_kpi_rate: every dimension of the
    family, bands top down (monitoring.score_bands.attainment_by_band)."""
    parts = []
    for d in family_dimensions(rows):
        table = attainment_by_band(rows, f"interviewer_{d}")
        table.insert(0, "dimension", d)
        parts.append(table)
    columns = ["dimension", "band", "hires", "mean_attainment", "met_kpi_rate"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def decile_table(rows: pd.DataFrame, proba: np.ndarray) -> pd.DataFrame | None:
    """decile (1 = lowest scores, 10 = highest), hires, lowest / highest / mean score,
    mean_attainment, met_kpi_rate; None under MIN_DECILE_HIRES hires. Ties are split by
    row order, so every decile holds a tenth of the hires."""
    if len(rows) < MIN_DECILE_HIRES:
        return None
    attainment, met = _labels(rows)
    ranks = pd.Series(proba).rank(method="first").to_numpy()
    decile = np.ceil(ranks * 10 / len(rows)).astype(int)
    frame = pd.DataFrame({"decile": decile, "score": proba, "attainment": attainment,
                          "met": met.astype(float)})
    grouped = frame.groupby("decile")
    return pd.DataFrame({
        "hires": grouped.size(), "score_low": grouped["score"].min(),
        "score_high": grouped["score"].max(), "mean_score": grouped["score"].mean(),
        "mean_attainment": grouped["attainment"].mean(), "met_kpi_rate": grouped["met"].mean(),
    }).rename_axis("decile").reset_index()


@dataclass(frozen=True)
class KeyQuestion:
    """Those who answered one key question fully against those who did not."""

    question_id: str
    prompt_text: str | None
    dimension: str | None
    scenario_type: str | None
    n_full: int
    n_not: int
    met_full: int
    met_not: int
    attainment_full: float | None  # mean kpi_attainment
    attainment_not: float | None
    rate_full: Interval | None      # share meeting the KPI, Wilson
    rate_not: Interval | None
    difference: Interval | None     # rate_full - rate_not, Newcombe

    @property
    def enough(self) -> bool:
        return min(self.n_full, self.n_not) >= MIN_GROUP

    @property
    def claim(self) -> bool:
        """A difference is worth saying: both sides large enough, and the interval of the
        difference excludes 0."""
        return self.enough and self.difference is not None and self.difference.excludes(0.0)

    @property
    def relative_lift(self) -> float | None:
        """How much more often (as a share of the other side's rate) those who answered
        fully met the KPI: the seed's "25 % higher"."""
        if self.rate_full is None or self.rate_not is None or self.rate_not.estimate == 0:
            return None
        return self.rate_full.estimate / self.rate_not.estimate - 1


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def key_questions(rows: pd.DataFrame, answers: pd.DataFrame, questions: pd.DataFrame
                  ) -> list[KeyQuestion]:
    """One comparison per key question of the family that its hires were asked."""
    out = []
    asked = answers.merge(rows[["candidate_id", "kpi_attainment", "met_kpi"]],
                          on="candidate_id", how="inner")
    for q in questions.itertuples(index=False):
        got = asked.loc[asked["question_id"] == q.question_id]
        if got.empty:
            continue
        full = got["answered_fully"].astype(bool).to_numpy()
        attainment, met = _labels(got)
        n_full, n_not = int(full.sum()), int((~full).sum())
        met_full, met_not = int(met[full].sum()), int(met[~full].sum())
        out.append(KeyQuestion(
            question_id=str(q.question_id), prompt_text=q.prompt_text, dimension=q.dimension,
            scenario_type=q.scenario_type, n_full=n_full, n_not=n_not, met_full=met_full,
            met_not=met_not, attainment_full=_mean(attainment[full]),
            attainment_not=_mean(attainment[~full]), rate_full=wilson(met_full, n_full),
            rate_not=wilson(met_not, n_not),
            difference=newcombe_difference(met_full, n_full, met_not, n_not)))
    return out


def cohort_table(rows: pd.DataFrame, complete: list[str]) -> pd.DataFrame:
    """cohort_quarter (hire quarter), complete (in `complete`), hires, mean_attainment,
    met_kpi_rate, met_low, met_high (Wilson), oldest first."""
    attainment, met = _labels(rows)
    frame = pd.DataFrame({"cohort_quarter": rows["cohort_quarter"].to_numpy(),
                          "attainment": attainment, "met": met.astype(int)})
    records = []
    for quarter, g in frame.groupby("cohort_quarter", sort=True):
        interval = wilson(int(g["met"].sum()), len(g))
        records.append({"cohort_quarter": quarter, "complete": quarter in complete,
                        "hires": len(g),
                         "mean_attainment": float(g["attainment"].mean()),
                         "met_kpi_rate": interval.estimate, "met_low": interval.low,
                         "met_high": interval.high})
    return pd.DataFrame(records, columns=["cohort_quarter", "complete", "hires",
                                          "mean_attainment",
                                          "met_kpi_rate", "met_low", "met_high"])


def shap_shares(model: Any, rows: pd.DataFrame) -> pd.Series:
    """Each driver's share of the mean |SHAP| on `rows` (one family's hires), drivers named
    as the reasons name them (interviewer and AI scores of a dimension are one driver),
    largest first; the family's base rate is left out."""
    contributions = model.contributions(rows)
    mean_abs = contributions.abs().mean()
    by_driver = mean_abs.groupby([reason_label(c) for c in mean_abs.index]).sum()
    by_driver = by_driver.drop([d for d in NOT_A_DRIVER if d in by_driver.index])
    by_driver = by_driver[by_driver > 0]
    total = by_driver.sum()
    shares = by_driver / total if total > 0 else by_driver
    return shares.sort_values(ascending=False)


@dataclass(frozen=True)
class DriverShift:
    """The drivers' shares of mean |SHAP| under two champion versions, on the same hires."""

    old_version: str
    new_version: str
    table: pd.DataFrame  # driver, old_share, new_share, change (new - old), largest first

    def biggest_moves(self) -> tuple[pd.Series | None, pd.Series | None]:
        """The driver that gained most and the one that lost most (None when none did)."""
        up = self.table.loc[self.table["change"] > 0]
        down = self.table.loc[self.table["change"] < 0]
        return (up.loc[up["change"].idxmax()] if len(up) else None,
                down.loc[down["change"].idxmin()] if len(down) else None)


def driver_shift(old: tuple[str, Any], new: tuple[str, Any], rows: pd.DataFrame
                 ) -> DriverShift:
    """Old and new champion ((version, model) each) explained on the same `rows`."""
    old_shares, new_shares = shap_shares(old[1], rows), shap_shares(new[1], rows)
    table = pd.DataFrame({"old_share": old_shares, "new_share": new_shares}).fillna(0.0)
    table["change"] = table["new_share"] - table["old_share"]
    table = table.sort_values("new_share", ascending=False).rename_axis("driver")
    return DriverShift(str(old[0]), str(new[0]), table.reset_index())


@dataclass
class FamilyFeedback:
    role_family: str
    hires: int
    met_kpi: Interval | None
    mean_attainment: float | None
    bands: pd.DataFrame
    deciles: pd.DataFrame | None
    key_questions: list[KeyQuestion]
    cohorts: pd.DataFrame
    drivers: pd.Series | None = None   # the champion's shares (one version)
    shift: DriverShift | None = None   # old vs new champion
    notes: list[str] = field(default_factory=list)


def _knows(model: Any, family: str) -> bool:
    return model is not None and family in getattr(model, "families", {})


def family_feedback(family: str, data: FeedbackData, champion: tuple[str, Any] | None = None,
                    previous: tuple[str, Any] | None = None) -> FamilyFeedback:
    """Every table of one role family (hires of complete cohorts; the hire-quarter table
    lists every cohort); the model parts only where the versions know it."""
    everyone = data.examples.loc[data.examples[FAMILY_COLUMN] == family]
    complete = data.complete
    rows = everyone.loc[everyone[COHORT].isin(complete)].reset_index(drop=True)
    attainment, met = _labels(rows)
    questions = data.questions.loc[data.questions["role_family"] == family]
    result = FamilyFeedback(
        role_family=family, hires=len(rows), met_kpi=wilson(int(met.sum()), len(rows)),
        mean_attainment=_mean(attainment), bands=band_tables(rows), deciles=None,
        key_questions=key_questions(rows, data.answers, questions),
        cohorts=cohort_table(everyone, complete))
    if champion is not None and _knows(champion[1], family) and len(rows):
        result.deciles = decile_table(rows, np.asarray(champion[1].predict_proba(rows)))
        result.drivers = shap_shares(champion[1], rows)
        if previous is not None and _knows(previous[1], family):
            result.shift = driver_shift(previous, champion, rows)
    return result


def families_of(data: FeedbackData) -> list[str]:
    """The role families with mature hires, in the contract's order."""
    present = set(data.examples[FAMILY_COLUMN].astype(str))
    return [f for f in ROLE_FAMILIES if f in present] + sorted(present - set(ROLE_FAMILIES))
