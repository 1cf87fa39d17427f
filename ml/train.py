"""Train the met_kpi classifier: per role family or pooled, searched, calibrated, monotone.

Steps for one strategy (per-family boosters, or one pooled booster with the role family
one-hot): a sign-bounded linear base margin (ml.linear) with one evidence term per assessed
dimension (rater-adjusted human score and AI score combined, the human/AI weighting shared
by all families), then a seeded, bounded random search over XGBoost settings with early
stopping on the time-later validation cohorts, then Platt calibration on those cohorts'
out-of-sample predictions, then (optionally) a refit of base and trees on fit + validation
with the chosen number of trees.
A frame may carry a weight per row (column `sample_weight`, ml.windows: recency weights,
partial labels); every fit, loss and calibration honours it, and without it all rows count 1.
`train_model` runs both strategies and keeps the one with the better held-out AUC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost
from sklearn.metrics import log_loss, roc_auc_score

from ml.calibration import fit_calibrator
from ml.features import (
    DEFAULT_EXCLUDED,
    FAMILY_COLUMN,
    LABEL,
    WEIGHT,
    drop_duplicates,
    family_features,
    is_interview_signal,
    monotone_constraints,
    required_inputs,
    select_features,
)
from ml.linear import LinearBase, shared_pair_weights
from ml.metrics import band_thresholds
from ml.model import FamilyModel, HireloopModel, design_matrix, onehot_name
from ml.rater_offsets import ADJUSTED_SUFFIX
from ml.split import TimeSplit

STRATEGIES = ("per_family", "pooled")

SEARCH_SPACE: dict[str, tuple] = {
    "max_depth": (2, 3, 4),
    "learning_rate": (0.02, 0.05, 0.1),
    "min_child_weight": (5.0, 10.0, 20.0),
    "subsample": (0.7, 0.85, 1.0),
    "colsample_bytree": (0.6, 0.8, 1.0),
    "reg_lambda": (1.0, 5.0, 20.0),
    "gamma": (0.0, 0.5),
}


@dataclass
class TrainConfig:
    """Everything training may vary; defaults are the production settings."""

    seed: int = 0
    n_search: int = field(default=8, metadata={
        "description": "hyper-parameter configurations tried (1-12: a bounded search)"})
    max_trees: int = 500
    early_stopping_rounds: int = 40
    monotone: bool = True
    monotone_overrides: dict[str, dict[str, int]] = field(default_factory=dict)  # per family
    linear_base: bool = True
    linear_l2: float = 3.0
    # "scores": the base sees one evidence term per assessed dimension (rater-adjusted human
    # score paired with the AI's, ml.linear) plus `linear_extra`; "signals": every interview
    # signal column, each with its own coefficient (the earlier design).
    linear_inputs: str = "scores"
    linear_extra: tuple[str, ...] = ("key_kpi_scenario_answered_fully_share",)
    linear_extra_l2: float = 100.0        # extra ridge on them, in rows' worth of evidence
    calibration: str = "platt"
    refit: bool = True
    strategies: tuple[str, ...] = field(default=STRATEGIES, metadata={
        "description": "per_family and/or pooled; the better on the holdout is kept"})
    holdout_share: float = 0.15
    valid_share: float = 0.2
    include: Sequence[str] | None = field(default=None, metadata={
        "description": "only these feature columns (a protected one is refused)"})
    exclude: Sequence[str] = DEFAULT_EXCLUDED
    # Fairness mitigation (ml.rater_bias_correction): leave out the human scores the data
    # audit of the training store flags as rater-biased (the model uses the AI's score of
    # the dimension), with the interviewer's ratings / recommendations when
    # `correct_impressions`. Needs the audit (train_and_evaluate's `audit`).
    rater_bias_correction: bool = field(default=False, metadata={
        "description": "leave out human scores the data audit flags as rater-biased"})
    correct_impressions: bool = True
    nthread: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.n_search <= 12:
            raise ValueError("n_search must be between 1 and 12 (a bounded search)")
        unknown = set(self.strategies) - set(STRATEGIES)
        if unknown:
            raise ValueError(f"unknown strategies {sorted(unknown)}")
        if self.linear_inputs not in ("scores", "signals"):
            raise ValueError(f"unknown linear_inputs {self.linear_inputs!r}")


def search_configs(n: int, seed: int) -> list[dict]:
    """`n` distinct settings drawn from SEARCH_SPACE with a seeded generator; the first is a
    conservative default (shallow, slow, regularised)."""
    rng = np.random.default_rng(seed)
    out = [{"max_depth": 2, "learning_rate": 0.05, "min_child_weight": 10.0, "subsample": 0.85,
            "colsample_bytree": 0.8, "reg_lambda": 5.0, "gamma": 0.0}]
    seen = {tuple(sorted(out[0].items()))}
    while len(out) < n:
        cfg = {k: v[rng.integers(len(v))] for k, v in SEARCH_SPACE.items()}
        key = tuple(sorted(cfg.items()))
        if key not in seen:
            seen.add(key)
            out.append(cfg)
    return out


def _booster(params: dict, n_trees: int, monotone: Mapping[str, int], seed: int, nthread: int,
             early_stopping: int | None = None) -> xgboost.XGBClassifier:
    return xgboost.XGBClassifier(
        n_estimators=n_trees, tree_method="hist", nthread=nthread, random_state=seed,
        objective="binary:logistic", eval_metric="logloss", monotone_constraints=dict(monotone),
        early_stopping_rounds=early_stopping, **params)


@dataclass
class FittedPart:
    """One fitted booster (a family's, or the pooled one) and how it was chosen."""

    features: list[str]
    monotone: dict[str, int]
    booster: xgboost.XGBClassifier
    linear_base: LinearBase | None
    calibrator: object
    params: dict
    n_trees: int
    valid_logloss: float
    search: list[dict]


def linear_inputs(features: Sequence[str], config: TrainConfig
                  ) -> tuple[list[str], dict[str, str]]:
    """The linear base's columns and its (human -> AI) score pairs.

    "scores": per dimension the rater-adjusted human score (the raw one where no adjusted
    column exists), paired with the AI's score of that dimension where present, plus
    `config.linear_extra` and the role-family one-hots; an AI score whose human one is not
    among `features` (ml.rater_bias_correction) enters alone. Ratings, recommendations and raw
    scores are functions of the same scores plus rater leniency and noise: in the base they
    only add coefficients to estimate; the trees still see them.
    """
    have = set(features)
    if config.linear_inputs == "signals":
        cols = [c for c in features if is_interview_signal(c) or c.startswith("role_family=")]
        return cols, {}
    cols: list[str] = []
    pairs: dict[str, str] = {}
    for f in features:
        if not f.startswith("interviewer_") or f.endswith(ADJUSTED_SUFFIX):
            continue
        human = f + ADJUSTED_SUFFIX if f + ADJUSTED_SUFFIX in have else f
        cols.append(human)
        ai = "ai_" + f[len("interviewer_"):]
        if ai in have:
            cols.append(ai)
            pairs[human] = ai
    # an AI score without its human one (ml.rater_bias_correction left it out): alone
    cols += [f for f in features if f.startswith("ai_") and f not in cols
             and "interviewer_" + f[len("ai_"):] not in have]
    cols += [c for c in features if c in config.linear_extra or c.startswith("role_family=")]
    return cols, pairs


def new_linear_base(features: Sequence[str], monotone: Mapping[str, int], config: TrainConfig,
                    pair_weights: tuple[float, float] | None = None) -> LinearBase | None:
    """An unfitted linear base on `linear_inputs(features)`; None when there is none."""
    cols, pairs = linear_inputs(features, config)
    if not config.linear_base or not cols:
        return None
    return LinearBase(cols, monotone, l2=config.linear_l2, pairs=pairs,
                      pair_weights=pair_weights,
                      extra_l2=dict.fromkeys(config.linear_extra, config.linear_extra_l2))


def fit_part(x_fit: pd.DataFrame, y_fit: np.ndarray, x_val: pd.DataFrame, y_val: np.ndarray,
             monotone: dict[str, int], config: TrainConfig,
             pair_weights: tuple[float, float] | None = None,
             w_fit: np.ndarray | None = None, w_val: np.ndarray | None = None) -> FittedPart:
    """Linear base, bounded search with early stopping, calibration, optional refit.

    `pair_weights`: the linear base's human/AI weights (ml.linear), chosen here if None.
    `w_fit` / `w_val`: row weights (None: equal), honoured by every fit and every loss.
    """
    features = list(x_fit.columns)

    def make_base(x: pd.DataFrame, y: np.ndarray, w: np.ndarray | None) -> LinearBase | None:
        base = new_linear_base(features, monotone, config, pair_weights)
        return None if base is None else base.fit(x, y, w)

    base = make_base(x_fit, y_fit, w_fit)
    m_fit = None if base is None else base.margin(x_fit)
    m_val = None if base is None else base.margin(x_val)
    trials = []
    best = None
    for params in search_configs(config.n_search, config.seed):
        clf = _booster(params, config.max_trees, monotone, config.seed, config.nthread,
                       config.early_stopping_rounds)
        clf.fit(x_fit, y_fit, base_margin=m_fit, eval_set=[(x_val, y_val)],
                base_margin_eval_set=None if m_val is None else [m_val], verbose=False,
                sample_weight=w_fit, sample_weight_eval_set=None if w_val is None else [w_val])
        n_trees = int(clf.best_iteration) + 1
        p_val = clf.predict_proba(x_val, base_margin=m_val,
                                  iteration_range=(0, n_trees))[:, 1]
        loss = float(log_loss(y_val, np.clip(p_val, 1e-6, 1 - 1e-6), labels=[0, 1],
                              sample_weight=w_val))
        trials.append({**params, "n_trees": n_trees, "valid_logloss": round(loss, 5)})
        if best is None or loss < best[0]:
            best = (loss, params, n_trees, p_val)
    loss, params, n_trees, p_val = best
    calibrator = fit_calibrator(config.calibration, p_val, y_val, w_val)
    if config.refit:
        x_all = pd.concat([x_fit, x_val])
        y_all = np.concatenate([y_fit, y_val])
        w_all = None if w_fit is None and w_val is None else np.concatenate([
            np.ones(len(y_fit)) if w_fit is None else w_fit,
            np.ones(len(y_val)) if w_val is None else w_val])
        base = make_base(x_all, y_all, w_all)
        booster = _booster(params, n_trees, monotone, config.seed, config.nthread)
        booster.fit(x_all, y_all, base_margin=None if base is None else base.margin(x_all),
                    sample_weight=w_all, verbose=False)
    else:
        booster = _booster(params, n_trees, monotone, config.seed, config.nthread)
        booster.fit(x_fit, y_fit, base_margin=m_fit, sample_weight=w_fit, verbose=False)
    return FittedPart(features, monotone, booster, base, calibrator, params, n_trees, loss,
                      trials)


def _label(frame: pd.DataFrame) -> np.ndarray:
    return frame[LABEL].astype(bool).to_numpy().astype(int)


def _weight(frame: pd.DataFrame) -> np.ndarray | None:
    """The rows' weights (column WEIGHT, ml.windows), or None: every row counts 1."""
    if WEIGHT not in frame.columns:
        return None
    return pd.to_numeric(frame[WEIGHT]).to_numpy(np.float64)


def train_strategy(frame: pd.DataFrame, split: TimeSplit, strategy: str, config: TrainConfig,
                   features: list[str] | None = None) -> tuple[HireloopModel, dict]:
    """Fit one strategy on split.fit / split.valid; thresholds are set later on held-out data."""
    features = features or select_features(frame, config.include, config.exclude)
    train = frame.iloc[split.train]
    fit, val = frame.iloc[split.fit], frame.iloc[split.valid]
    families = sorted(train[FAMILY_COLUMN].astype(str).unique())
    required = required_inputs(train, features)
    info: dict = {"strategy": strategy, "parts": {}}
    out: dict[str, FamilyModel] = {}
    if strategy == "pooled":
        feats = features + [onehot_name(f) for f in families]
        overrides: dict[str, int] = {}
        for ov in config.monotone_overrides.values():
            overrides.update(ov)
        mono = monotone_constraints(feats, config.monotone, overrides)
        part = fit_part(design_matrix(fit, feats), _label(fit), design_matrix(val, feats),
                        _label(val), mono, config, w_fit=_weight(fit), w_val=_weight(val))
        info["parts"]["pooled"] = _part_info(part)
        for f in families:
            out[f] = FamilyModel(f, feats, required[f], part.booster, part.calibrator,
                                 {"advance": 1.0, "review": 0.0}, mono, part.linear_base)
    else:
        setup = {}
        for f in families:
            feats = family_features(train, features, f)
            mono = monotone_constraints(feats, config.monotone,
                                        config.monotone_overrides.get(f))
            fs = (fit[FAMILY_COLUMN].astype(str) == f).to_numpy()
            setup[f] = (feats, mono, fs, (val[FAMILY_COLUMN].astype(str) == f).to_numpy())
        # one human/AI weighting for every family (ml.linear.shared_pair_weights)
        bases = [(new_linear_base(feats, mono, config), design_matrix(fit[fs], feats),
                  _label(fit[fs]), _weight(fit[fs])) for feats, mono, fs, _ in setup.values()]
        weights = shared_pair_weights([b for b in bases if b[0] is not None])
        info["pair_weights"] = list(weights)
        for f, (feats, mono, fs, vs) in setup.items():
            part = fit_part(design_matrix(fit[fs], feats), _label(fit[fs]),
                            design_matrix(val[vs], feats), _label(val[vs]), mono, config,
                            weights, _weight(fit[fs]), _weight(val[vs]))
            info["parts"][f] = _part_info(part)
            out[f] = FamilyModel(f, feats, required[f], part.booster, part.calibrator,
                                 {"advance": 1.0, "review": 0.0}, mono, part.linear_base)
    return HireloopModel(out, {"strategy": strategy}), info


def _part_info(part: FittedPart) -> dict:
    return {"params": part.params, "n_trees": part.n_trees,
            "valid_logloss": round(part.valid_logloss, 5), "search": part.search,
            "n_features": len(part.features)}


def holdout_summary(model: HireloopModel, holdout: pd.DataFrame) -> dict:
    """Held-out AUC (overall, mean over families, per family) and log loss."""
    y = _label(holdout)
    p = model.predict_proba(holdout)
    fam = holdout[FAMILY_COLUMN].astype(str).to_numpy()
    per = {f: float(roc_auc_score(y[fam == f], p[fam == f])) for f in sorted(set(fam))
           if len(set(y[fam == f])) == 2}
    return {"auc": float(roc_auc_score(y, p)),
            "mean_family_auc": float(np.mean(list(per.values()))),
            "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])),
            "family_auc": per}


def set_thresholds(model: HireloopModel, holdout: pd.DataFrame) -> None:
    """Per family: advance / review thresholds from held-out probabilities (ml.metrics rule)."""
    p = model.predict_proba(holdout)
    fam = holdout[FAMILY_COLUMN].astype(str).to_numpy()
    for f, fm in model.families.items():
        if (fam == f).any():
            fm.thresholds = band_thresholds(p[fam == f])


def train_model(frame: pd.DataFrame, split: TimeSplit, config: TrainConfig
                ) -> tuple[HireloopModel, dict]:
    """Train every strategy, keep the best on the holdout (mean per-family AUC, then log loss),
    measure the winner with monotone constraints off, set thresholds. Returns (model, report).
    """
    features = select_features(frame, config.include, config.exclude)
    if config.include is None:
        features = drop_duplicates(frame.iloc[split.train], features)
    holdout = frame.iloc[split.holdout]
    candidates = {}
    report: dict = {"features": features, "strategies": {}}
    for strategy in config.strategies:
        model, info = train_strategy(frame, split, strategy, config, features)
        info["holdout"] = holdout_summary(model, holdout)
        candidates[strategy] = model
        report["strategies"][strategy] = info
    winner = max(candidates, key=lambda s: (
        round(report["strategies"][s]["holdout"]["mean_family_auc"], 4),
        -report["strategies"][s]["holdout"]["log_loss"]))
    model = candidates[winner]
    report["winner"] = winner
    if config.monotone:
        off = TrainConfig(**{**config.__dict__, "monotone": False, "strategies": (winner,)})
        model_off, _ = train_strategy(frame, split, winner, off, features)
        report["monotone_off"] = holdout_summary(model_off, holdout)
        report["monotone_on"] = report["strategies"][winner]["holdout"]
    set_thresholds(model, holdout)
    model.version_info.update({"strategy": winner, "selection": {
        s: report["strategies"][s]["holdout"] for s in report["strategies"]}})
    return model, report
