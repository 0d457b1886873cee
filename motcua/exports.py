"""Spreadsheet cells that cannot run: every CSV and XLSX motcua writes passes its cells here.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)` sends the reader's data away;
DDE formulas run programs). Applicant names, unit and procedure codes and catalog texts come
from outside, so each such cell gets a leading apostrophe, which spreadsheets show as text and
hide (OWASP, "CSV Injection"; issue 24, point 4). Only text is touched: a number stays a number
(a negative count in an XLSX is a number cell, not a formula), and `None` stays empty.

Writers: the register CSV and SLA CSV (`/v1/reports/...`, `motcua report`), the console's Biểu
06 CSV and XLSX, the what-if CSV (API and CLI), and catalog files (`motcua catalog export`,
`motcua whatif recommend --output`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through `safe_cell`."""
    return [safe_cell(v) for v in values]


class SafeWriter:
    """`csv.writer` whose rows pass through `safe_row`."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(safe_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def csv_writer(out: IO[str], *, lineterminator: str = "\r\n") -> SafeWriter:
    """A CSV writer (RFC 4180 line ends by default) that neutralises formula cells."""
    return SafeWriter(out, lineterminator=lineterminator)
