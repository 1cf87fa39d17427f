"""A small stand-in with the HireloopModel interface (ml/model.py), trained on random rows.

Real XGBoost boosters and isotonic calibrators, so the pyfunc is tested on real scoring,
contributions and save/load; only the data is random.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.isotonic import IsotonicRegression

FAMILY_INPUTS = {
    "sales": (["interviewer_communication", "ai_communication", "interviewer_persuasion",
               "overall_rating_mean", "key_kpi_scenario_answered_fully_share",
               "mean_response_seconds", "n_interviews"],
              ["interviewer_communication", "interviewer_persuasion", "overall_rating_mean"]),
    "rnd": (["interviewer_technical_depth", "interviewer_logic", "ai_logic",
             "overall_rating_mean", "mean_response_seconds"],
            ["interviewer_technical_depth", "interviewer_logic", "overall_rating_mean"]),
}


@dataclass
class FamilyModel:
    role_family: str
    features: list[str]
    required: list[str]
    booster: xgb.XGBClassifier
    calibrator: IsotonicRegression
    thresholds: dict[str, float]
    monotone: dict[str, int] = field(default_factory=dict)


@dataclass
class StandinModel:
    families: dict[str, FamilyModel]
    version_info: dict = field(default_factory=dict)

    def _x(self, fam: FamilyModel, rows: pd.DataFrame) -> np.ndarray:
        return rows.reindex(columns=fam.features).to_numpy(dtype="float64")

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.full(len(frame), np.nan)
        fams = frame["role_family"].to_numpy()
        for name, fam in self.families.items():
            mask = fams == name
            if mask.any():
                raw = fam.booster.predict_proba(self._x(fam, frame[mask]))[:, 1]
                out[mask] = fam.calibrator.predict(raw)
        return out

    def band(self, frame: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        out = np.empty(len(frame), dtype=object)
        for i, (name, p) in enumerate(zip(frame["role_family"], proba, strict=True)):
            t = self.families[name].thresholds
            out[i] = "advance" if p >= t["advance"] else "review" if p >= t["review"] else "hold"
        return out

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        cols = sorted({c for f in self.families.values() for c in f.features})
        out = pd.DataFrame(0.0, index=frame.index, columns=cols)
        fams = frame["role_family"].to_numpy()
        for name, fam in self.families.items():
            mask = fams == name
            if mask.any():
                dm = xgb.DMatrix(self._x(fam, frame[mask]))
                contrib = fam.booster.get_booster().predict(dm, pred_contribs=True)[:, :-1]
                out.loc[mask, fam.features] = contrib
        return out

    def save(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        joblib.dump(self, Path(path) / "model.joblib")

    @classmethod
    def load(cls, path: Path) -> StandinModel:
        return joblib.load(Path(path) / "model.joblib")


def train_standin(seed: int = 3, n: int = 600) -> StandinModel:
    rng = np.random.default_rng(seed)
    families = {}
    for name, (features, required) in FAMILY_INPUTS.items():
        x = np.column_stack([_draw(c, rng, n) for c in features])
        logit = (x[:, 0] - 5) * 0.5 + (x[:, 1] - 5) * 0.3 + rng.normal(size=n)
        y = (logit > 0).astype(int)
        booster = xgb.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=seed)
        booster.fit(x, y)
        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        calibrator.fit(booster.predict_proba(x)[:, 1], y)
        families[name] = FamilyModel(name, features, required, booster, calibrator,
                                     {"advance": 0.6, "review": 0.3})
    return StandinModel(families, {"kind": "stand-in"})


def _draw(column: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if column.startswith(("interviewer_", "ai_")):
        return np.clip(rng.normal(5, 2, n), 0, 10)
    if column.startswith("overall_rating"):
        return rng.integers(1, 6, n).astype(float)
    if column.endswith("_share"):
        return rng.random(n)
    if column == "n_interviews":
        return rng.integers(1, 4, n).astype(float)
    return rng.gamma(2, 30, n)
