"""The SLA report laid out as Biểu số 06/VPCP/KSTT, for people to read and file: the console's
board, its CSV and its XLSX (issue 23 items 4 and 10).

The form's structure, as a provincial system that files it prints it (Circular 01/2020/TT-VPCP,
Biểu số 06, "Tình hình, kết quả giải quyết TTHC tại cơ quan, đơn vị trực tiếp giải quyết TTHC";
third-party: HuanVu201/DichVuCong_KhoaLuan_PASETO `XuatBaoCaoTongHop06CacCap.tsx`, see
docs/legal-sources.md §6): STT; "Lĩnh vực, công việc giải quyết theo cấp"; three column groups
- "Số hồ sơ nhận giải quyết": Tổng số, Trong đó (Trực tuyến; Trực tiếp, dịch vụ bưu chính),
  Từ kỳ trước;
- "Số hồ sơ đã giải quyết": Tổng số, Trước hạn, Đúng hạn, Quá hạn;
- "Số hồ sơ đang giải quyết": Tổng số, Trong hạn, Quá hạn;
with numbered columns, rows by field (lĩnh vực), "Đơn vị tính: Số hồ sơ TTHC". After the form's
columns, a group marked as not part of the form holds what motcua adds: the ends without a
result counted in the form's "Đúng hạn"/"Quá hạn" (report definition 2026-12.1), the Decision
766 on-time rate (2.1), our satisfaction rate and the 766 satisfaction index (5.4).

`GET /v1/reports/sla?format=csv` and `motcua report` keep the machine-readable CSV
(`sla.to_csv`: snake_case columns, rates as fractions), for programs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from domain.catalog import Procedure
from motcua import exports
from motcua.reports.sla import COUNTS, Report, Row

FORM = "Biểu số 06/VPCP/KSTT"
FORM_BASIS = "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP ngày 21/10/2020"
TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC"
UNIT_OF_COUNT = "Đơn vị tính: Số hồ sơ TTHC"
NAME_HEADER = "Lĩnh vực, thủ tục hành chính"
NO_FIELD = "Lĩnh vực khác"
EXTRA_GROUP = "Thông tin thêm (không thuộc Biểu 06)"


@dataclass(frozen=True)
class Column:
    """One data column: the report key, its group (first header row), its label, and the
    sub-group between them (Biểu 06's "Trong đó"), if any."""

    key: str
    group: str
    label: str
    sub: str = ""
    rate: bool = False


RECEIVED = "Số hồ sơ nhận giải quyết"
RESOLVED = "Số hồ sơ đã giải quyết"
IN_PROGRESS = "Số hồ sơ đang giải quyết"
COLUMNS: tuple[Column, ...] = (
    Column("received_total", RECEIVED, "Tổng số"),
    Column("received_online", RECEIVED, "Trực tuyến", sub="Trong đó"),
    Column("received_direct_postal", RECEIVED, "Trực tiếp, dịch vụ bưu chính", sub="Trong đó"),
    Column("received_carried_over", RECEIVED, "Từ kỳ trước"),
    Column("resolved_total", RESOLVED, "Tổng số"),
    Column("resolved_early", RESOLVED, "Trước hạn"),
    Column("resolved_on_time", RESOLVED, "Đúng hạn"),
    Column("resolved_late", RESOLVED, "Quá hạn"),
    Column("in_progress_total", IN_PROGRESS, "Tổng số"),
    Column("in_progress_within_time", IN_PROGRESS, "Trong hạn"),
    Column("in_progress_overdue", IN_PROGRESS, "Quá hạn"),
    Column("resolved_without_result", EXTRA_GROUP,
           "Đã giải quyết: trong đó trả lại, rút, dừng (tính ở cột Đúng hạn/Quá hạn)"),
    Column("on_time_rate", EXTRA_GROUP, "Tỷ lệ đúng hạn (QĐ 766, chỉ số 2.1)", rate=True),
    Column("satisfaction_rate", EXTRA_GROUP, "Tỷ lệ hài lòng (theo phiếu đánh giá)", rate=True),
    Column("satisfaction_index", EXTRA_GROUP, "Chỉ số hài lòng (QĐ 766, chỉ số 5.4)", rate=True),
)
FORM_COLUMNS = sum(1 for c in COLUMNS if c.group != EXTRA_GROUP)


def percent(value: float | None) -> str:
    """A rate as Vietnamese write it: 0.955 -> '95,5%'; no denominator -> '—'."""
    return "—" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def header_rows() -> list[list[tuple[str, int, int]]]:
    """The form's three header rows as (text, colspan, rowspan) cells, as an HTML table (and
    the XLSX's merged cells) draws them; STT and the name column span all three rows."""
    first: list[tuple[str, int, int]] = [("STT", 1, 3), (NAME_HEADER, 1, 3)]
    second: list[tuple[str, int, int]] = []
    third: list[tuple[str, int, int]] = []
    groups: dict[str, list[Column]] = {}
    for c in COLUMNS:
        groups.setdefault(c.group, []).append(c)
    for group, cols in groups.items():
        first.append((group, len(cols), 1))
        seen_sub: set[str] = set()
        for c in cols:
            if not c.sub:
                second.append((c.label, 1, 2))
            elif c.sub not in seen_sub:
                seen_sub.add(c.sub)
                second.append((c.sub, sum(1 for x in cols if x.sub == c.sub), 1))
                third.extend((x.label, 1, 1) for x in cols if x.sub == c.sub)
    return [first, second, third]


def numbers_row() -> list[str]:
    """The column numbers under the header, as the form prints them: (1), (2), ..."""
    return [f"({i})" for i in range(1, len(COLUMNS) + 3)]


@dataclass(frozen=True)
class Line:
    """One body line: a field heading, a procedure, a field subtotal or the total."""

    kind: str  # "field" | "procedure" | "subtotal" | "total"
    number: str
    name: str
    values: Mapping[str, Any]


def _sum(rows: list[Row]) -> Row:
    return Row(None, None, *(sum(getattr(r, c) for r in rows) for c in COUNTS))


def lines(report: Report, procedures: Mapping[str, Procedure]) -> list[Line]:
    """The body: per field (lĩnh vực, from the catalog), a heading, its procedures by code with
    their names, and its subtotal; then the total. A code the catalog no longer lists keeps its
    place under "Lĩnh vực khác", named by its code."""
    by_field: dict[str, list[Row]] = {}
    for row in report.rows if report.group_by else []:
        proc = procedures.get(row.procedure_code or "")
        by_field.setdefault((proc.field if proc and proc.field else NO_FIELD), []).append(row)
    out: list[Line] = []
    for index, field in enumerate(sorted(by_field, key=lambda f: (f == NO_FIELD, f)), 1):
        rows = by_field[field]
        out.append(Line("field", _roman(index), field, {}))
        for number, row in enumerate(rows, 1):
            code = row.procedure_code or ""
            proc = procedures.get(code)
            name = f"{code} — {proc.name}" if proc else f"Thủ tục mã {code}"
            out.append(Line("procedure", str(number), name, row.as_dict()))
        out.append(Line("subtotal", "", f"Cộng lĩnh vực {field}", _sum(rows).as_dict()))
    out.append(Line("total", "", "Tổng cộng", report.totals.as_dict()))
    return out


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out, n = out + letters, n - value
    return out


def title_lines(report: Report, unit_name: str) -> list[str]:
    """The form's head: form number and basis, title, period, unit, unit of count."""
    return [FORM, FORM_BASIS, TITLE,
            f"(Từ ngày {report.period_start:%d/%m/%Y} đến ngày {report.period_end:%d/%m/%Y}; "
            f"số liệu tính đến ngày {report.as_of:%d/%m/%Y})",
            f"Đơn vị báo cáo: {unit_name}", UNIT_OF_COUNT]


def footnote(report: Report) -> str:
    """What a reader needs to read the numbers right, with the definition version."""
    return ("Hồ sơ bị trả lại (từ chối sau khi tiếp nhận), rút hoặc dừng giải quyết được tính "
            "là đã giải quyết: Đúng hạn nếu kết thúc không muộn hơn ngày hẹn, Quá hạn nếu muộn "
            "hơn, không bao giờ là Trước hạn; số hồ sơ này được nêu riêng ở cột "
            f"({FORM_COLUMNS + 3}). Định nghĩa báo cáo phiên bản "
            f"{report.definition['version']} ({_zone_words(report.definition.get('timezone'))}).")


# The report's time zone as a reader says it; an IANA name only for a zone not listed here.
_ZONE_WORDS = {"Asia/Ho_Chi_Minh": "giờ Việt Nam, UTC+7"}


def _zone_words(zone: object) -> str:
    return _ZONE_WORDS.get(str(zone), f"múi giờ {zone}")


def _cell(column: Column, values: Mapping[str, Any]) -> Any:
    value = values.get(column.key)
    return "" if value is None else value


def to_csv(report: Report, procedures: Mapping[str, Procedure], unit_name: str) -> str:
    """The form as CSV: head lines, the three header rows (group headers repeated over the
    columns they span, so each column reads whole), the column numbers, the body, the note;
    rates as percentages ('95,5%')."""
    out = io.StringIO()
    writer = exports.csv_writer(out)
    width = len(COLUMNS) + 2
    for text in title_lines(report, unit_name):
        writer.writerow([text] + [""] * (width - 1))
    first = ["STT", NAME_HEADER, *(c.group for c in COLUMNS)]
    second = ["", "", *(c.sub or c.label for c in COLUMNS)]
    third = ["", "", *(c.label if c.sub else "" for c in COLUMNS)]
    writer.writerows([first, second, third, numbers_row()])
    for line in lines(report, procedures):
        cells = [_render(c, line.values) for c in COLUMNS] if line.values else [""] * len(COLUMNS)
        writer.writerow([line.number, line.name, *cells])
    writer.writerow([footnote(report)] + [""] * (width - 1))
    return out.getvalue()


def _render(column: Column, values: Mapping[str, Any]) -> Any:
    value = values.get(column.key)
    return percent(value) if column.rate else ("" if value is None else value)


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def to_xlsx(report: Report, procedures: Mapping[str, Procedure], unit_name: str) -> bytes:
    """The form as a workbook: the head, the header rows with merged group cells, numbered
    columns, the body by field with subtotals and the total, the note; counts as numbers,
    rates as numbers shown as percentages (format 0.0%)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Biểu 06"
    width = len(COLUMNS) + 2
    heads = title_lines(report, unit_name)
    for text in heads:
        sheet.append(exports.safe_row([text]))
    for r in (1, 2, 3):
        sheet.cell(row=r, column=1).font = Font(bold=True)
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
    sheet.cell(row=3, column=1).alignment = Alignment(horizontal="center")
    top = len(heads) + 1
    for offset, heads_row in enumerate(header_rows()):
        row = top + offset
        column = 1
        for text, span, down in heads_row:
            while _merged(sheet, row, column):
                column += 1
            target = sheet.cell(row=row, column=column, value=text)
            target.font = Font(bold=True)
            target.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if span > 1 or down > 1:
                sheet.merge_cells(start_row=row, start_column=column,
                                  end_row=row + down - 1, end_column=column + span - 1)
            column += span
    sheet.append(numbers_row())
    body_start = sheet.max_row + 1
    for line in lines(report, procedures):
        values = [_cell(c, line.values) for c in COLUMNS] if line.values else []
        sheet.append(exports.safe_row([line.number, line.name, *values]))
        if line.kind != "procedure":
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for boxed in sheet.iter_rows(min_row=top, max_row=sheet.max_row, max_col=width):
        for each in boxed:
            each.border = _BOX
    for body in sheet.iter_rows(min_row=body_start, max_row=sheet.max_row):
        for spec, each in zip(COLUMNS, body[2:], strict=False):
            if spec.rate:
                each.number_format = "0.0%"
    sheet.append(exports.safe_row([footnote(report)]))
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 48
    for index in range(3, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 12
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _merged(sheet: Any, row: int, column: int) -> bool:
    return any(r.min_row <= row <= r.max_row and r.min_col <= column <= r.max_col
               and (r.min_row, r.min_col) != (row, column)
               for r in sheet.merged_cells.ranges)


def html_table(report: Report, procedures: Mapping[str, Procedure]) -> dict[str, Any]:
    """What the board's template draws: header rows, column numbers, the body lines with each
    cell's text, and the note."""
    def show(column: Column, values: Mapping[str, Any]) -> str:
        value = values.get(column.key)
        if column.rate:
            return percent(value)
        return "—" if value is None else str(value)

    return {"headers": header_rows(), "numbers": numbers_row(),
            "columns": COLUMNS, "form_columns": FORM_COLUMNS,
            "lines": [{"kind": ln.kind, "number": ln.number, "name": ln.name,
                       "cells": [show(c, ln.values) for c in COLUMNS] if ln.values else []}
                      for ln in lines(report, procedures)],
            "note": footnote(report)}

