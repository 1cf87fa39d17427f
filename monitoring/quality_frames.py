"""The hires quality is judged on, read from the feature store and scored by the champion.

Which cohorts count, one rule each:
- the champion's own cohorts (its train and holdout cohorts, `version_info`, the same lists
  its MLflow run logs as params) are never judged, nor any older cohort: only cohorts hired
  after its newest one, the future it did not see;
- realised: cohorts complete by ml.split.complete_cohorts (the rule training uses: the
  newest quarters' only mature labels are early leavers, all "not met");
- early: hires of the other cohorts with one to three reviews (marts.fct_early_outcomes);
- estimate: every hire of the other cohorts (the early mart's and the leavers already
  labelled in marts.fct_training_examples: the cohort as it will be judged once mature).
The attainment map is fitted on the champion's own cohorts' complete, retained hires (`own`,
also the reference of monitoring.kpi_drivers).
Hires are scored in process (`HireloopModel.predict_proba` / `band`, the endpoint's own
scoring) from their point-in-time features.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ml.datasets import EARLY_OUTCOMES, TRAINING_SET, read_frame
from ml.features import FAMILY_COLUMN
from ml.model import HireloopModel
from ml.split import COHORT, complete_cohorts
from monitoring.quality import ALL, BAND, PROBABILITY, AttainmentMap


@dataclass(frozen=True)
class ChampionReference:
    """What quality is judged against: the champion's cohorts and its holdout AUCs."""

    model_version: str
    cohorts: tuple[str, ...]
    reference_auc: dict[str, float]  # role family (and 'all') -> holdout AUC

    @property
    def newest_cohort(self) -> str:
        return max(self.cohorts)


def champion_reference(model: HireloopModel, model_version: str) -> ChampionReference:
    """The champion's train + holdout cohorts and holdout AUC per family, from the
    `version_info` ml.training_pipeline writes into every model version."""
    info = getattr(model, "version_info", {}) or {}
    cohorts = tuple(sorted({*info.get("train_cohorts", []), *info.get("holdout_cohorts", [])}))
    if not cohorts:
        raise ValueError("the model records no training cohorts (version_info): retrain it "
                         "with the current ml.training_pipeline")
    aucs = (info.get("auc_holdout") or {}).get("model") or {}
    reference = {ALL if family == "overall" else str(family): float(auc)
                 for family, auc in aucs.items() if auc is not None and pd.notna(auc)}
    return ChampionReference(str(model_version), cohorts, reference)


def scored(model: HireloopModel, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s rows of the model's families, with its probability and band as columns."""
    rows = frame[frame[FAMILY_COLUMN].astype(str).isin(list(model.families))].copy()
    rows = rows.reset_index(drop=True)
    proba = model.predict_proba(rows) if len(rows) else []
    rows[PROBABILITY] = proba
    rows[BAND] = model.band(rows, rows[PROBABILITY].to_numpy()) if len(rows) else []
    return rows


@dataclass
class QualityFrames:
    """The scored hires of each kind, and the map from probability to attainment."""

    realised: pd.DataFrame
    early: pd.DataFrame
    estimate: pd.DataFrame
    attainment: AttainmentMap
    own: pd.DataFrame            # the champion's own complete cohorts' retained hires


def read_frames(conn, model: HireloopModel, reference: ChampionReference) -> QualityFrames:
    """Read both marts, score them with `model`, split them by the module's rules."""
    mature = scored(model, read_frame(conn, f"SELECT * FROM {TRAINING_SET} ORDER BY candidate_id"))
    early = scored(model, read_frame(conn, f"SELECT * FROM {EARLY_OUTCOMES} "
                                     "ORDER BY candidate_id"))
    complete = set(complete_cohorts(mature)) if len(mature) else set()
    newest = reference.newest_cohort

    def unseen(frame: pd.DataFrame) -> pd.Series:
        return frame[COHORT].astype(str) > newest

    own = mature[mature[COHORT].isin(reference.cohorts) & mature[COHORT].isin(complete)
                 & mature["retained_12m"].astype(bool)]
    realised = mature[unseen(mature) & mature[COHORT].isin(complete)]
    pending = mature[unseen(mature) & ~mature[COHORT].isin(complete)]
    early = early[unseen(early) & ~early[COHORT].isin(complete)]
    estimate = pd.concat([pending.assign(n_reviews=pending["n_label_reviews"]),
                          early.assign(n_reviews=early["n_reviews_so_far"])],
                         ignore_index=True)
    return QualityFrames(realised.reset_index(drop=True), early.reset_index(drop=True),
                         estimate, AttainmentMap.fit(own), own.reset_index(drop=True))
