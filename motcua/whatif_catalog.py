"""Catalog files for the what-if: read a proposed catalog, write a recommended one.

The format is the one `motcua catalog import` takes (issue 11): a CSV (UTF-8, a BOM allowed)
or XLSX sheet with a header row naming the columns code, name, field, level, prescribed time
and unit, reduced time and unit, source decision. The what-if needs only the code and the
reduced time and unit (and the counting rule, when given); the other columns are checked by
the import, not here. Header names are matched case-insensitively, with spaces, dashes and
dots read as underscores, and a few spellings accepted for the time columns
(`reduced_amount` / `reduced_time`, `reduced_unit`); a time cell may also hold both, as in
`5 working_days`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from domain.catalog import Catalog, CountingRule, TimeUnit
from motcua.whatif import Clock, WhatIfError

AMOUNT_HEADERS = ("reduced_amount", "reduced_time", "thoi_gian_rut_gon")
UNIT_HEADERS = ("reduced_unit", "reduced_time_unit", "don_vi_rut_gon")
RULE_HEADERS = ("counting_rule",)
WRITE_COLUMNS = ("code", "name", "field", "level", "prescribed_amount", "prescribed_unit",
                 "reduced_amount", "reduced_unit", "counting_rule", "source")
_TIME_CELL = re.compile(r"^\s*(\d+)\s+([a-z_]+)\s*$")


def _header(text: object) -> str:
    return re.sub(r"[\s.\-/]+", "_", str(text or "").strip().lower())


def _rows(path: Path) -> list[dict[str, str]]:
    """The file's rows as {header: text}, from CSV or XLSX (by extension)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [["" if v is None else str(v) for v in row]
                     for row in sheet.iter_rows(values_only=True)]
            book.close()
        else:
            table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except OSError as err:
        raise WhatIfError(f"{path}: cannot read: {err.strerror or err}") from None
    except (ValueError, KeyError, csv.Error) as err:  # openpyxl: not a workbook
        raise WhatIfError(f"{path.name}: not a readable CSV or XLSX file: {err}") from None
    if not table:
        raise WhatIfError(f"{path.name}: the file is empty")
    headers = [_header(h) for h in table[0]]
    return [dict(zip(headers, (c.strip() for c in row), strict=False))
            for row in table[1:] if any(c.strip() for c in row)]


def _pick(row: Mapping[str, str], names: Sequence[str]) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def read_policy(path: Path, baseline: Mapping[str, Clock]) -> dict[str, Clock]:
    """The baseline with the reduced times the file gives; `WhatIfError` names the first bad
    row (line number as a spreadsheet shows it) or the unknown codes."""
    proposed = dict(baseline)
    rows = _rows(path)
    if rows and "code" not in rows[0]:
        raise WhatIfError(f"{path.name}: no 'code' column in the header row")
    unknown: list[str] = []
    for line, row in enumerate(rows, start=2):
        code = row.get("code", "")
        where = f"{path.name}: line {line} (code {code or '?'})"
        if code not in baseline:
            unknown.append(code or f"<empty, line {line}>")
            continue
        amount_text, unit_text = _pick(row, AMOUNT_HEADERS), _pick(row, UNIT_HEADERS)
        both = _TIME_CELL.match(amount_text)
        if both and not unit_text:
            amount_text, unit_text = both[1], both[2]
        if not amount_text:
            raise WhatIfError(f"{where}: no reduced time (column reduced_amount)")
        try:
            number = float(amount_text)
        except ValueError:
            raise WhatIfError(f"{where}: reduced time {amount_text!r} is not a number") from None
        if not number.is_integer() or number < 1:
            raise WhatIfError(f"{where}: reduced time must be a whole number >= 1, "
                              f"got {amount_text}")
        try:
            unit = TimeUnit(unit_text or baseline[code].unit.value)
        except ValueError:
            units = ", ".join(u.value for u in TimeUnit)
            raise WhatIfError(f"{where}: reduced unit must be one of {units}, "
                              f"got {unit_text!r}") from None
        try:
            rule = CountingRule(_pick(row, RULE_HEADERS) or baseline[code].rule.value)
            proposed[code] = Clock(int(number), unit, rule)
        except ValueError as err:
            raise WhatIfError(f"{where}: {err}") from None
    if unknown:
        raise WhatIfError(f"{path.name}: unknown procedure code(s) not in the catalog in "
                          f"force: {', '.join(sorted(unknown)[:20])}")
    return proposed


def write_catalog(catalog: Catalog, reduced: Mapping[str, int], source: str) -> str:
    """A catalog file (CSV) with the procedures of `reduced` at their new reduced time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(WRITE_COLUMNS)
    for code in sorted(reduced):
        p = catalog.procedure(code)
        values: dict[str, Any] = {
            "code": p.code, "name": p.name, "field": getattr(p, "field", ""), "level": p.level,
            "prescribed_amount": p.prescribed_amount, "prescribed_unit": p.prescribed_unit.value,
            "reduced_amount": reduced[code], "reduced_unit": p.reduced_unit.value,
            "counting_rule": p.counting_rule.value, "source": source}
        writer.writerow([values[c] for c in WRITE_COLUMNS])
    return out.getvalue()
