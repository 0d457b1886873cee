"""Loads the procedure and unit catalog from YAML, validating every row (I/O side).

Files (defaults shipped in `motcua/data/`; formats documented in their headers):

* `procedures.yaml`: ``procedures:`` a list of rows with code, name, level, prescribed_amount,
  prescribed_unit, source, and optionally field, reduced_amount / reduced_unit / reduced_source
  (a published reduced time and the decision that published it; without them the prescribed
  time applies), due_soon_working_days (default 1), counting_rule (default civil_code), and
  replaced_by / retired_source for a code a decree retired, fee_amount / fee_source (the
  procedure's fee in VND and the text that sets it), and steps_version / steps (the
  province's internal procedure: a list of steps with name, role, actor, unit_code, allowance
  as published or untimed, produces, source; `motcua.catalog.steps_io`).
* `units.yaml`: ``units:`` a list of rows with code, name, level, province, and optionally
  valid_from / valid_to.

A bad row stops the load with an error naming file, row and code, e.g.
``procedures.yaml: row 7 (code 1.001234): reduced_amount must be <= prescribed_amount``.
`Catalog.version` is a short sha256 of the parsed rows (comments and layout do not count).
"""

from __future__ import annotations

import dataclasses
import functools
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
    DEFAULT_DAY_HOURS,
    LEVELS,
    Catalog,
    CountingRule,
    Fee,
    Level,
    Procedure,
    TimeUnit,
    Unit,
)
from motcua.catalog.steps_io import group_steps

PROCEDURE_REQUIRED = ("code", "name", "level", "prescribed_amount", "prescribed_unit", "source")
PROCEDURE_OPTIONAL = ("field", "reduced_amount", "reduced_unit", "reduced_source",
                      "due_soon_working_days", "counting_rule", "replaced_by", "retired_source",
                      "verification_amount", "verification_unit", "steps_version", "steps",
                      "fee_amount", "fee_source", "digitise_before_assign")
# A step's keys in YAML; `allowance` is the file format's allowance_amount (as published).
STEP_KEYS = ("name", "role", "actor", "unit_code", "allowance", "untimed", "produces", "source")
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


def _steps(row: dict[str, Any], day_hours: int) -> dict[str, Any]:
    if row.get("steps") is None and row.get("steps_version") is None:
        return {}
    steps, version = row.get("steps"), row.get("steps_version")
    if not isinstance(steps, list) or not steps or not isinstance(version, str):
        raise ValueError("steps must be a non-empty list, with steps_version (the approving "
                         "decision) beside it")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise ValueError(f"step {number}: expected a mapping of field: value")
        unknown = sorted(set(map(str, step)) - set(STEP_KEYS))
        if unknown:
            raise ValueError(f"step {number}: unknown key(s) {', '.join(unknown)}")
        text = {("allowance_amount" if k == "allowance" else k): str(v).strip()
                for k, v in step.items() if v is not None}
        rows.append((number, {**text, "code": str(row.get("code")), "step": str(number),
                              "version": version}))
    groups, errors = group_steps(rows, "steps", day_hours)
    if errors:
        raise ValueError("; ".join(errors))
    return {"steps": groups[0].steps}


def _procedure(row: dict[str, Any], day_hours: int = DEFAULT_DAY_HOURS) -> Procedure:
    # Files written before issue 11 carry reduced_is_estimate: false is harmless, true is an
    # estimate, which no longer reaches a due time.
    if row.get("reduced_is_estimate") is True:
        raise ValueError("reduced_is_estimate: estimates are no longer accepted; give "
                         "reduced_amount, reduced_unit and reduced_source from the published "
                         "decision, or leave them out (the prescribed time applies)")
    row = {k: v for k, v in row.items() if k != "reduced_is_estimate"}
    _check_keys(row, PROCEDURE_REQUIRED, PROCEDURE_OPTIONAL)
    prescribed_unit = _enum(TimeUnit, row, "prescribed_unit")
    prescribed_amount = _int(row, "prescribed_amount")
    return Procedure(
        code=_text(row, "code"), name=_text(row, "name"), level=_level(row),
        prescribed_amount=prescribed_amount, prescribed_unit=prescribed_unit,
        # No published reduced time: the prescribed time applies (issue 11 point 2).
        reduced_amount=_int(row, "reduced_amount", prescribed_amount),
        reduced_unit=_enum(TimeUnit, row, "reduced_unit", prescribed_unit),
        reduced_source=_opt_text(row, "reduced_source"), field=_opt_text(row, "field"),
        source=_text(row, "source"),
        due_soon_working_days=_int(row, "due_soon_working_days", 1),
        counting_rule=_enum(CountingRule, row, "counting_rule", CountingRule.CIVIL_CODE),
        replaced_by=_opt_text(row, "replaced_by") or None,
        retired_source=_opt_text(row, "retired_source"),
        verification_amount=(_int(row, "verification_amount")
                             if row.get("verification_amount") is not None else None),
        verification_unit=(_enum(TimeUnit, row, "verification_unit")
                           if row.get("verification_unit") is not None else None),
        digitise_before_assign=_flag(row, "digitise_before_assign"),
        **_steps(row, day_hours),
        **_fee(row),
    )


def _flag(row: dict[str, Any], key: str) -> bool:
    value = row.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value


def _fee(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("fee_amount") is None and row.get("fee_source") is None:
        return {}
    if row.get("fee_amount") is None:
        raise ValueError("fee_source needs fee_amount beside it")
    return {"fee": Fee(amount=_int(row, "fee_amount"), source=_opt_text(row, "fee_source"))}


def _opt_text(row: dict[str, Any], key: str) -> str:
    return _text(row, key) if row.get(key) is not None else ""


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


def catalog_of(procedures: dict[str, Procedure], units: dict[str, Unit]) -> Catalog:
    """A catalog of these rows, with its content version (also for stored versions)."""
    return Catalog(version=_version(procedures, units), procedures=MappingProxyType(procedures),
                   units=MappingProxyType(units))


def unit_from_row(row: dict[str, Any]) -> Unit:
    """A unit from a stored row (dates as YYYY-MM-DD text or null)."""
    fixed = {k: (date.fromisoformat(v) if k in UNIT_OPTIONAL and isinstance(v, str) else v)
             for k, v in row.items()}
    return _unit(fixed)


def _hashed(proc: Procedure) -> dict[str, Any]:
    # The steps count in the version (a new list is a new catalog version); a procedure
    # without steps hashes as before they existed, so catalogs without any keep their version.
    # So does the fee; a procedure without one hashes as before fees existed.
    row = {k: v for k, v in vars(proc).items() if k not in ("steps", "fee")}
    # Likewise the digitisation flag (issue 26) counts only where it is set.
    if not proc.digitise_before_assign:
        row.pop("digitise_before_assign")
    if proc.steps is not None:
        row["steps"] = dataclasses.asdict(proc.steps)
    if proc.fee is not None:
        row["fee"] = dataclasses.asdict(proc.fee)
    return row


def _version(procedures: dict[str, Procedure], units: dict[str, Unit]) -> str:
    payload = {"procedures": [_hashed(p) for p in procedures.values()],
               "units": [vars(u) for u in units.values()]}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def load_catalog(procedures_path: Path | None = None, units_path: Path | None = None,
                 day_hours: int = DEFAULT_DAY_HOURS) -> Catalog:
    """The validated catalog; `CatalogError` names the first bad row. `day_hours` is the
    working-day length fractions of a day in the steps are read with."""
    procedures: dict[str, Procedure] = _build(
        procedures_path or _data("procedures.yaml"), "procedures",
        functools.partial(_procedure, day_hours=day_hours))
    units: dict[str, Unit] = _build(units_path or _data("units.yaml"), "units", _unit)
    try:
        return catalog_of(procedures, units)
    except ValueError as exc:  # e.g. a step naming a unit the units file does not list
        raise CatalogError(str(exc)) from None
