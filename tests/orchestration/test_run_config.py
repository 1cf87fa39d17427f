"""The Dagster run configs are derived from the ml settings they feed, so they cannot drift."""

from __future__ import annotations

import dataclasses

import pytest
from dagster import Config

from ml.promotion import GatePolicy
from ml.train import TrainConfig
from orchestration.assets.model import GateConfig, TrainingConfig
from orchestration.assets.run_config import config_from, to_settings

ASSET_OWN = {"make_figures"}  # trained_model's own argument (plots), not a training setting


def _names(settings: type) -> set[str]:
    return {f.name for f in dataclasses.fields(settings)}


def test_training_config_exposes_exactly_the_train_config_fields():
    assert set(TrainingConfig.model_fields) == _names(TrainConfig) | ASSET_OWN
    assert not ASSET_OWN & _names(TrainConfig)


def test_gate_config_exposes_exactly_the_gate_policy_fields():
    assert set(GateConfig.model_fields) == _names(GatePolicy)


def test_defaults_are_the_ml_defaults():
    assert to_settings(TrainingConfig(), TrainConfig) == TrainConfig()
    assert to_settings(GateConfig(), GatePolicy) == GatePolicy()
    assert TrainingConfig().strategies == list(TrainConfig().strategies)
    assert GateConfig().auc_margin == GatePolicy().auc_margin


def test_run_values_reach_the_ml_settings_with_their_types():
    config = TrainingConfig(n_search=3, strategies=["pooled"], include=["empathy"],
                            monotone_overrides={"sales": {"empathy": 0}}, linear_extra=[])
    settings = to_settings(config, TrainConfig)
    assert settings == TrainConfig(n_search=3, strategies=("pooled",), include=["empathy"],
                                   monotone_overrides={"sales": {"empathy": 0}},
                                   linear_extra=())
    assert isinstance(settings.strategies, tuple)
    assert to_settings(GateConfig(auc_margin=0.5), GatePolicy) == GatePolicy(auc_margin=0.5)


def test_bad_values_meet_the_ml_settings_own_check():
    with pytest.raises(ValueError, match="n_search must be between 1 and 12"):
        to_settings(TrainingConfig(n_search=40), TrainConfig)


def test_a_field_added_to_the_ml_settings_appears_in_the_run_config():
    @dataclasses.dataclass(frozen=True)
    class Settings:
        rate: float = 0.5
        names: tuple[str, ...] = ("a",)
        added_later: int | None = None

    generated = config_from(Settings, "SettingsConfig", "for the test")
    assert issubclass(generated, Config)
    assert set(generated.model_fields) == {"rate", "names", "added_later"}
    assert to_settings(generated(added_later=3, names=["b"]), Settings) == Settings(
        added_later=3, names=("b",))
    with pytest.raises(ValueError, match="already fields"):
        config_from(Settings, "Clash", "", rate=(float, 1.0))


def test_descriptions_come_from_the_ml_settings():
    described = {f.name: f.metadata["description"] for f in dataclasses.fields(TrainConfig)
                 if "description" in f.metadata}
    assert described  # n_search, strategies, include at least
    assert {n: TrainingConfig.model_fields[n].description for n in described} == described


def test_retrain_configs_expose_the_window_train_and_gate_settings():
    from ml.retrain import RetrainGatePolicy
    from ml.windows import WindowPolicy
    from orchestration.assets.retrain import ChallengersConfig, RetrainGateConfig

    own = ASSET_OWN | {"baseline_margin"}  # the soundness check's margin
    assert set(ChallengersConfig.model_fields) == _names(WindowPolicy) | _names(TrainConfig) | own
    assert set(RetrainGateConfig.model_fields) == _names(RetrainGatePolicy)
    config = ChallengersConfig(windows=["recent"], half_life_quarters=3.0, n_search=2)
    assert to_settings(config, WindowPolicy) == WindowPolicy(windows=("recent",),
                                                             half_life_quarters=3.0)
    assert to_settings(config, TrainConfig) == TrainConfig(n_search=2)
    assert to_settings(RetrainGateConfig(), RetrainGatePolicy) == RetrainGatePolicy()


def test_a_base_config_keeps_its_fields_and_refuses_a_clash():
    @dataclasses.dataclass
    class Clash:
        n_search: int = 1

    with pytest.raises(ValueError, match="already fields"):
        config_from(Clash, "ClashConfig", "x", base=TrainingConfig)
