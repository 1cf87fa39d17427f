"""The trained model: one entry per role family, calibrated, banded, explainable, saveable.

If the pooled model wins, every family maps to the same fitted booster with the role family
one-hot inside `features` (columns named `role_family=<family>`). A family may carry a
`linear_base` (ml.linear.LinearBase) whose log-odds the trees start from.

Scoring is one pass per role family over NumPy arrays (`HireloopModel.score`): the design
matrix is built once, and the margin (XGBoost `inplace_predict`) and the SHAP contributions
(`pred_contribs`) both read it. A served request holds a few rows, where pandas' per-column
machinery and XGBoost's DataFrame handling cost far more than the trees themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
import pandas as pd
import xgboost

from ml.features import FAMILY_COLUMN, assert_allowed, numeric_matrix

ONEHOT_PREFIX = "role_family="
BANDS = ("advance", "review", "hold")
# Up to this many rows XGBoost works on one thread (its global, thread-local setting, which
# governs DMatrix construction and meta data such as the base margin, and the DMatrix's
# own): for a request's few rows, waking OpenMP threads costs far more than the work
# (measured on 2 busy cores: setting a one-row base margin 12 ms on all threads, 0.1 ms on
# one). Results do not depend on the thread count.
SMALL_BATCH = 1024


def onehot_name(family: str) -> str:
    return f"{ONEHOT_PREFIX}{family}"


class ScoringRows(Protocol):
    """What the model scores besides a DataFrame: a validated batch as arrays
    (ml.scoring_input.CleanRows): role family per row, and the numeric inputs by name."""

    families: np.ndarray

    def __len__(self) -> int: ...

    def numbers(self, columns: Sequence[str]) -> np.ndarray: ...


Rows = pd.DataFrame | ScoringRows


def _families_of(rows: Rows) -> np.ndarray:
    if isinstance(rows, pd.DataFrame):
        return rows[FAMILY_COLUMN].astype(str).to_numpy()
    return np.asarray(rows.families, dtype=object)


def _numbers_of(rows: Rows, columns: list[str]) -> np.ndarray:
    if isinstance(rows, pd.DataFrame):
        return numeric_matrix(rows, columns)
    return rows.numbers(columns)


def _fill_design(out: np.ndarray, plain_values: np.ndarray, layout: _Layout,
                 families: np.ndarray) -> np.ndarray:
    """Fill `out` (rows x features) from the plain columns' values and the row families."""
    out[:, layout.plain_pos] = plain_values
    if len(layout.onehot_pos):
        out[:, layout.onehot_pos] = families[:, None] == layout.onehot_families[None, :]
    return out


def design_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model input matrix (float64) for `features`, one-hots built from role_family."""
    layout = _Layout.of(features)
    assert_allowed(layout.plain)
    x = np.empty((len(frame), len(features)), dtype=np.float64)
    fams = _families_of(frame) if len(layout.onehot_pos) else np.empty(0, dtype=object)
    _fill_design(x, numeric_matrix(frame, layout.plain), layout, fams)
    return pd.DataFrame(x, columns=list(features), index=frame.index)


@dataclass(frozen=True)
class _Layout:
    """Where a family's feature list puts plain inputs and one-hots, and how its SHAP
    columns are reported (one-hots summed into `role_family`, appended last)."""

    features: tuple[str, ...]
    plain: list[str]
    plain_pos: np.ndarray
    onehot_pos: np.ndarray
    onehot_families: np.ndarray
    out_columns: list[str]

    @classmethod
    def of(cls, features: list[str] | tuple[str, ...]) -> _Layout:
        features = tuple(features)
        hot = [i for i, f in enumerate(features) if f.startswith(ONEHOT_PREFIX)]
        plain_pos = [i for i in range(len(features)) if i not in set(hot)]
        plain = [features[i] for i in plain_pos]
        return cls(features, plain, np.array(plain_pos, dtype=np.intp),
                   np.array(hot, dtype=np.intp),
                   np.array([features[i][len(ONEHOT_PREFIX):] for i in hot], dtype=object),
                   plain + ([FAMILY_COLUMN] if hot else []))


@dataclass(frozen=True)
class _Engine:
    """A family's scoring parts resolved once: XGBoost Booster, the iteration range and
    missing value the sklearn wrapper would use, the linear base's column positions."""

    key: tuple
    layout: _Layout
    booster: xgboost.Booster
    iteration_range: tuple[int, int]
    missing: float
    linear_pos: np.ndarray | None


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
    _engine_cache: _Engine | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        assert_allowed(self.features)

    def __getstate__(self) -> dict:  # caches are rebuilt on first use, never pickled
        return {**self.__dict__, "_engine_cache": None}

    def _engine(self) -> _Engine:
        key = (tuple(self.features), id(self.booster), id(self.booster.get_booster()),
               id(self.linear_base))
        engine = self._engine_cache
        if engine is None or engine.key != key:
            layout = _Layout.of(self.features)
            linear_pos = None
            if self.linear_base is not None:
                index = {f: i for i, f in enumerate(self.features)}
                linear_pos = np.array([index[c] for c in self.linear_base.columns],
                                      dtype=np.intp)
            missing = self.booster.missing
            engine = _Engine(key, layout, self.booster.get_booster(),
                             tuple(self.booster._get_iteration_range(None)),
                             np.nan if missing is None else missing, linear_pos)
            self._engine_cache = engine
        return engine

    # -- array path: `x` is the design matrix (rows x self.features, float64) --------------
    def design(self, frame: pd.DataFrame) -> np.ndarray:
        return design_matrix(frame, self.features).to_numpy()

    def predict_arrays(self, x: np.ndarray, contributions: bool = True
                       ) -> tuple[np.ndarray, np.ndarray | None]:
        """(calibrated probability, SHAP log-odds per feature or None) for design matrix `x`.

        The linear base margin is computed once. With contributions, one DMatrix serves both
        predictions (margin, then pred_contribs); without, `inplace_predict` needs none.
        Values are those of the sklearn wrapper's `predict(output_margin=True)` (same
        iteration range and missing value) and of `pred_contribs` over every tree.
        """
        engine = self._engine()
        lin = None if self.linear_base is None else x[:, engine.linear_pos]
        base = None if lin is None else self.linear_base.margin_array(lin)
        contrib = None
        if not contributions:
            margin = engine.booster.inplace_predict(
                x, iteration_range=engine.iteration_range, predict_type="margin",
                missing=engine.missing, base_margin=base, validate_features=False)
        else:
            dm = xgboost.DMatrix(x, nthread=1 if len(x) <= SMALL_BATCH else -1)
            if base is not None:
                dm.set_base_margin(base)
            if np.isnan(engine.missing):
                margin = engine.booster.predict(dm, output_margin=True, validate_features=False,
                                                iteration_range=engine.iteration_range)
            else:  # the wrapper's own missing value for the margin; SHAP always used NaN
                margin = engine.booster.inplace_predict(
                    x, iteration_range=engine.iteration_range, predict_type="margin",
                    missing=engine.missing, base_margin=base, validate_features=False)
            shap = engine.booster.predict(dm, pred_contribs=True, validate_features=False)
            contrib = shap[:, :-1].astype(np.float64)
            if lin is not None:
                contrib[:, engine.linear_pos] += self.linear_base.contributions_array(lin)
        raw = 1.0 / (1.0 + np.exp(-margin))
        return np.clip(self.calibrator.predict(raw), 0.0, 1.0), contrib

    def merge_onehots(self, contrib: np.ndarray) -> np.ndarray:
        """Per-feature contributions -> per `_Layout.out_columns`: one-hots summed into
        role_family (the family's base rate, reported as one column)."""
        layout = self._engine().layout
        if not len(layout.onehot_pos):
            return contrib
        return np.column_stack([contrib[:, layout.plain_pos],
                                contrib[:, layout.onehot_pos].sum(axis=1)])

    # -- frame path ----------------------------------------------------------------------
    def raw_margin(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.design(frame)
        engine = self._engine()
        base = (None if self.linear_base is None
                else self.linear_base.margin_array(x[:, engine.linear_pos]))
        return engine.booster.inplace_predict(
            x, iteration_range=engine.iteration_range, predict_type="margin",
            missing=engine.missing, base_margin=base, validate_features=False)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_arrays(self.design(frame), contributions=False)[0]

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contribution per feature (tree SHAP + the linear base's exact terms)."""
        return pd.DataFrame(self.predict_arrays(self.design(frame))[1],
                            columns=list(self.features), index=frame.index)


@dataclass
class Scored:
    """`HireloopModel.score`'s result, rows aligned to the input frame."""

    proba: np.ndarray                   # calibrated P(met_kpi), float64
    band: np.ndarray                    # 'advance' | 'review' | 'hold' (object)
    contributions: np.ndarray | None    # rows x columns, float64 (None when not asked for)
    columns: list[str]                  # contribution columns (union over the batch's families)

    def contribution_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        return pd.DataFrame(self.contributions, columns=self.columns, index=index)


@dataclass(frozen=True)
class _BatchLayout:
    """For a set of families in a batch: the plain input columns read from the frame (union
    in family order), each family's positions in it, the contribution columns (union of the
    families' SHAP columns in family order) and each family's positions there."""

    inputs: list[str]
    input_pos: dict[str, np.ndarray]
    columns: list[str]
    column_pos: dict[str, np.ndarray]


def _band(p: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    return np.where(p >= thresholds["advance"], "advance",
                    np.where(p >= thresholds["review"], "review", "hold"))


@dataclass
class HireloopModel:
    families: dict[str, FamilyModel]
    version_info: dict = field(default_factory=dict)
    _layouts: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _one_thread: bool = field(default=False, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict:  # caches are rebuilt on first use, never pickled
        return {**self.__dict__, "_layouts": {}, "_one_thread": False}

    def single_threaded(self) -> None:
        """Score on one XGBoost thread whatever the batch size (the served model: a request
        holds a few rows, the server scales with `--workers`). The boosters then run on one
        thread and a small batch's DMatrix is built on one, so `score` can skip switching
        XGBoost's thread-local global setting per call (measured: the same DMatrix and
        base-margin times either way, and the switch cost 20-50 µs a request)."""
        for fam in self.families.values():
            fam.booster.set_params(n_jobs=1)
            fam.booster.get_booster().set_param({"nthread": 1})
        self._one_thread = True

    def _family_rows(self, frame: Rows) -> dict[str, np.ndarray]:
        return self._rows_of(_families_of(frame))

    def _rows_of(self, fam: np.ndarray) -> dict[str, np.ndarray]:
        present = set(fam)
        unknown = sorted(present - set(self.families))
        if unknown:
            raise ValueError(f"unknown role family {unknown}; known: {sorted(self.families)}")
        return {f: np.flatnonzero(fam == f) for f in self.families if f in present}

    def _batch_layout(self, present: tuple[str, ...]) -> _BatchLayout:
        key = (present, tuple((f, id(self.families[f]), tuple(self.families[f].features))
                              for f in present))
        layout = self._layouts.get(key)
        if layout is None:
            engines = {f: self.families[f]._engine().layout for f in present}
            inputs = list(dict.fromkeys(c for f in present for c in engines[f].plain))
            columns = list(dict.fromkeys(c for f in present for c in engines[f].out_columns))
            at_in = {c: i for i, c in enumerate(inputs)}
            at_out = {c: i for i, c in enumerate(columns)}
            layout = _BatchLayout(
                inputs,
                {f: np.array([at_in[c] for c in engines[f].plain], dtype=np.intp)
                 for f in present},
                columns,
                {f: np.array([at_out[c] for c in engines[f].out_columns], dtype=np.intp)
                 for f in present})
            if len(self._layouts) > 64:
                self._layouts.clear()
            self._layouts[key] = layout
        return layout

    def score(self, frame: Rows, contributions: bool = True) -> Scored:
        """Probability, band and (optionally) SHAP contributions in one pass per family.

        The frame's input columns are read once into one float64 array; each family's rows
        become its design matrix, from which the margin and the contributions are computed.
        Contribution columns are the union of the batch's families' columns (family order),
        0 where a family's model does not use a column.
        """
        if len(frame) <= SMALL_BATCH and not self._one_thread:
            with xgboost.config_context(nthread=1):
                return self._score(frame, contributions)
        return self._score(frame, contributions)

    def _score(self, frame: Rows, contributions: bool) -> Scored:
        fam = _families_of(frame)
        rows_of = self._rows_of(fam)
        layout = self._batch_layout(tuple(rows_of))
        values = _numbers_of(frame, layout.inputs)
        n = len(frame)
        proba = np.full(n, np.nan)
        band = np.empty(n, dtype=object)
        contrib = np.zeros((n, len(layout.columns))) if contributions else None
        whole = len(rows_of) == 1
        for f, rows in rows_of.items():
            fm = self.families[f]
            eng = fm._engine()
            take = slice(None) if whole else rows
            x = np.empty((len(rows), len(fm.features)), dtype=np.float64)
            _fill_design(x, values[take][:, layout.input_pos[f]], eng.layout, fam[take])
            p, shap = fm.predict_arrays(x, contributions)
            proba[take] = p
            band[take] = _band(p, fm.thresholds)
            if contrib is not None:
                block = fm.merge_onehots(shap)
                if whole:
                    contrib[:, layout.column_pos[f]] = block
                else:
                    contrib[np.ix_(rows, layout.column_pos[f])] = block
        return Scored(proba, band, contrib, list(layout.columns))

    def predict_proba(self, frame: Rows) -> np.ndarray:
        """Calibrated P(met_kpi) per row."""
        return self.score(frame, contributions=False).proba

    def band(self, frame: Rows, proba: np.ndarray) -> np.ndarray:
        """'advance' (p >= advance threshold), 'review' (p >= review threshold), else 'hold'."""
        out = np.empty(len(frame), dtype=object)
        p_all = np.asarray(proba)
        for fam, rows in self._family_rows(frame).items():
            out[rows] = _band(p_all[rows], self.families[fam].thresholds)
        return out

    def contributions(self, frame: Rows) -> pd.DataFrame:
        """Per input column (feature-store names; one-hots summed into 'role_family'),
        log-odds contributions; 0 where a family's model does not use a column."""
        index = frame.index if isinstance(frame, pd.DataFrame) else None
        return self.score(frame).contribution_frame(index)

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
