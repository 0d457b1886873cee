"""The catalog file a province publishes: read (`motcua catalog import`) and write (`export`).

File format (the one `motcua catalog export` writes and `import` reads back):

* CSV (UTF-8, a BOM allowed) or XLSX (the first sheet), chosen by the file's extension;
* one header row, then one procedure per row; header names are matched case-insensitively,
  with spaces, dashes, dots and slashes read as underscores (so "Reduced amount" works);
* columns (the ones provincial decisions publish; * = required):

  =====================  =====================================================================
  code *                 national code ``1.001193``, or a local code ``L.<slug>``
  name *                 Vietnamese name as published
  field *                lĩnh vực (Biểu 06 rows are by field), e.g. ``Hộ tịch``
  level *                ``province`` | ``commune`` (``tỉnh`` | ``xã`` accepted)
  prescribed_amount *    the time the law prescribes; ``0,5`` or ``0.5`` for half a day
  prescribed_unit *      ``working_days`` | ``calendar_days`` | ``working_hours`` | ``same_day``
                         | ``months``, or in Vietnamese: ``ngày làm việc`` | ``ngày`` |
                         ``giờ làm việc`` | ``trong ngày`` | ``tháng``
  reduced_amount         the province's published reduced time (leave empty when none: the
  reduced_unit           prescribed time applies; no estimate ever reaches a due time)
  reduced_source         the decision that published the reduced time (required with it),
                         e.g. ``QĐ 3009/QĐ-UBND ngày 23/8/2021 (Lào Cai)``
  source *               the legal text of the prescribed time (law, article, clause), or
                         ``UNVERIFIED: ...``
  counting_rule          ``civil_code`` (default) | ``same_time_of_day``
  due_soon_working_days  whole number, default 1 (0 for same-day procedures)
  replaced_by            for a code a decree retired or merged: the code that replaces it
  retired_source         the text that retired it (required with replaced_by)
  verification_amount    the longer maximum "khi cần xác minh" (with verification_unit), applied
  verification_unit      once an officer records that verification is needed
  fee_amount             the procedure's fee (phí, lệ phí) in VND, a whole number (``50000``,
                         ``50.000`` or ``50 000`` read alike; ``0`` for an exemption)
  fee_source             the legal text that sets the fee (required with fee_amount)
  digitise_before_assign ``yes`` when every paper listed on a dossier must be scanned before it
                         is assigned (Decree 118/2025 art. 17(1)(c); Circular 01/2023/TT-VPCP
                         art. 8); ``no`` or empty otherwise (``có`` / ``không``, ``true`` /
                         ``false``, ``1`` / ``0`` accepted)
  =====================  =====================================================================

  A time cell may also hold the amount and the unit together, as published: ``5 working_days``,
  ``05 ngày làm việc``, ``0,5 ngày làm việc``, ``02 giờ làm việc``; the unit column may then be
  empty.

* Fractional working days (``0,5 ngày làm việc``) become working hours at the working-day
  length (``MOTCUA_WORKING_DAY_HOURS``, default 8: provincial systems count 8 hours to a
  working day; our reading, as docs/legal-sources.md reports). A fraction that gives no
  whole number of hours is refused with its row, as are fractions of any other unit.

Every row is validated; all errors are reported at once, each naming the row and the code.

Internal procedures (the steps of each procedure, each with its own allowance) travel beside
the list: a second sheet in XLSX, a second file in CSV; see `motcua.catalog.steps_io`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from domain.catalog import (
    DEFAULT_DAY_HOURS,
    LEVELS,
    Catalog,
    CountingRule,
    Fee,
    Procedure,
    TimeUnit,
)
from motcua.exports import FORMULA_STARTS, csv_writer, safe_row
from motcua.services.text import clean, single_line

COLUMNS = ("code", "name", "field", "level", "prescribed_amount", "prescribed_unit",
           "reduced_amount", "reduced_unit", "reduced_source", "source", "counting_rule",
           "due_soon_working_days", "replaced_by", "retired_source", "verification_amount",
           "verification_unit", "fee_amount", "fee_source", "digitise_before_assign")
REQUIRED = ("code", "name", "field", "level", "prescribed_amount", "source")

# Vietnamese unit names as provincial decisions print them (longest first when matching).
UNIT_NAMES: dict[str, TimeUnit] = {
    "ngày làm việc": TimeUnit.WORKING_DAYS,
    "giờ làm việc": TimeUnit.WORKING_HOURS,
    "trong ngày": TimeUnit.SAME_DAY,
    "ngay trong ngày": TimeUnit.SAME_DAY,
    "ngày": TimeUnit.CALENDAR_DAYS,
    "tháng": TimeUnit.MONTHS,
    "giờ": TimeUnit.WORKING_HOURS,
}
LEVEL_NAMES = {"tỉnh": "province", "xã": "commune", "cấp tỉnh": "province", "cấp xã": "commune"}
_TIME_CELL = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(.*?)\s*$")


class CatalogFileError(ValueError):
    """The file cannot be read, or rows are invalid; `errors` lists every bad row."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def header(text: object) -> str:
    """A column name as matched: lower case, separators read as underscores."""
    return re.sub(r"[\s.\-/]+", "_", str(text or "").strip().lower()).strip("_")


# Bounds on what an import reads (issue 24, point 6): a workbook declares its own size, and
# one cell at XFD1048576 in an 11 KB file once made the reader pad every row to 16,384 columns
# until the machine ran out of memory. A province's catalog is a few thousand rows.
MAX_FILE_BYTES = 5 * 2**20
MAX_UNZIPPED_BYTES = 50 * 2**20  # an XLSX is a zip: bound what it expands to as well
MAX_ROWS = 10_000
MAX_COLUMNS = 64
MAX_CELL_CHARS = 2_000
# Longest text per column (after NFC); other columns are enumerations or numbers.
TEXT_LIMITS = {"code": 64, "name": 1_000, "field": 200, "reduced_source": 2_000,
               "source": 2_000, "replaced_by": 64, "retired_source": 2_000,
               "fee_source": 2_000}
# A VND amount as provinces print it: digits, thousands grouped by dots, commas or spaces.
_VND = re.compile(r"^\d{1,3}(?:([.,\s])\d{3})?(?:\1\d{3})*$|^\d+$")


def _file_error(path: Path, reason: str) -> CatalogFileError:
    return CatalogFileError([f"{path.name}: {reason}"])


def _first_sheet(names: list[str]) -> int | None:
    return 0


def _xlsx_table(path: Path, pick: Callable[[list[str]], int | None] = _first_sheet
                ) -> list[list[str]]:
    """The rows of the sheet `pick` chooses from the sheet names (the first by default; None:
    no rows), read within the bounds above; one-line errors otherwise."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not zipfile.is_zipfile(path):
        raise _file_error(path, "not an XLSX workbook (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        if unzipped > MAX_UNZIPPED_BYTES:
            raise _file_error(path, f"the workbook expands to {unzipped} bytes; at most "
                              f"{MAX_UNZIPPED_BYTES}")
        # Formulas as written, not their cached results: a catalog cell holds text or a
        # number, and a formula is refused like any text starting with "=" (`check_text`).
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except CatalogFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, KeyError,
            ValueError, TypeError, EOFError) as err:
        raise _file_error(path, f"not a readable XLSX workbook ({type(err).__name__})") \
            from None
    try:
        if not book.worksheets:
            raise _file_error(path, "the workbook has no sheet")
        index = pick(book.sheetnames)
        if index is None:
            return []
        sheet = book.worksheets[index]
        rows, columns = sheet.max_row or 0, sheet.max_column or 0
        if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
            raise _file_error(path, f"the sheet declares {rows} rows and {columns} columns; "
                              f"a catalog file has at most {MAX_ROWS} rows and {MAX_COLUMNS} "
                              "columns")
        # Bounded whatever the declared size says (it may be absent or wrong): one row and
        # one column past the limits tell that the file goes beyond them.
        table = [["" if v is None else str(v) for v in row]
                 for row in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1,
                                            values_only=True)]
    except CatalogFileError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        raise _file_error(path, f"not a readable XLSX workbook ({type(err).__name__})") \
            from None
    finally:
        book.close()
    if any(row[MAX_COLUMNS:] and row[MAX_COLUMNS] for row in table):
        raise _file_error(path, f"more than {MAX_COLUMNS} columns")
    return [row[:MAX_COLUMNS] for row in table]


def raw_table(path: Path, what: str, pick: Callable[[list[str]], int | None] = _first_sheet,
              max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The cells of `path` (CSV, or the sheet `pick` chooses of an XLSX), within
    `MAX_FILE_BYTES` and, for CSV, `max_rows` + 1 rows read; one-line errors naming `what`."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _file_error(path, f"{size} bytes; a catalog file has at most "
                              f"{MAX_FILE_BYTES}")
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx_table(path, pick)
        reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
        return [row for _, row in zip(range(max_rows + 2), reader, strict=False)]
    except CatalogFileError:
        raise
    except OSError as err:
        raise CatalogFileError([f"{path}: cannot read: {err.strerror or err}"]) from None
    except (ValueError, KeyError, csv.Error, UnicodeDecodeError) as err:
        raise CatalogFileError([f"{path.name}: not a readable {what}: {err}"]) from None


def read_table(path: Path) -> list[dict[str, str]]:
    """The file's rows as {column: text}, from CSV or XLSX (by extension), read within
    `MAX_FILE_BYTES`, `MAX_ROWS`, `MAX_COLUMNS` and `MAX_CELL_CHARS`."""
    table = raw_table(path, "CSV or XLSX file")
    table = [row for row in table if any(c.strip() for c in row)]  # blank rows are not rows
    if not table:
        raise CatalogFileError([f"{path.name}: the file is empty"])
    if len(table) > MAX_ROWS + 1:
        raise _file_error(path, f"more than {MAX_ROWS} rows")
    for number, row in enumerate(table, start=1):
        if len(row) > MAX_COLUMNS:
            raise _file_error(path, f"row {number}: more than {MAX_COLUMNS} columns")
        if any(len(c) > MAX_CELL_CHARS for c in row):
            raise _file_error(path, f"row {number}: a cell longer than {MAX_CELL_CHARS} "
                              "characters")
    names = [header(h) for h in table[0]]
    unknown = sorted({n for n in names if n and n not in COLUMNS})
    if unknown:
        raise CatalogFileError([f"{path.name}: unknown column(s) {', '.join(unknown)}; "
                                f"known: {', '.join(COLUMNS)}"])
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CatalogFileError([f"{path.name}: missing column(s) {', '.join(missing)}"])
    return [dict(zip(names, (c.strip() for c in row), strict=False)) for row in table[1:]]


def check_text(row: Mapping[str, str], default_limit: int = 64) -> dict[str, str]:
    """The row's cells in NFC, under the API's text rules (`motcua.api.text`: no control,
    invisible or bidirectional characters, one line, bounded length), and none that a
    spreadsheet would run (`=`, `+`, `-`, `@` first: exports stay importable as they are);
    `ValueError` naming the column otherwise."""
    checked: dict[str, str] = {}
    for column, raw in row.items():
        value = unicodedata.normalize("NFC", raw)
        try:
            single_line(clean(value))
        except ValueError as err:
            raise ValueError(f"{column}: {err}") from None
        limit = TEXT_LIMITS.get(column, default_limit)
        if len(value) > limit:
            raise ValueError(f"{column}: longer than {limit} characters")
        if value.startswith(FORMULA_STARTS):
            raise ValueError(f"{column}: must not start with = + - or @ (a spreadsheet would "
                             "run it as a formula)")
        checked[column] = value
    return checked


def _unit(text: str, what: str) -> TimeUnit:
    text = text.strip().lower()
    for name, unit in sorted(UNIT_NAMES.items(), key=lambda kv: -len(kv[0])):
        if text == name:
            return unit
    try:
        return TimeUnit(text)
    except ValueError:
        allowed = ", ".join([*(u.value for u in TimeUnit), *UNIT_NAMES])
        raise ValueError(f"{what}: unknown unit {text!r} (one of {allowed})") from None


def _time(amount_text: str, unit_text: str, what: str, day_hours: int) -> tuple[int, TimeUnit]:
    """(whole amount, unit) from an amount cell (maybe "0,5 ngày làm việc") and a unit cell."""
    match = _TIME_CELL.match(amount_text)
    if not match:
        raise ValueError(f"{what}_amount: not a number: {amount_text!r}")
    number, inline_unit = match.groups()
    unit = _unit(inline_unit or unit_text or "", f"{what}_unit") \
        if (inline_unit or unit_text) else None
    if unit is None:
        raise ValueError(f"{what}_unit is missing")
    try:
        value = Decimal(number.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{what}_amount: not a number: {number!r}") from None
    if value == value.to_integral_value():
        return int(value), unit
    if unit == TimeUnit.WORKING_DAYS:
        hours = value * day_hours
        if hours == hours.to_integral_value() and hours > 0:
            return int(hours), TimeUnit.WORKING_HOURS  # 8-hour working day (module doc)
        raise ValueError(f"{what}_amount: {number} working days is not a whole number of hours "
                         f"at {day_hours} h per day")
    raise ValueError(f"{what}_amount: {number} {unit.value} cannot be fractional")


def _int(text: str, what: str, default: int) -> int:
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what}: not a whole number: {text!r}") from None


def procedure_from_row(row: Mapping[str, str], day_hours: int = DEFAULT_DAY_HOURS) -> Procedure:
    """One validated procedure; `ValueError` says what is wrong with the row."""
    for column in REQUIRED:
        if not row.get(column, "").strip():
            raise ValueError(f"{column} is empty")
    level = LEVEL_NAMES.get(row["level"].strip().lower(), row["level"].strip().lower())
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)} (or tỉnh, xã), got "
                         f"{row['level']!r}")
    p_amount, p_unit = _time(row["prescribed_amount"], row.get("prescribed_unit", ""),
                             "prescribed", day_hours)
    if row.get("reduced_amount", "").strip():
        r_amount, r_unit = _time(row["reduced_amount"], row.get("reduced_unit", ""), "reduced",
                                 day_hours)
    else:
        r_amount, r_unit = p_amount, p_unit
    rule_text = row.get("counting_rule", "").strip() or CountingRule.CIVIL_CODE.value
    try:
        rule = CountingRule(rule_text)
    except ValueError:
        raise ValueError(f"counting_rule must be civil_code or same_time_of_day, got "
                         f"{rule_text!r}") from None
    default_soon = 0 if p_unit == TimeUnit.SAME_DAY else 1
    return Procedure(
        code=row["code"].strip(), name=row["name"].strip(), field=row["field"].strip(),
        level=level,  # narrowed by the LEVELS check above
        prescribed_amount=p_amount, prescribed_unit=p_unit,
        reduced_amount=r_amount, reduced_unit=r_unit,
        reduced_source=row.get("reduced_source", "").strip(), source=row["source"].strip(),
        counting_rule=rule,
        due_soon_working_days=_int(row.get("due_soon_working_days", "").strip(),
                                   "due_soon_working_days", default_soon),
        replaced_by=row.get("replaced_by", "").strip() or None,
        retired_source=row.get("retired_source", "").strip(),
        digitise_before_assign=_yes_no(row.get("digitise_before_assign", ""),
                                       "digitise_before_assign"),
        **_verification(row, day_hours), **_fee(row))


def _fee(row: Mapping[str, str]) -> dict[str, Any]:
    amount, source = row.get("fee_amount", "").strip(), row.get("fee_source", "").strip()
    if not amount and not source:
        return {}
    if not amount:
        raise ValueError("fee_source needs fee_amount beside it")
    if not _VND.match(amount):
        raise ValueError(f"fee_amount: not a whole number of VND: {amount!r}")
    return {"fee": Fee(amount=int(re.sub(r"\D", "", amount)), source=source)}


_YES = frozenset({"yes", "y", "true", "1", "có", "x"})
_NO = frozenset({"", "no", "n", "false", "0", "không"})


def _yes_no(text: str, what: str) -> bool:
    value = unicodedata.normalize("NFC", text).strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"{what} must be yes or no (có / không), got {text!r}")


def _verification(row: Mapping[str, str], day_hours: int) -> dict[str, Any]:
    if not row.get("verification_amount", "").strip():
        return {}
    amount, unit = _time(row["verification_amount"], row.get("verification_unit", ""),
                         "verification", day_hours)
    return {"verification_amount": amount, "verification_unit": unit}


def read_procedures(path: Path, day_hours: int = DEFAULT_DAY_HOURS,
                    steps_path: Path | None = None) -> dict[str, Procedure]:
    """Every row of the file as a procedure, with its steps (`steps_path`, else the XLSX
    ``steps`` sheet or the CSV's ``<name>.steps.csv``); `CatalogFileError` lists every bad
    row at once."""
    errors: list[str] = []
    built: dict[str, Procedure] = {}
    rows_of: dict[str, str] = {}
    for number, row in enumerate(read_table(path), start=2):  # row 1 is the header
        where = f"{path.name}: row {number} (code {row.get('code') or '?'})"
        try:
            proc = procedure_from_row(check_text(row), day_hours)
        except (ValueError, TypeError) as err:
            errors.append(f"{where}: {err}")
            continue
        if proc.code in built:
            errors.append(f"{where}: duplicate code, already in an earlier row")
            continue
        built[proc.code] = proc
        rows_of[proc.code] = where
    built = _with_steps(path, steps_path, built, rows_of, day_hours, errors)
    for proc in built.values():
        if proc.replaced_by is not None and proc.replaced_by not in built:
            errors.append(f"{path.name}: code {proc.code}: replaced_by {proc.replaced_by} is "
                          "not in the file")
    if errors:
        raise CatalogFileError(errors)
    return built


def _with_steps(path: Path, steps_path: Path | None, built: dict[str, Procedure],
                rows_of: dict[str, str], day_hours: int,
                errors: list[str]) -> dict[str, Procedure]:
    from motcua.catalog import steps_io

    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    if steps_path is None and not xlsx:
        sibling = steps_io.steps_path_for(path)
        steps_path = sibling if sibling.exists() else None
    source = steps_path or (path if xlsx else None)
    if source is None:
        return built
    rows = steps_io.read_step_table(source, second_sheet=source == path)
    groups, step_errors = steps_io.group_steps(rows, source.name, day_hours)
    errors += step_errors
    with_steps, attach_errors = steps_io.attach(built, groups, source.name, rows_of)
    errors += attach_errors
    return with_steps


def row_of(proc: Procedure) -> dict[str, str]:
    """A procedure as a file row (the columns above, as text)."""
    return {
        "code": proc.code, "name": proc.name, "field": proc.field, "level": proc.level,
        "prescribed_amount": str(proc.prescribed_amount),
        "prescribed_unit": proc.prescribed_unit.value,
        "reduced_amount": str(proc.reduced_amount) if proc.reduced_source else "",
        "reduced_unit": proc.reduced_unit.value if proc.reduced_source else "",
        "reduced_source": proc.reduced_source, "source": proc.source,
        "counting_rule": proc.counting_rule.value,
        "due_soon_working_days": str(proc.due_soon_working_days),
        "replaced_by": proc.replaced_by or "", "retired_source": proc.retired_source,
        "verification_amount": "" if proc.verification_amount is None
        else str(proc.verification_amount),
        "verification_unit": proc.verification_unit.value if proc.verification_unit else "",
        "fee_amount": "" if proc.fee is None else str(proc.fee.amount),
        "fee_source": "" if proc.fee is None else proc.fee.source,
        "digitise_before_assign": "yes" if proc.digitise_before_assign else "",
    }


def write_procedures(path: Path, procedures: Iterable[Procedure],
                     steps_path: Path | None = None) -> int:
    """Write the import format (CSV, or XLSX by extension); returns the number of rows. The
    steps go to the XLSX ``steps`` sheet, or to `steps_path` (default ``<name>.steps.csv``)
    when any procedure has steps."""
    from motcua.catalog import steps_io

    procedures = sorted(procedures, key=lambda p: p.code)
    rows = [row_of(p) for p in procedures]
    step_rows = steps_io.all_step_rows(procedures)
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "catalog"
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append(safe_row(row[c] for c in COLUMNS))
        if step_rows:
            steps_io.add_steps_sheet(book, step_rows)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv_writer(out)
            writer.writerow(COLUMNS)
            writer.writerows([row[c] for c in COLUMNS] for row in rows)
        if step_rows or steps_path is not None:
            steps_io.write_steps_csv(steps_path or steps_io.steps_path_for(path), step_rows)
    return len(rows)


@dataclass(frozen=True)
class CatalogDiff:
    """What an import changes against the active catalog."""

    added: list[str]
    removed: list[str]
    changed: dict[str, list[str]]  # code -> "field: old -> new"

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        out = [f"+ {code}" for code in self.added]
        out += [f"- {code}" for code in self.removed]
        for code, changes in self.changed.items():
            out += [f"~ {code} {change}" for change in changes]
        return out or ["(no change)"]


def diff(active: Mapping[str, Procedure], new: Mapping[str, Procedure]) -> CatalogDiff:
    """Codes added, removed and changed (field by field) from `active` to `new`."""
    from motcua.catalog.steps_io import steps_summary

    changed: dict[str, list[str]] = {}
    for code in sorted(set(active) & set(new)):
        a, b = active[code], new[code]
        changes = [f"{f.name}: {getattr(a, f.name)!s} -> {getattr(b, f.name)!s}"
                   for f in fields(Procedure)
                   if f.name != "steps" and getattr(a, f.name) != getattr(b, f.name)]
        if a.steps != b.steps:
            changes.append(f"steps: {steps_summary(a.steps)} -> {steps_summary(b.steps)}")
        if changes:
            changed[code] = changes
    return CatalogDiff(added=sorted(set(new) - set(active)),
                       removed=sorted(set(active) - set(new)), changed=changed)


def removed_in_use(catalog: Catalog, new: Mapping[str, Procedure]) -> list[str]:
    """Codes of the active catalog the new one drops outright. Dossiers opened under them could
    no longer be recomputed, so the import keeps them as retired rows or refuses (see the CLI)."""
    return sorted(set(catalog.procedures) - set(new))


def as_dicts(procedures: Iterable[Procedure]) -> list[dict[str, Any]]:
    """JSON-safe rows (for storing a catalog version)."""
    return [row_of(p) for p in procedures]
