"""Dagster run config built from an ml settings dataclass, so the two cannot drift.

An asset's `Config` exposes exactly the fields of the ml dataclass it feeds (names, types,
defaults), derived here rather than copied; `to_settings` builds the ml object back from a
run's config. Dagster's config has lists where ml has tuples or sequences.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic
from dagster import Config

T = TypeVar("T")


def _config_type(tp: Any) -> Any:
    """The Dagster-config counterpart of an ml annotation (tuples and sequences as lists)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (tuple, list, Sequence):
        return list[_config_type(args[0])]
    if origin in (dict, Mapping):
        return dict[_config_type(args[0]), _config_type(args[1])]
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, [_config_type(a) for a in args])
    return tp


def _plain(value: Any) -> Any:
    """A default as Dagster config holds it (lists for tuples, nested alike)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"{field.name} has no default: a run config needs one for every field")


def config_from(settings: type, name: str, doc: str, base: type[Config] = Config,
                **extra: tuple[Any, Any]) -> type[Config]:
    """A Dagster `Config` class with one field per field of the dataclass `settings`, plus
    `extra` (name -> (type, pydantic Field)) for what the asset itself takes. A field's
    `metadata["description"]` is its description in the Dagster UI. `base`: a Config made
    the same way for another dataclass, whose fields it keeps (one asset, two settings)."""
    hints = typing.get_type_hints(settings)
    fields = {f.name: (_config_type(hints[f.name]), pydantic.Field(
        _plain(_default(f)), description=f.metadata.get("description")))
        for f in dataclasses.fields(settings)}
    clash = (set(fields) & set(extra)) | (set(fields) & set(base.model_fields))
    if clash:
        raise ValueError(f"{sorted(clash)} are already fields of {settings.__name__} or "
                         f"{base.__name__}")
    return pydantic.create_model(name, __base__=base, __doc__=doc, **fields, **extra)


def to_settings(config: Config, settings: type[T]) -> T:
    """The ml dataclass a run's config stands for. A value equal to the default is left to
    the dataclass (so defaults keep their own type); tuple fields get tuples back."""
    hints = typing.get_type_hints(settings)
    values = {}
    for field in dataclasses.fields(settings):
        value = getattr(config, field.name)
        if value == _plain(_default(field)):
            continue
        if typing.get_origin(hints[field.name]) is tuple and isinstance(value, list):
            value = tuple(value)
        values[field.name] = value
    return settings(**values)

