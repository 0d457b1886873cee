"""Internal procedures (quy trình nội bộ) in the catalog file: the steps sheet or file.

Where the steps are (`motcua catalog import/export`, `motcua.catalog.io`):

* XLSX: a second sheet named ``steps`` (or, when no sheet has that name, the second sheet);
* CSV: a second file, ``--steps FILE``; without it, ``<name>.steps.csv`` beside the catalog
  file when there is one (export writes it there);
* YAML (motcua/data/procedures.yaml): ``steps_version`` and ``steps`` on the procedure's row.

One header row, then one step per row, in order:

  ================  ====================================================================
  code *            the procedure's code (a row of the catalog file)
  step *            the step's number in its procedure: 1, 2, 3... in order
  name *            the work, as the decision words it
  role *            ``clerk`` | ``officer`` | ``leader`` | ``records_clerk`` (văn thư)
  actor *           the actor as the decision prints it
  unit_code         empty: the unit that holds the dossier's share (the receiving unit);
                    else the code of another unit of the catalog (liên thông)
  allowance_amount  as published: ``0,25 ngày làm việc``, ``04 giờ làm việc``, or an amount
  allowance_unit    with its unit; or the words of an untimed step, ``Không tính thời gian``
                    / ``Giờ hành chính``. A bare "ngày" is a working day (our reading: the
                    tables that print it total in working days)
  untimed           the decision's words for a step with no allowance (when the amount is
                    empty)
  produces          the paper the step produces, where the decision names one
  source *          the decision, annex and step it was read from
  version *         the text that approved the list (decision and date); on the first row of
                    each procedure at least, the same on every row that repeats it
  ================  ====================================================================

Fractions of a working day become hours at the working-day length (`--working-day-hours`,
``MOTCUA_WORKING_DAY_HOURS``, default 8). The steps of a procedure must add up to its applied
time (the published reduced time, else the prescribed one); if not, the import is refused
naming the procedure's row and its step rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from domain.catalog import (
    DEFAULT_DAY_HOURS,
    Allowance,
    InternalProcedure,
    Procedure,
    Step,
    StepRole,
    TimeUnit,
)
from motcua.catalog.io import (
    _TIME_CELL,
    MAX_CELL_CHARS,
    CatalogFileError,
    _time,
    check_text,
    header,
    raw_table,
)
from motcua.exports import csv_writer, safe_row

STEP_COLUMNS = ("code", "step", "name", "role", "actor", "unit_code", "allowance_amount",
                "allowance_unit", "untimed", "produces", "source", "version")
STEP_REQUIRED = ("code", "step", "name", "role", "actor", "source")
STEPS_SHEET = "steps"
# Reading stops here: a steps table is a few rows per procedure, not a data dump.
MAX_STEP_ROWS = 50_000
# Step names and actors as provinces print them run longer than a catalog code.
STEP_TEXT_LIMIT = 400
# The words provincial tables print for a step with no allowance (compared in lower case).
UNTIMED_WORDS = ("không tính thời gian", "giờ hành chính")


@dataclass(frozen=True)
class StepRows:
    """A procedure's step rows as read: their row numbers, for the errors."""

    code: str
    first: int
    last: int
    steps: InternalProcedure


def steps_path_for(path: Path) -> Path:
    """Where the steps of a CSV catalog file go by default: ``<name>.steps.csv`` beside it."""
    return path.with_name(f"{path.stem}.steps{path.suffix or '.csv'}")


def read_step_table(path: Path, *, second_sheet: bool) -> list[tuple[int, dict[str, str]]]:
    """The step rows of `path` as (row number, {column: text}). For an XLSX catalog file
    (`second_sheet`), the ``steps`` sheet or the second one; none: no rows. Read within the
    catalog file's bounds (size, rows, columns, cell length) and under its text rules."""
    table = raw_table(path, "steps table", lambda names: _steps_sheet(names, second_sheet),
                      MAX_STEP_ROWS)
    if not table:
        return []
    if len(table) > MAX_STEP_ROWS + 1:
        raise CatalogFileError([f"{path.name}: more than {MAX_STEP_ROWS} step rows"])
    names = [header(h) for h in table[0]]
    unknown = sorted({n for n in names if n and n not in STEP_COLUMNS})
    missing = [c for c in STEP_REQUIRED if c not in names]
    if unknown or missing:
        problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing column(s) {', '.join(missing)}"] if missing else [])
        raise CatalogFileError([f"{path.name} (steps): {'; '.join(problems)}; columns: "
                                f"{', '.join(STEP_COLUMNS)}"])
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[str] = []
    for number, row in enumerate(table[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(names) or any(len(c) > MAX_CELL_CHARS for c in row):
            errors.append(f"{path.name} (steps) row {number}: too many cells or a cell longer "
                          f"than {MAX_CELL_CHARS} characters")
            continue
        try:
            rows.append((number, check_text(dict(zip(names, (c.strip() for c in row),
                                                         strict=False)), STEP_TEXT_LIMIT)))
        except ValueError as err:
            errors.append(f"{path.name} (steps) row {number}: {err}")
    if errors:
        raise CatalogFileError(errors)
    return rows


def _steps_sheet(names: list[str], second_sheet: bool) -> int | None:
    """Which sheet holds the steps: ``steps`` by name, else the second of a catalog workbook
    (the first of a steps-only workbook)."""
    if STEPS_SHEET in names:
        return names.index(STEPS_SHEET)
    if not second_sheet:
        return 0
    return 1 if len(names) > 1 else None


def _allowance(row: Mapping[str, str], day_hours: int) -> tuple[Allowance | None, str]:
    amount = row.get("allowance_amount", "").strip()
    unit = row.get("allowance_unit", "").strip()
    untimed = row.get("untimed", "").strip()
    if amount.lower() in UNTIMED_WORDS:
        return None, untimed or amount
    if not amount:
        if unit:
            raise ValueError("allowance_unit without allowance_amount")
        return None, untimed
    if untimed:
        raise ValueError("a step has an allowance or is untimed, not both")
    # A bare "ngày" in a step table is a working day (module docstring).
    match = _TIME_CELL.match(amount)
    if match and match.group(2).lower() == "ngày":
        amount = match.group(1)
        unit = TimeUnit.WORKING_DAYS.value
    elif unit.lower() == "ngày":
        unit = TimeUnit.WORKING_DAYS.value
    value, time_unit = _time(amount, unit, "allowance", day_hours)
    return Allowance(amount=value, unit=time_unit), ""


def step_from_row(row: Mapping[str, str], day_hours: int = DEFAULT_DAY_HOURS) -> Step:
    """One validated step; `ValueError` says what is wrong with the row."""
    for column in ("name", "role", "actor", "source"):
        if not row.get(column, "").strip():
            raise ValueError(f"{column} is empty")
    role_text = row["role"].strip()
    try:
        role = StepRole(role_text)
    except ValueError:
        raise ValueError(f"role must be one of {', '.join(r.value for r in StepRole)}, got "
                         f"{role_text!r}") from None
    allowance, untimed = _allowance(row, day_hours)
    return Step(name=row["name"].strip(), role=role, actor=row["actor"].strip(),
                unit_code=row.get("unit_code", "").strip(), allowance=allowance,
                untimed=untimed, produces=row.get("produces", "").strip(),
                source=row["source"].strip())


def group_steps(rows: Sequence[tuple[int, Mapping[str, str]]], file_name: str,
                day_hours: int) -> tuple[list[StepRows], list[str]]:
    """The rows grouped by procedure, in order, with every error (each naming its row)."""
    groups: dict[str, list[tuple[int, Mapping[str, str]]]] = {}
    errors: list[str] = []
    for number, row in rows:
        code = row.get("code", "").strip()
        if not code:
            errors.append(f"{file_name}: row {number}: code is empty")
            continue
        groups.setdefault(code, []).append((number, row))
    built: list[StepRows] = []
    for code, members in groups.items():
        where = f"{file_name}: rows {members[0][0]}-{members[-1][0]} (code {code})"
        steps: list[Step] = []
        versions = {r.get("version", "").strip() for _, r in members} - {""}
        bad = False
        for position, (number, row) in enumerate(members, start=1):
            if row.get("step", "").strip() != str(position):
                errors.append(f"{file_name}: row {number} (code {code}): step must be "
                              f"{position} (steps are numbered 1, 2, ... in order)")
                bad = True
                continue
            try:
                steps.append(step_from_row(row, day_hours))
            except (ValueError, TypeError) as err:
                errors.append(f"{file_name}: row {number} (code {code}): {err}")
                bad = True
        if len(versions) != 1:
            errors.append(f"{where}: version must be given, and be the same on every row "
                          f"that repeats it (found {len(versions)})")
            bad = True
        if not bad:
            try:
                internal = InternalProcedure(version=versions.pop(), steps=tuple(steps),
                                             day_hours=day_hours)
            except ValueError as err:
                errors.append(f"{where}: {err}")
                continue
            built.append(StepRows(code=code, first=members[0][0], last=members[-1][0],
                                  steps=internal))
    return built, errors


def attach(procedures: Mapping[str, Procedure], groups: Iterable[StepRows], file_name: str,
           procedure_rows: Mapping[str, str]) -> tuple[dict[str, Procedure], list[str]]:
    """The procedures with their steps; a group for an unknown code, or whose steps do not
    add up to the applied time, is an error naming the procedure's row and the step rows."""
    out = dict(procedures)
    errors: list[str] = []
    for group in groups:
        where = f"{file_name}: rows {group.first}-{group.last} (code {group.code})"
        proc = out.get(group.code)
        if proc is None:
            errors.append(f"{where}: no procedure with this code in the catalog file")
            continue
        try:
            out[group.code] = replace(proc, steps=group.steps)
        except ValueError as err:
            errors.append(f"{procedure_rows.get(group.code, group.code)}, steps {where}: {err}")
    return out, errors


def step_rows_of(proc: Procedure) -> list[dict[str, str]]:
    """A procedure's steps as file rows (the columns above, as text)."""
    if proc.steps is None:
        return []
    rows = []
    for number, step in enumerate(proc.steps.steps, start=1):
        allowance = step.allowance
        rows.append({
            "code": proc.code, "step": str(number), "name": step.name, "role": step.role.value,
            "actor": step.actor, "unit_code": step.unit_code,
            "allowance_amount": "" if allowance is None else str(allowance.amount),
            "allowance_unit": "" if allowance is None else allowance.unit.value,
            "untimed": step.untimed, "produces": step.produces, "source": step.source,
            "version": proc.steps.version})
    return rows


def all_step_rows(procedures: Iterable[Procedure]) -> list[dict[str, str]]:
    """Every step row of `procedures`, by code."""
    return [row for p in sorted(procedures, key=lambda p: p.code) for row in step_rows_of(p)]


def write_steps_csv(path: Path, rows: Sequence[Mapping[str, str]]) -> None:
    """The steps file of a CSV catalog."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv_writer(out)
        writer.writerow(STEP_COLUMNS)
        writer.writerows([row.get(c, "") for c in STEP_COLUMNS] for row in rows)


def add_steps_sheet(book: Any, rows: Sequence[Mapping[str, str]]) -> None:
    """The ``steps`` sheet of an XLSX catalog (an openpyxl workbook)."""
    sheet = book.create_sheet(STEPS_SHEET)
    sheet.append(list(STEP_COLUMNS))
    for row in rows:
        sheet.append(safe_row(row[c] for c in STEP_COLUMNS))


def stored_steps(proc: Procedure) -> dict[str, Any]:
    """JSON-safe form of a procedure's steps for a stored catalog version ({} without)."""
    if proc.steps is None:
        return {}
    return {"steps": step_rows_of(proc), "steps_day_hours": proc.steps.day_hours}


def from_stored(proc: Procedure, row: Mapping[str, Any]) -> Procedure:
    """`proc` with the steps a stored row carries (see `stored_steps`)."""
    rows = row.get("steps")
    if not rows:
        return proc
    day_hours = int(row.get("steps_day_hours", DEFAULT_DAY_HOURS))
    groups, errors = group_steps(list(enumerate(rows, start=1)), "stored catalog", day_hours)
    if errors or len(groups) != 1:
        raise ValueError("; ".join(errors) or f"stored steps of {proc.code} are malformed")
    return replace(proc, steps=groups[0].steps)


def steps_summary(steps: InternalProcedure | None) -> str:
    """A short line for a diff: the number of steps, their total and the version."""
    if steps is None:
        return "none"
    return f"{len(steps.steps)} steps, {steps.total_hours()} h ({steps.version})"
