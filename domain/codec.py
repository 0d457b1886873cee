"""Dataclasses to JSON-safe dicts and back, by their type hints (for the event store, the
projector's snapshots and the API's reading of workflow update results)."""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

Decoder = Callable[[Any], Any]


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance's fields as JSON-safe values (datetimes ISO 8601 with offset)."""
    cls: Any = type(obj)  # classes are hashable; mypy's Hashable check misses type[T]
    return {name: _encode(getattr(obj, name)) for name in _field_names(cls)}


# `dataclasses.fields` builds a new tuple on every call; the projector encodes a whole dossier
# snapshot per event (a tenth of its samples were here in the 7 Dec profile), so the names are
# taken once per class. Classes are module-level constants: the cache is bounded.
@functools.cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# Values that are already JSON-safe, by exact type (a str- or int-valued Enum is a subclass
# and must still be encoded by `.value`, so no isinstance here).
_PLAIN: frozenset[type[Any]] = frozenset({str, int, float, bool, type(None)})


def from_dict(cls: type[T], data: dict[str, Any], *, ignore_unknown: bool = False) -> T:
    """Rebuild `cls` from `to_dict` output (or from the JSON Temporal's default converter makes
    of a dataclass: the same shape); missing keys default.

    Unknown keys are an error unless `ignore_unknown`: stored events carry a schema version, so
    an unknown key there is a bug to report. What another process of a newer release hands us
    (a workflow update's result, during a rolling deploy, when the worker is already new and
    the API not yet) may have gained a field: the reader skips what it does not know
    ("tolerant reader"), rather than answer the clerk with a 500."""
    key: Any = cls  # classes are hashable; mypy's Hashable check misses type[T]
    result: T = _dataclass_decoder(key, ignore_unknown)(data)
    return result


def _encode(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


# Decoders are built once per type from its hints and cached: resolving type hints on every
# call cost more than the decoding itself (an update result took ~0.8 ms through Temporal's
# generic `value_to_type`, ~0.05 ms here; `python -m bench --only lifecycle`). Types are
# module-level constants, so the cache is bounded and the same in every process.
@functools.cache
def _dataclass_decoder(cls: type[Any], ignore_unknown: bool) -> Decoder:
    hints = get_type_hints(cls)
    fields = {f.name: _decoder(hints[f.name], ignore_unknown) for f in dataclasses.fields(cls)}

    def decode(data: dict[str, Any]) -> Any:
        unknown = data.keys() - fields.keys()
        if unknown and not ignore_unknown:
            raise ValueError(f"{cls.__name__} has no fields {sorted(unknown)}")
        return cls(**{name: fields[name](value) for name, value in data.items()
                      if name in fields})

    return decode


def _identity(value: Any) -> Any:
    return value


@functools.cache
def _decoder(hint: Any, ignore_unknown: bool) -> Decoder:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        return _optional(_decoder(inner[0], ignore_unknown))
    if origin in (tuple, list):
        args = get_args(hint)
        item = _decoder(args[0], ignore_unknown) if args else _identity
        return _optional(_sequence(origin, item))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _optional(_dataclass_decoder(hint, ignore_unknown))
    if hint is datetime:
        return _optional(datetime.fromisoformat)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _optional(hint)
    return _identity


def _optional(decode: Decoder) -> Decoder:
    def decode_or_none(value: Any) -> Any:
        return None if value is None else decode(value)

    return decode_or_none


def _sequence(kind: type[Any], item: Decoder) -> Decoder:
    def decode(values: Any) -> Any:
        return kind(item(v) for v in values)

    return decode
