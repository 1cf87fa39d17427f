"""The model the pyfunc tests serve: one place to say which and how it is trained."""

from __future__ import annotations

from tests.ml.standin_model import StandinModel, train_standin

MODEL_CLASS = f"{StandinModel.__module__}:{StandinModel.__qualname__}"


def trained_model() -> StandinModel:
    return train_standin()
