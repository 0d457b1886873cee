"""Loads the procedure and unit catalog from YAML, validating every row (I/O side).

Files (defaults shipped in `motcua/data/`; formats documented in their headers):

* `procedures.yaml`: ``procedures:`` a list of rows with code, name, level, prescribed_amount,
  prescribed_unit, reduced_amount, reduced_unit, reduced_is_estimate, source, and optionally
  due_soon_working_days (default 1) and counting_rule (default civil_code).
* `units.yaml`: ``units:`` a list of rows with code, name, level, province, and optionally
  valid_from / valid_to.

A bad row stops the load with an error naming file, row and code, e.g.
``procedures.yaml: row 7 (code 1.001234): reduced_amount must be <= prescribed_amount``.
`Catalog.version` is a short sha256 of the parsed rows (comments and layout do not count).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast

import yaml

from domain.catalog import (
    LEVELS,
    Catalog,
    CountingRule,
    Level,
    Procedure,
    TimeUnit,
    Unit,
    estimated_reduction,
)

PROCEDURE_REQUIRED = ("code", "name", "level", "prescribed_amount", "prescribed_unit",
                      "reduced_amount", "reduced_unit", "reduced_is_estimate", "source")
PROCEDURE_OPTIONAL = ("due_soon_working_days", "counting_rule")
UNIT_REQUIRED = ("code", "name", "level", "province")
UNIT_OPTIONAL = ("valid_from", "valid_to")


E = TypeVar("E", TimeUnit, CountingRule)
T = TypeVar("T", Procedure, Unit)


class CatalogError(ValueError):
    """The catalog files are malformed; the message names the file, row and code."""


def _data(name: str) -> Path:
    return Path(str(resources.files("motcua") / "data" / name))


def _rows(path: Path, key: str) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc.strerror}") from None
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for 2025-13-01
        raise CatalogError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise CatalogError(f"{path.name}: expected a top-level '{key}:' list")
    rows: list[Any] = data[key]
    return rows


def _check_keys(row: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    missing = [k for k in required if k not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    unknown = sorted(set(map(str, row)) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}")


def _text(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if not isinstance(value, str):
        hint = " (quote it: YAML reads 1.001193 as a number)" if key == "code" else ""
        raise ValueError(f"{key} must be a quoted string{hint}")
    return value.strip()


def _level(row: dict[str, Any]) -> Level:
    value = row["level"]
    if value not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {value!r}")
    return cast(Level, value)


def _int(row: dict[str, Any], key: str, default: int | None = None) -> int:
    value = row.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return value


def _enum(kind: type[E], row: dict[str, Any], key: str, default: E | None = None) -> E:
    value = row.get(key, default)
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValueError(f"{key} must be one of {allowed}, got {value!r}") from None


def _procedure(row: dict[str, Any]) -> Procedure:
    _check_keys(row, PROCEDURE_REQUIRED, PROCEDURE_OPTIONAL)
    if not isinstance(row["reduced_is_estimate"], bool):
        raise ValueError("reduced_is_estimate must be true or false")
    proc = Procedure(
        code=_text(row, "code"), name=_text(row, "name"), level=_level(row),
        prescribed_amount=_int(row, "prescribed_amount"),
        prescribed_unit=_enum(TimeUnit, row, "prescribed_unit"),
        reduced_amount=_int(row, "reduced_amount"),
        reduced_unit=_enum(TimeUnit, row, "reduced_unit"),
        reduced_is_estimate=row["reduced_is_estimate"], source=_text(row, "source"),
        due_soon_working_days=_int(row, "due_soon_working_days", 1),
        counting_rule=_enum(CountingRule, row, "counting_rule", CountingRule.CIVIL_CODE),
    )
    # Our estimates follow one documented rule, so a hand-typed slip is caught here.
    if proc.reduced_is_estimate:
        expected = estimated_reduction(proc.prescribed_amount, proc.prescribed_unit)
        if proc.reduced_unit != proc.prescribed_unit or proc.reduced_amount != expected:
            raise ValueError(f"an estimated reduced time must be {expected} "
                             f"{proc.prescribed_unit.value} (30% cut, rounded down, at least 1)")
    return proc


def _date(row: dict[str, Any], key: str) -> date | None:
    value = row.get(key)
    if value is None or isinstance(value, date):
        return value
    raise ValueError(f"{key} must be a date YYYY-MM-DD, got {value!r}")


def _unit(row: dict[str, Any]) -> Unit:
    _check_keys(row, UNIT_REQUIRED, UNIT_OPTIONAL)
    return Unit(code=_text(row, "code"), name=_text(row, "name"),
                level=_level(row), province=_text(row, "province"),
                valid_from=_date(row, "valid_from"), valid_to=_date(row, "valid_to"))


def _build(path: Path, key: str, make: Callable[[dict[str, Any]], T]) -> dict[str, T]:
    built: dict[str, T] = {}
    for number, row in enumerate(_rows(path, key), start=1):
        code = row.get("code") if isinstance(row, dict) else None
        where = f"{path.name}: row {number} (code {code})"
        if not isinstance(row, dict):
            raise CatalogError(f"{where}: expected a mapping of field: value")
        try:
            item: T = make(row)
        except (ValueError, TypeError) as exc:
            raise CatalogError(f"{where}: {exc}") from None
        if item.code in built:
            raise CatalogError(f"{where}: duplicate code, already defined in an earlier row")
        built[item.code] = item
    return built


def _version(procedures: dict[str, Procedure], units: dict[str, Unit]) -> str:
    payload = {"procedures": [vars(p) for p in procedures.values()],
               "units": [vars(u) for u in units.values()]}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def load_catalog(procedures_path: Path | None = None, units_path: Path | None = None) -> Catalog:
    """The validated catalog; `CatalogError` names the first bad row."""
    procedures: dict[str, Procedure] = _build(
        procedures_path or _data("procedures.yaml"), "procedures", _procedure)
    units: dict[str, Unit] = _build(units_path or _data("units.yaml"), "units", _unit)
    return Catalog(version=_version(procedures, units), procedures=MappingProxyType(procedures),
                   units=MappingProxyType(units))
