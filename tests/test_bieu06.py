"""Issue 23 items 4 and 10: the console's Biểu 06 CSV and XLSX, opened and read back, look like
the form (Vietnamese headers under their group headers, rows by field with procedure names,
rates as percentages) and show the ends without a result apart (definition 2026-12.1)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl

from motcua.catalog.source import load_catalog
from motcua.reports import bieu06
from motcua.reports.sla import DEFINITION_VERSION, Report, Row

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
UNIT = "000.21.39.H39"


def _report() -> Report:
    """Two procedures of two fields and one the catalog no longer lists; refusals and
    withdrawals among the resolved."""
    rows = [
        Row(UNIT, "1.004222", received_direct_postal=7, received_online=3, resolved_early=4,
            resolved_on_time=1, closed_on_time=2, closed_late=1, in_progress_overdue=1,
            rated_satisfied=3, rated_not_satisfied=1),
        Row(UNIT, "1.001193", received_direct_postal=2, resolved_on_time=2),
        Row(UNIT, "9.999999", received_carried_over=1),
    ]
    totals = Row(UNIT, None, *(sum(getattr(r, c) for r in rows) for c in
                               ("received_online", "received_direct_postal",
                                "received_carried_over", "resolved_early", "resolved_on_time",
                                "resolved_late", "in_progress_overdue", "rated_very_satisfied",
                                "rated_satisfied", "rated_not_satisfied",
                                "complained_or_not_satisfied", "closed_on_time",
                                "closed_late")))
    return Report(period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
                  as_of=date(2027, 1, 2), unit=UNIT, procedure=None, group_by=("procedure",),
                  rows=rows, totals=totals,
                  definition={"version": DEFINITION_VERSION, "timezone": "Asia/Ho_Chi_Minh"})


def test_rows_count_closed_ends_under_on_time_and_late_never_early() -> None:
    """A refusal or withdrawal by the due date is counted under "Đúng hạn" (never "Trước
    hạn"), one after it under "Quá hạn", and all of them apart; the totals still add up."""
    row = _report().rows[0].as_dict()
    assert row["resolved_early"] == 4
    assert row["resolved_on_time"] == 1 + 2
    assert row["resolved_late"] == 1
    assert row["resolved_without_result"] == 3
    assert row["resolved_total"] == 8
    assert row["received_total"] == row["resolved_total"] + row["in_progress_total"]
    assert DEFINITION_VERSION == "2026-12.1"


def test_console_csv_reads_back_as_the_form() -> None:
    """Head, three header rows with the groups over their columns, numbered columns, fields
    with procedure names, subtotals and the total; rates as percentages; no snake_case."""
    catalog = load_catalog()
    text = bieu06.to_csv(_report(), catalog.procedures, "UBND xã thử nghiệm")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][0] == "Biểu số 06/VPCP/KSTT"
    assert "01/2020/TT-VPCP" in rows[1][0]
    assert rows[3][0].startswith("(Từ ngày 01/12/2026 đến ngày 31/12/2026")
    head = next(i for i, r in enumerate(rows) if r[0] == "STT")
    groups, labels, subs = rows[head], rows[head + 1], rows[head + 2]
    column: dict[tuple[str, str], int] = {}
    for i, (g, lab, s) in enumerate(zip(groups, labels, subs, strict=True)):
        column.setdefault((g, lab or s), i)
    assert column[("Số hồ sơ nhận giải quyết", "Trong đó")] == 3
    assert subs[3:5] == ["Trực tuyến", "Trực tiếp, dịch vụ bưu chính"]
    early = column[("Số hồ sơ đã giải quyết", "Trước hạn")]
    on_time = column[("Số hồ sơ đã giải quyết", "Đúng hạn")]
    late_resolved = column[("Số hồ sơ đã giải quyết", "Quá hạn")]
    overdue = column[("Số hồ sơ đang giải quyết", "Quá hạn")]
    within = column[("Số hồ sơ đang giải quyết", "Trong hạn")]
    assert len({early, on_time, late_resolved, overdue, within}) == 5
    assert rows[head + 3][:3] == ["(1)", "(2)", "(3)"]
    every_header = " ".join(c for r in rows[:head + 3] for c in r)
    assert not SNAKE.search(every_header), SNAKE.findall(every_header)
    body = {r[1]: r for r in rows[head + 4:] if len(r) > 2}
    residence = next(r for name, r in body.items() if name.startswith("1.004222 — "))
    assert "thường trú" in residence[1].lower()
    assert residence[early] == "4" and residence[on_time] == "3"
    assert residence[late_resolved] == "1"
    without = groups.index(bieu06.EXTRA_GROUP)
    assert residence[without] == "3"
    rate = column[(bieu06.EXTRA_GROUP, "Tỷ lệ đúng hạn (QĐ 766, chỉ số 2.1)")]
    # (4 early + 3 on time + 1 in progress within time) / 10 received
    assert residence[rate] == "80,0%"
    satisfaction = column[(bieu06.EXTRA_GROUP, "Tỷ lệ hài lòng (theo phiếu đánh giá)")]
    assert residence[satisfaction] == "75,0%"
    field = catalog.procedures["1.004222"].field
    assert [field] == [r[1] for r in rows if r[1] == field]  # a field heading
    assert f"Cộng lĩnh vực {field}" in body
    assert "Thủ tục mã 9.999999" in body and "Lĩnh vực khác" in [r[1] for r in rows]
    assert body["Tổng cộng"][2] == "13"
    assert "2026-12.1" in rows[-1][0] and "Trước hạn" in rows[-1][0]


def test_console_xlsx_reads_back_as_the_form() -> None:
    """The workbook: merged group headers, Vietnamese labels, counts as numbers and rates as
    numbers formatted as percentages."""
    catalog = load_catalog()
    book = openpyxl.load_workbook(io.BytesIO(
        bieu06.to_xlsx(_report(), catalog.procedures, "UBND xã thử nghiệm")))
    sheet = book["Biểu 06"]
    assert sheet["A1"].value == "Biểu số 06/VPCP/KSTT"
    head = next(c.row for c in sheet["A"] if c.value == "STT")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    top = [c.value for c in sheet[head]]
    start = top.index("Số hồ sơ nhận giải quyết") + 1
    assert any(r.startswith(f"{openpyxl.utils.get_column_letter(start)}{head}:") for r in merged)
    assert top.count("Số hồ sơ đã giải quyết") == 1 and "Số hồ sơ đang giải quyết" in top
    second = [c.value for c in sheet[head + 1]]
    third = [c.value for c in sheet[head + 2]]
    assert "Trước hạn" in second and "Trong hạn" in second and "Trong đó" in second
    assert "Trực tuyến" in third
    texts = " ".join(str(c.value) for row in sheet.iter_rows(max_row=head + 2) for c in row
                     if c.value)
    assert not SNAKE.search(texts), SNAKE.findall(texts)
    line = next(r for r in sheet.iter_rows(min_row=head + 3) if str(r[1].value).startswith(
        "1.004222 — "))
    rate_col = bieu06.COLUMNS.index(next(c for c in bieu06.COLUMNS if c.key == "on_time_rate"))
    rate = line[2 + rate_col]
    assert rate.value == 0.8 and rate.number_format == "0.0%"
    assert line[2].value == 10 and line[2].data_type == "n"


def test_footnote_says_the_time_zone_in_words() -> None:
    """A leader reads "giờ Việt Nam", not the IANA identifier (walk of issue 23)."""
    note = bieu06.footnote(_report())
    assert "giờ Việt Nam, UTC+7" in note and "Asia/Ho_Chi_Minh" not in note
    assert DEFINITION_VERSION in note
