"""The trained model: one entry per role family, calibrated, banded, explainable, saveable.

If the pooled model wins, every family maps to the same fitted booster with the role family
one-hot inside `features` (columns named `role_family=<family>`). A family may carry a
`linear_base` (ml.linear.LinearBase) whose log-odds the trees start from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import xgboost

from ml.features import FAMILY_COLUMN, assert_allowed, numeric_frame

ONEHOT_PREFIX = "role_family="
BANDS = ("advance", "review", "hold")


def onehot_name(family: str) -> str:
    return f"{ONEHOT_PREFIX}{family}"


def design_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model input matrix (float64) for `features`, one-hots built from role_family."""
    plain = [f for f in features if not f.startswith(ONEHOT_PREFIX)]
    x = numeric_frame(frame, plain)
    for f in features:
        if f.startswith(ONEHOT_PREFIX):
            x[f] = (frame[FAMILY_COLUMN].astype(str) == f[len(ONEHOT_PREFIX):]).astype(float)
    return x[features]


@dataclass
class FamilyModel:
    role_family: str
    features: list[str]
    required: list[str]
    booster: xgboost.XGBClassifier
    calibrator: object
    thresholds: dict[str, float]
    monotone: dict[str, int]
    linear_base: object | None = None

    def __post_init__(self) -> None:
        assert_allowed(self.features)

    def raw_margin(self, frame: pd.DataFrame) -> np.ndarray:
        x = design_matrix(frame, self.features)
        base = None if self.linear_base is None else self.linear_base.margin(x)
        return self.booster.predict(x, output_margin=True, base_margin=base)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        raw = 1.0 / (1.0 + np.exp(-self.raw_margin(frame)))
        return np.clip(self.calibrator.predict(raw), 0.0, 1.0)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution per feature (tree SHAP + the linear base's exact terms)."""
        x = design_matrix(frame, self.features)
        dm = xgboost.DMatrix(x, feature_names=self.features)
        if self.linear_base is not None:
            dm.set_base_margin(self.linear_base.margin(x))
        contrib = self.booster.get_booster().predict(dm, pred_contribs=True)[:, :-1]
        out = pd.DataFrame(contrib, columns=self.features, index=frame.index)
        if self.linear_base is not None:
            lin = self.linear_base.contributions(x)
            out[lin.columns] += lin.to_numpy()
        return out


@dataclass
class HireloopModel:
    families: dict[str, FamilyModel]
    version_info: dict = field(default_factory=dict)

    def _family_rows(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        fam = frame[FAMILY_COLUMN].astype(str).to_numpy()
        unknown = sorted(set(fam) - set(self.families))
        if unknown:
            raise ValueError(f"unknown role family {unknown}; known: {sorted(self.families)}")
        return {f: np.flatnonzero(fam == f) for f in self.families if (fam == f).any()}

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated P(met_kpi) per row."""
        out = np.full(len(frame), np.nan)
        for fam, rows in self._family_rows(frame).items():
            out[rows] = self.families[fam].predict_proba(frame.iloc[rows])
        return out

    def band(self, frame: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
        """'advance' (p >= advance threshold), 'review' (p >= review threshold), else 'hold'."""
        out = np.empty(len(frame), dtype=object)
        for fam, rows in self._family_rows(frame).items():
            t = self.families[fam].thresholds
            p = np.asarray(proba)[rows]
            out[rows] = np.where(p >= t["advance"], "advance",
                                 np.where(p >= t["review"], "review", "hold"))
        return out

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per input column (feature-store names; one-hots summed into 'role_family'),
        log-odds contributions; 0 where a family's model does not use a column."""
        parts = []
        for fam, rows in self._family_rows(frame).items():
            c = self.families[fam].contributions(frame.iloc[rows])
            onehots = [col for col in c.columns if col.startswith(ONEHOT_PREFIX)]
            if onehots:
                c[FAMILY_COLUMN] = c[onehots].sum(axis=1)
                c = c.drop(columns=onehots)
            parts.append(c)
        out = pd.concat(parts).fillna(0.0) if parts else pd.DataFrame(index=frame.index)
        return out.loc[frame.index] if frame.index.is_unique else out.reindex(frame.index)

    # -- persistence: xgboost's own JSON for boosters, joblib for small sklearn-like parts --
    def save(self, path: Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        boosters: dict[int, str] = {}
        meta = {"version_info": self.version_info, "families": {}}
        for fam, fm in self.families.items():
            key = id(fm.booster)
            if key not in boosters:
                boosters[key] = f"booster_{len(boosters)}.json"
                fm.booster.save_model(path / boosters[key])
            joblib.dump({"calibrator": fm.calibrator, "linear_base": fm.linear_base},
                        path / f"parts_{fam}.joblib")
            meta["families"][fam] = {
                "features": fm.features, "required": fm.required, "thresholds": fm.thresholds,
                "monotone": fm.monotone, "booster": boosters[key],
                "parts": f"parts_{fam}.joblib",
            }
        (path / "model.json").write_text(json.dumps(meta, indent=2, default=str))
        return path

    @classmethod
    def load(cls, path: Path) -> HireloopModel:
        path = Path(path)
        meta = json.loads((path / "model.json").read_text())
        loaded: dict[str, xgboost.XGBClassifier] = {}
        families = {}
        for fam, m in meta["families"].items():
            if m["booster"] not in loaded:
                b = xgboost.XGBClassifier()
                b.load_model(path / m["booster"])
                loaded[m["booster"]] = b
            parts = joblib.load(path / m["parts"])
            families[fam] = FamilyModel(
                role_family=fam, features=m["features"], required=m["required"],
                booster=loaded[m["booster"]], calibrator=parts["calibrator"],
                thresholds={k: float(v) for k, v in m["thresholds"].items()},
                monotone={k: int(v) for k, v in m["monotone"].items()},
                linear_base=parts["linear_base"])
        return cls(families=families, version_info=meta["version_info"])
