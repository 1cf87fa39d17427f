"""The straightforward scoring path, kept as the reference the fast path must match.

This is how ml/model.py and ml/pyfunc_model.py scored before the array path: pandas design
matrices (`apply(pd.to_numeric)` per column), the sklearn wrapper's `predict` on a
DataFrame, a DMatrix from a DataFrame for SHAP, one frame per family concatenated, and
reasons grouped with pandas. Slow and obviously right; tests compare against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost

from ml.model import ONEHOT_PREFIX, FamilyModel, HireloopModel
from ml.scoring_input import reason_label

FAMILY = "role_family"


def design(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    plain = [f for f in features if not f.startswith(ONEHOT_PREFIX)]
    x = frame.loc[:, plain].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    for f in features:
        if f.startswith(ONEHOT_PREFIX):
            x[f] = (frame[FAMILY].astype(str) == f[len(ONEHOT_PREFIX):]).astype(float)
    return x[features]


def family_proba(fm: FamilyModel, frame: pd.DataFrame) -> np.ndarray:
    x = design(frame, fm.features)
    base = None if fm.linear_base is None else fm.linear_base.margin(x)
    margin = fm.booster.predict(x, output_margin=True, base_margin=base)
    raw = 1.0 / (1.0 + np.exp(-margin))
    return np.clip(fm.calibrator.predict(raw), 0.0, 1.0)


def family_contributions(fm: FamilyModel, frame: pd.DataFrame) -> pd.DataFrame:
    x = design(frame, fm.features)
    dm = xgboost.DMatrix(x, feature_names=fm.features)
    if fm.linear_base is not None:
        dm.set_base_margin(fm.linear_base.margin(x))
    contrib = fm.booster.get_booster().predict(dm, pred_contribs=True)[:, :-1]
    out = pd.DataFrame(contrib, columns=fm.features, index=frame.index)
    if fm.linear_base is not None:
        lin = fm.linear_base.contributions(x)
        out[lin.columns] += lin.to_numpy()
    return out


def _family_rows(model: HireloopModel, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    fam = frame[FAMILY].astype(str).to_numpy()
    return {f: np.flatnonzero(fam == f) for f in model.families if (fam == f).any()}


def predict_proba(model: HireloopModel, frame: pd.DataFrame) -> np.ndarray:
    out = np.full(len(frame), np.nan)
    for fam, rows in _family_rows(model, frame).items():
        out[rows] = family_proba(model.families[fam], frame.iloc[rows])
    return out


def band(model: HireloopModel, frame: pd.DataFrame, proba: np.ndarray) -> np.ndarray:
    out = np.empty(len(frame), dtype=object)
    for fam, rows in _family_rows(model, frame).items():
        t = model.families[fam].thresholds
        p = np.asarray(proba)[rows]
        out[rows] = np.where(p >= t["advance"], "advance",
                             np.where(p >= t["review"], "review", "hold"))
    return out


def contributions(model: HireloopModel, frame: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for fam, rows in _family_rows(model, frame).items():
        c = family_contributions(model.families[fam], frame.iloc[rows])
        onehots = [col for col in c.columns if col.startswith(ONEHOT_PREFIX)]
        if onehots:
            c[FAMILY] = c[onehots].sum(axis=1)
            c = c.drop(columns=onehots)
        parts.append(c)
    out = pd.concat(parts).fillna(0.0)
    return out.loc[frame.index]


def reasons(contributions: pd.DataFrame, top: int = 3) -> list[str]:
    cols = [c for c in contributions.columns if str(c).lower() not in ("bias", "_bias", FAMILY)
            and not str(c).startswith(f"{FAMILY}=")]
    labels = [reason_label(str(c)) for c in cols]
    grouped = contributions[cols].T.groupby(labels, sort=False).sum().T
    names = np.asarray(grouped.columns, dtype=object)
    values = grouped.to_numpy(dtype="float64")
    order = np.array([sorted(range(len(names)), key=lambda j: (-round(abs(row[j]), 9), names[j]))
                      for row in values], dtype=int).reshape(len(values), -1)[:, :top]
    return ["; ".join(f"{names[j]} {values[r, j]:+.2f}" for j in idx
                      if values[r, j] != 0 or len(idx) == 1)
            for r, idx in enumerate(order)]
