"""The model the pyfunc and endpoint tests serve: a real HireloopModel, trained quickly.

Trained once per session on the shared feature store (real dbt over simulated data) with
the training engineer's own functions, cut down for speed: one search configuration, few
trees, per-family strategy. Its quality is not under test here; its interface is.
"""

from __future__ import annotations

from ml.model import HireloopModel

MODEL_CLASS = f"{HireloopModel.__module__}:{HireloopModel.__qualname__}"


_TRAINED: dict[str, HireloopModel] = {}


def _train(feature_store) -> HireloopModel:
    from ml.split import time_split
    from ml.train import TrainConfig, set_thresholds, train_strategy

    frame = feature_store.read("SELECT * FROM marts.fct_training_examples")
    split = time_split(frame)
    config = TrainConfig(n_search=1, max_trees=40, early_stopping_rounds=10, refit=False,
                         strategies=("per_family",), nthread=2)
    model, _ = train_strategy(frame, split, "per_family", config)
    set_thresholds(model, frame.iloc[split.holdout])
    return model


def trained_model(feature_store) -> HireloopModel:
    """The session's model (trained on first use)."""
    if feature_store.database not in _TRAINED:
        _TRAINED[feature_store.database] = _train(feature_store)
    return _TRAINED[feature_store.database]


_OLDER: dict[str, HireloopModel] = {}


def older_model(feature_store) -> HireloopModel:
    """A second version for comparisons between versions (the feedback report's drivers):
    trained the same quick way on the older half of the complete hire cohorts only."""
    if feature_store.database not in _OLDER:
        from ml.split import complete_cohorts, time_split
        from ml.train import TrainConfig, set_thresholds, train_strategy

        frame = feature_store.read("SELECT * FROM marts.fct_training_examples")
        cohorts = complete_cohorts(frame)
        older = frame.loc[frame["cohort_quarter"].isin(cohorts[:max(3, len(cohorts) // 2)])]
        older = older.reset_index(drop=True)
        split = time_split(older)
        config = TrainConfig(n_search=1, max_trees=30, early_stopping_rounds=10, refit=False,
                             strategies=("per_family",), nthread=2)
        model, _ = train_strategy(older, split, "per_family", config)
        set_thresholds(model, older.iloc[split.holdout])
        _OLDER[feature_store.database] = model
    return _OLDER[feature_store.database]
