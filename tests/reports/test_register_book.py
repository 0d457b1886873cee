"""The register as people read it (issue 23 item 11), built once in `motcua.reports.register`
from its rows: states in the console's words, the real receipt time, the appointment, the
return, the empty signature column, the accepting clerk; CSV and XLSX read back with their
Vietnamese headers. Pure: rows are given as the query returns them, no database."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from typing import Any

import openpyxl

from motcua.catalog.source import load_catalog
from motcua.reports import register

VN = timezone(timedelta(hours=7))
UNIT = "000.21.39.H39"
PROCEDURE = "1.004873"
DAY = date(2026, 1, 5)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=VN)


def row(seq: int, state: str | None, **fields: Any) -> dict[str, Any]:
    """One row as `register.book_rows` returns it."""
    base: dict[str, Any] = {
        "day": DAY, "seq": seq, "dossier_code": f"{UNIT}-260105-{seq:04d}",
        "status": "received", "void_reason": None, "allocated_by": "clerk-1",
        "allocated_at": at(5, 8, seq), "has_events": state is not None,
        "procedure_code": PROCEDURE, "applicant_name": f"Người nộp {seq}",
        "applicant_address": "Số 5 Hoàng Liên", "applicant_phone": "0912345678",
        "backdate_reason": None, "state": state, "channel": "counter",
        "received_at": at(5, 8, seq), "original_due_at": at(7, 17), "due_at": at(7, 17),
        "closed_at": None, "received_by": "clerk-1"}
    return base | fields


ROWS = [
    row(1, "returned", closed_at=at(7, 10)),
    row(2, "refused", closed_at=at(6, 9)),
    row(3, "withdrawn", closed_at=at(6, 11)),
    row(4, "stopped", closed_at=at(6, 15)),
    row(5, "processing", due_at=at(9, 17)),
    # An online dossier: submitted by the portal integration, accepted by clerk-2.
    row(6, "received", channel="online", allocated_by="portal-integration",
        received_by="clerk-2"),
    # Received after hours on the 4th, entered the next morning.
    row(7, "received", received_at=at(4, 17, 20), allocated_at=at(5, 7, 45),
        backdate_reason="Nhận sau giờ làm việc"),
    row(8, None, status="void", void_reason="Temporal từ chối", procedure_code=None,
        applicant_name=None, applicant_address=None, applicant_phone=None, received_at=None,
        original_due_at=None, due_at=None, received_by=None),
    row(9, "submitted", channel="online", allocated_by="portal-integration",
        received_by=None, original_due_at=None, due_at=None),
]
NAMES = {"clerk-1": "Lò Thị Hoa", "clerk-2": "Vàng A Dình"}


def _lines() -> list[register.RegisterLine]:
    return register.lines(ROWS, catalog=load_catalog(), names=NAMES)


def test_states_are_the_consoles_words_not_received() -> None:
    """Returned, refused, withdrawn and stopped dossiers are not "Đã tiếp nhận": each has the
    console's word for its state (an end with its time); a void number says so."""
    cells = [line.cells(VN) for line in _lines()]
    assert [c["state"] for c in cells] == [
        "Đã trả kết quả", "Từ chối (09:00 06/01/2026)", "Công dân rút (11:00 06/01/2026)",
        "Dừng xử lý (15:00 06/01/2026)", "Đang xử lý", "Mới tiếp nhận", "Mới tiếp nhận",
        "Hủy số", "Chờ tiếp nhận"]
    assert not any(c["state"] == "Đã tiếp nhận" for c in cells)


def test_columns_appointment_return_signature_and_clerk() -> None:
    """The appointment given at receipt, the return time only for a returned dossier, an empty
    signature cell, the clerk by full name — for an online dossier the one who accepted it —
    and a re-appointment in the note."""
    cells = [line.cells(VN) for line in _lines()]
    assert cells[0]["appointment"] == "17:00 07/01/2026"
    assert cells[0]["returned_at"] == "10:00 07/01/2026"
    assert [c["returned_at"] for c in cells[1:]] == [""] * 8
    assert {c["signature"] for c in cells} == {""}
    assert cells[0]["received_by"] == "Lò Thị Hoa"
    assert cells[5]["received_by"] == "Vàng A Dình"  # not "portal-integration"
    assert cells[4]["note"] == "Hẹn lại: 17:00 09/01/2026"
    assert cells[8]["received_at"] == ""  # a submission not accepted has no receipt yet
    assert cells[7]["note"] == "Lý do hủy số: Temporal từ chối"
    assert cells[0]["procedure"] == load_catalog().procedure(PROCEDURE).name
    assert cells[0]["applicant_contact"] == "Số 5 Hoàng Liên, 0912345678"


def test_backdated_receipt_shows_the_real_time_and_the_entry() -> None:
    """A receipt entered the next morning shows when it was really received; the note says
    when it was entered and why."""
    cells = _lines()[6].cells(VN)
    assert cells["received_at"] == "17:20 04/01/2026"
    assert cells["note"] == "Nhập lùi lúc 07:45 05/01/2026, lý do: Nhận sau giờ làm việc"


def test_csv_reads_back_with_vietnamese_headers() -> None:
    """The CSV opens with a BOM and the form's Vietnamese headers; without personal data the
    name and address columns are gone and no name appears."""
    text = register.to_csv(_lines(), personal=True, tz=VN)
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert read[0] == ["Quyển số", "Số thứ tự", "Mã hồ sơ", "Tên thủ tục hành chính",
                       "Tên cá nhân, tổ chức", "Địa chỉ, số điện thoại",
                       "Nhận hồ sơ (giờ, ngày)", "Người tiếp nhận", "Hẹn trả kết quả",
                       "Trả kết quả (giờ, ngày)", "Tình trạng",
                       "Chữ ký của cá nhân, tổ chức nhận kết quả", "Ghi chú"]
    assert read[1][:3] == [f"{UNIT}-260105", "1", f"{UNIT}-260105-0001"]
    assert read[1][10] == "Đã trả kết quả" and read[1][11] == ""
    hidden = register.to_csv(_lines(), personal=False, tz=VN)
    header = next(csv.reader(io.StringIO(hidden.lstrip("\ufeff"))))
    assert "Tên cá nhân, tổ chức" not in header and "Người nộp 1" not in hidden


def test_xlsx_reads_back_with_head_headers_and_lines() -> None:
    """The workbook: unit, title and period, then the Vietnamese header row and one row per
    number, numbers as numbers; a cell a spreadsheet would run is neutralised."""
    rows = [*ROWS[:1], row(2, "received", applicant_name="=HYPERLINK(\"x\")")]
    found = register.lines(rows, catalog=load_catalog(), names=NAMES)
    data = register.to_xlsx(found, personal=True, tz=VN, unit_name="UBND xã A",
                            first=DAY, last=DAY)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "UBND xã A" and values[1][0] == "SỔ THEO DÕI HỒ SƠ"
    assert values[2][0] == "Từ ngày 05/01/2026 đến ngày 05/01/2026"
    assert values[3][:4] == ["Quyển số", "Số thứ tự", "Mã hồ sơ", "Tên thủ tục hành chính"]
    assert values[3][-2:] == ["Chữ ký của cá nhân, tổ chức nhận kết quả", "Ghi chú"]
    assert values[4][1] == 1 and values[4][10] == "Đã trả kết quả"
    assert values[5][4] == "'=HYPERLINK(\"x\")"
    assert len(values) == 6
