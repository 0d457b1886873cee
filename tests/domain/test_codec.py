"""`domain.codec`: round trips, and unknown keys refused (stored events) or skipped (what a
newer release's process hands us during a rolling deploy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import pytest

from domain.codec import from_dict, to_dict


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    at: datetime
    colour: Colour = Colour.RED


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    items: list[Inner] = field(default_factory=list)
    maybe: Inner | None = None


AT = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
VALUE = Outer("hồ sơ", Inner(AT), [Inner(AT), Inner(AT)], Inner(AT))


def test_round_trip_through_plain_json_values() -> None:
    data = to_dict(VALUE)
    assert data["inner"] == {"at": "2026-11-30T17:00:00+00:00", "colour": "red"}
    assert from_dict(Outer, data) == VALUE
    assert from_dict(Outer, data, ignore_unknown=True) == VALUE


def test_missing_keys_take_their_defaults() -> None:
    assert from_dict(Outer, {"name": "x", "inner": {"at": AT.isoformat()}}) == \
        Outer("x", Inner(AT))


def _with_new_fields() -> dict[str, object]:
    data = to_dict(VALUE)
    data["added_later"] = 1
    data["inner"]["also_new"] = "x"  # type: ignore[index]
    data["items"][1]["also_new"] = "y"  # type: ignore[index]
    return data


def test_unknown_keys_are_an_error_by_default() -> None:
    with pytest.raises(ValueError, match=r"Outer has no fields \['added_later'\]"):
        from_dict(Outer, _with_new_fields())
    nested_only = to_dict(VALUE)
    nested_only["maybe"]["also_new"] = 1
    with pytest.raises(ValueError, match=r"Inner has no fields \['also_new'\]"):
        from_dict(Outer, nested_only)


def test_a_tolerant_reader_skips_unknown_keys_at_every_depth() -> None:
    assert from_dict(Outer, _with_new_fields(), ignore_unknown=True) == VALUE
    # and the strict decoder, cached separately, still refuses afterwards
    with pytest.raises(ValueError):
        from_dict(Outer, _with_new_fields())
