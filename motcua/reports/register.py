"""The dossier register (Sổ theo dõi hồ sơ): every daily number a unit hands out has a line.

A unit's daily numbers are the register's line numbers, so none may vanish. A number is
allocated in the same transaction as what it is for (the Idempotency-Key claim of a receipt,
`motcua.services.idempotency`): a duplicate or a request refused before allocation spends none,
and a rolled-back transaction gives its number back. Once the number is out, the receipt may
still fail in the engine: its line stays, marked void with the reason — the struck-through
line of a paper register — never a silent gap. No lock is held while Temporal is called: the
transaction that allocates ends before the receipt is sent to the engine.

Line status: `allocated` (number out, receipt not confirmed yet), `received`, `void`. A line
left `allocated` (the API lost its answer from Temporal) is settled by its events:
`register_lines` reports whether the dossier's stream exists.

The register as people read and file it (`book`, issue 23 item 11) is built here once, for the
API (`GET /v1/reports/register`), the console (`/so-theo-doi`) and their CSV/XLSX files: each
line with the dossier's state in the console's words, the real receipt time, the appointment,
the return and an empty column for the citizen's signature. Its columns follow the register
form "Sổ theo dõi hồ sơ" (Circular 01/2018/TT-VPCP, form 06; form 07 of Circular 03/2025/TT-VPCP
per a third-party list, not verified): see `COLUMNS` and docs/legal-sources.md.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import asyncpg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from domain.catalog import Catalog
from domain.codes import format_code
from domain.states import BEFORE_ACCEPTANCE_STATES as BEFORE_ACCEPTANCE
from domain.states import DossierState
from motcua import exports
from motcua.access.privacy import record_read
from motcua.access.tokens import Principal
from motcua.documents.state_words import STATE_LABELS
from motcua.eventstore.store import Conn, allocate_code_sequence

MAX_REASON = 500


async def allocate(conn: Conn, unit_code: str, day: date, *,
                   allocated_by: str) -> str:
    """The next code of `unit_code` on `day`, with its register line; call it inside the
    transaction that the number belongs to."""
    seq = await allocate_code_sequence(conn, unit_code, day)
    code = format_code(unit_code, day, seq)
    await conn.execute(
        "INSERT INTO dossier_register (unit_code, day, seq, dossier_code, allocated_by) "
        "VALUES ($1, $2, $3, $4, $5)", unit_code, day, seq, code, allocated_by)
    return code


async def allocate_now(pool: asyncpg.Pool, unit_code: str, day: date, *,
                       allocated_by: str) -> str:
    """`allocate` in a transaction of its own (a receipt without an Idempotency-Key)."""
    async with pool.acquire() as conn, conn.transaction():
        return await allocate(conn, unit_code, day, allocated_by=allocated_by)


async def received(pool: asyncpg.Pool | Conn, code: str) -> None:
    """The engine recorded the receipt of `code`."""
    await pool.execute(
        "UPDATE dossier_register SET status = 'received', void_reason = NULL, "
        "updated_at = now() WHERE dossier_code = $1 AND status <> 'received'", code)


async def void(pool: asyncpg.Pool | Conn, code: str, reason: str) -> None:
    """The engine refused the receipt of `code`: its line stays, struck through."""
    await pool.execute(
        "UPDATE dossier_register SET status = 'void', void_reason = $2, updated_at = now() "
        "WHERE dossier_code = $1 AND status = 'allocated'", code, reason[:MAX_REASON] or "-")


async def register_lines(pool: asyncpg.Pool | Conn, unit_code: str,
                         day: date) -> list[asyncpg.Record]:
    """The register of `unit_code` on `day`, in number order, with whether each line's
    dossier has events (settles lines still `allocated`)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT r.seq, r.dossier_code, r.status, r.void_reason, r.allocated_by, "
        "r.allocated_at, EXISTS (SELECT 1 FROM events e WHERE e.stream = r.dossier_code) "
        "AS has_events FROM dossier_register r WHERE r.unit_code = $1 AND r.day = $2 "
        "ORDER BY r.seq", unit_code, day)
    return rows


# -- the register as people read it (issue 23 item 11) ----------------------------------------

# A register line whose number is out but whose dossier is not (yet) known to be received.
VOID_LABEL = "Hủy số"
ALLOCATED_LABEL = "Đã cấp số, chưa xác nhận tiếp nhận"


@dataclass(frozen=True)
class Column:
    """One column of the register: its key in `RegisterLine.cells`, its Vietnamese header,
    whether it holds personal data (shown only to roles that may see it), and where it comes
    from (the form's column, or our addition)."""

    key: str
    header: str
    personal: bool = False
    ours: bool = False


# The form's columns as we read them (Circular 01/2018/TT-VPCP, form 06 "Sổ theo dõi hồ sơ";
# our reading of a form whose full text was not found in the stored copies, corroborated by a
# provincial system's register export: number, code, procedure, applicant, address and phone,
# received, appointment, returned, who received it). "Tình trạng" is ours (the state in the
# console's words); "Chữ ký" is left empty to be signed on the printed book when the citizen
# collects the result; "Ghi chú" holds a void number's reason, a re-appointment and a
# backdated receipt's entry time and reason.
COLUMNS: tuple[Column, ...] = (
    Column("seq", "Số thứ tự"),
    Column("dossier_code", "Mã hồ sơ"),
    Column("procedure", "Tên thủ tục hành chính"),
    Column("applicant_name", "Tên cá nhân, tổ chức", personal=True),
    Column("applicant_contact", "Địa chỉ, số điện thoại", personal=True),
    Column("received_at", "Nhận hồ sơ (giờ, ngày)"),
    Column("received_by", "Người tiếp nhận"),
    Column("appointment", "Hẹn trả kết quả"),
    Column("returned_at", "Trả kết quả (giờ, ngày)"),
    Column("state", "Tình trạng", ours=True),
    Column("signature", "Chữ ký của cá nhân, tổ chức nhận kết quả"),
    Column("note", "Ghi chú"),
)


def columns(personal: bool) -> tuple[Column, ...]:
    """The columns a reader sees: without personal data for roles that may not see it."""
    return tuple(c for c in COLUMNS if personal or not c.personal)


def _time(at: datetime | None, tz: tzinfo) -> str:
    return "" if at is None else at.astimezone(tz).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class RegisterLine:
    """One line of the register: the daily number and what became of it."""

    day: date
    seq: int
    dossier_code: str
    status: str  # the number's line: received, void, allocated (not confirmed)
    state: str | None  # the dossier's state (None: no dossier for the number)
    state_label: str
    procedure_code: str | None
    procedure_name: str | None
    applicant_name: str | None
    applicant_contact: str | None
    channel: str | None
    received_at: datetime | None  # the real receipt (a backdated receipt's, not its entry)
    entered_at: datetime  # when the number was handed out (the receipt was entered)
    received_by: str | None  # login of the clerk who received or accepted it
    received_by_name: str | None
    backdate_reason: str | None
    appointment: datetime | None  # the due time given at receipt
    due_at: datetime | None  # the due time now (differs after an apology/extension)
    returned_at: datetime | None
    ended_at: datetime | None  # refused, withdrawn, stopped: when
    void_reason: str | None
    allocated_by: str

    @property
    def book(self) -> str:
        """The book ("Quyển số") the line is in: one per unit and day."""
        return self.dossier_code.rsplit("-", 1)[0]

    def cells(self, tz: tzinfo) -> dict[str, Any]:
        """The line's cells as the register prints them (times in the office zone `tz`)."""
        note = []
        if self.status == "void" and self.void_reason:
            note.append(f"Lý do hủy số: {self.void_reason}")
        if self.backdate_reason is not None and self.received_at is not None:
            note.append(f"Nhập lùi lúc {_time(self.entered_at, tz)}, lý do: "
                        f"{self.backdate_reason}")
        if self.due_at is not None and self.appointment is not None \
                and self.due_at != self.appointment:
            note.append(f"Hẹn lại: {_time(self.due_at, tz)}")
        state = self.state_label
        if self.ended_at is not None and self.returned_at is None:
            state += f" ({_time(self.ended_at, tz)})"
        return {"seq": self.seq, "dossier_code": self.dossier_code,
                "procedure": self.procedure_name or self.procedure_code or "",
                "applicant_name": self.applicant_name or "",
                "applicant_contact": self.applicant_contact or "",
                "received_at": _time(self.received_at, tz),
                "received_by": self.received_by_name or self.received_by or "",
                "appointment": _time(self.appointment, tz),
                "returned_at": _time(self.returned_at, tz), "state": state, "signature": "",
                "note": "; ".join(note)}


_BOOK_SQL = """
SELECT r.day, r.seq, r.dossier_code, r.status, r.void_reason, r.allocated_by, r.allocated_at,
       f.stream IS NOT NULL AS has_events,
       f.payload->>'procedure_code' AS procedure_code,
       f.payload->>'applicant_name' AS applicant_name,
       f.payload->>'applicant_address' AS applicant_address,
       f.payload->>'applicant_phone' AS applicant_phone,
       f.payload->>'backdate_reason' AS backdate_reason,
       d.state, d.channel, d.received_at, d.original_due_at, d.due_at, d.closed_at,
       rec.actor AS received_by,
       EXISTS (SELECT 1 FROM events w WHERE w.stream = r.dossier_code
               AND w.event_type = 'DossierWithdrawn') AS withdrawn
FROM dossier_register r
LEFT JOIN events f ON f.stream = r.dossier_code AND f.position = 1
LEFT JOIN dossiers d ON d.code = r.dossier_code
LEFT JOIN LATERAL (
    SELECT e.metadata->>'actor' AS actor FROM events e
    WHERE e.stream = r.dossier_code
      AND e.event_type IN ('DossierReceived', 'SubmissionAccepted')
    ORDER BY e.position DESC LIMIT 1) rec ON true
WHERE r.unit_code = $1 AND r.day BETWEEN $2 AND $3
ORDER BY r.day, r.seq
"""


async def book_rows(pool: asyncpg.Pool | Conn, unit_code: str, first: date,
                    last: date) -> list[asyncpg.Record]:
    """What `lines` needs for the register of `unit_code` from `first` to `last` (both
    inclusive): each number's line, its receipt event and the dossier's read model. The clerk
    of an online dossier is the one who accepted it (`SubmissionAccepted`), not the portal
    integration that submitted it."""
    rows: list[asyncpg.Record] = await pool.fetch(_BOOK_SQL, unit_code, first, last)
    return rows


def _label(status: str, state: str | None, *, withdrawn: bool = False) -> str:
    if status == "void":
        return VOID_LABEL
    if state is None:
        return ALLOCATED_LABEL
    # A withdrawal is recorded with the stop notice that answers it (domain/decide.py
    # `_withdraw`, Circular 03/2025/TT-VPCP art. 7: codes 7 then 8), so the read model says
    # "stopped"; the register says why it stopped: the citizen withdrew (issue 23 item 11).
    if withdrawn and state in (DossierState.STOPPED, DossierState.WITHDRAWN):
        return STATE_LABELS[DossierState.WITHDRAWN]
    return STATE_LABELS.get(state, state)


def lines(rows: Iterable[Mapping[str, Any] | asyncpg.Record], *, catalog: Catalog,
          names: Mapping[str, str] | None = None) -> list[RegisterLine]:
    """The register lines of `book_rows`: a line still `allocated` whose dossier has events
    was received (the API lost the engine's answer); the state in the console's words; the
    receiving clerk by full name from `names` (login → full name; a login no user has stays)."""
    known = names or {}
    out = []
    for row in rows:
        status = "received" if row["status"] == "allocated" and row["has_events"] \
            else row["status"]
        state = row["state"] if status != "void" else None
        code = row["procedure_code"]
        contact = ", ".join(v for v in (row["applicant_address"], row["applicant_phone"]) if v)
        ended = state in (DossierState.REFUSED, DossierState.WITHDRAWN, DossierState.STOPPED,
                          DossierState.REFUSED_AT_INTAKE)
        returned = state == DossierState.RETURNED
        clerk = row["received_by"]
        out.append(RegisterLine(
            day=row["day"], seq=row["seq"], dossier_code=row["dossier_code"], status=status,
            state=state, state_label=_label(status, state, withdrawn=bool(
                row.get("withdrawn"))), procedure_code=code,
            procedure_name=catalog.procedures[code].name if code in catalog.procedures
            else None,
            applicant_name=row["applicant_name"], applicant_contact=contact or None,
            channel=row["channel"],
            # A submission not accepted yet has no receipt (the register shows no time).
            received_at=row["received_at"] if state not in BEFORE_ACCEPTANCE else None,
            entered_at=row["allocated_at"], received_by=clerk,
            received_by_name=known.get(clerk, clerk) if clerk else None,
            backdate_reason=row["backdate_reason"],
            appointment=row["original_due_at"], due_at=row["due_at"],
            returned_at=row["closed_at"] if returned else None,
            ended_at=row["closed_at"] if ended else None,
            void_reason=row["void_reason"] if status == "void" else None,
            allocated_by=row["allocated_by"]))
    return out


async def full_names(pool: asyncpg.Pool | Conn, logins: Iterable[str | None]) -> dict[str, str]:
    """login → full name of the console's users among `logins` (disabled users too)."""
    wanted = sorted({login for login in logins if login})
    if not wanted:
        return {}
    rows = await pool.fetch("SELECT username, full_name FROM console_users "
                            "WHERE username = ANY($1::text[])", wanted)
    return {r["username"]: r["full_name"] or r["username"] for r in rows}


async def book(pool: asyncpg.Pool | Conn, unit_code: str, first: date, last: date, *,
               catalog: Catalog) -> list[RegisterLine]:
    """The register of `unit_code` from `first` to `last`, as every interface shows it."""
    rows = await book_rows(pool, unit_code, first, last)
    names = await full_names(pool, (r["received_by"] for r in rows))
    return lines(rows, catalog=catalog, names=names)


# -- files: CSV and XLSX with the form's Vietnamese headers -----------------------------------

TITLE = "SỔ THEO DÕI HỒ SƠ"


def title_lines(unit_name: str, first: date, last: date) -> list[str]:
    """The head of the exported register: unit, title, period."""
    return [unit_name, TITLE, f"Từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"]


def to_csv(found: Sequence[RegisterLine], *, personal: bool, tz: tzinfo) -> str:
    """The register as CSV for people (a spreadsheet): Vietnamese headers, the book
    ("Quyển số") as the first column, times as dd/mm/yyyy; cells that a spreadsheet would run
    are neutralised (`motcua.exports`). Starts with a BOM so Excel reads UTF-8."""
    shown = columns(personal)
    out = io.StringIO()
    writer = exports.csv_writer(out)
    writer.writerow(["Quyển số", *(c.header for c in shown)])
    for line in found:
        cells = line.cells(tz)
        writer.writerow([line.book, *(cells[c.key] for c in shown)])
    return "\ufeff" + out.getvalue()


def to_xlsx(found: Sequence[RegisterLine], *, personal: bool, tz: tzinfo, unit_name: str,
            first: date, last: date) -> bytes:
    """The register as a workbook: the head, one header row in Vietnamese, one row per line
    (numbers as numbers), boxed and wrapped for printing on A4 landscape."""
    shown = columns(personal)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = "Sổ theo dõi hồ sơ"
    for text in title_lines(unit_name, first, last):
        sheet.append(exports.safe_row([text]))
    sheet.cell(row=2, column=1).font = Font(bold=True)
    sheet.append(["Quyển số", *(c.header for c in shown)])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for line in found:
        cells = line.cells(tz)
        sheet.append(exports.safe_row([line.book, *(cells[c.key] for c in shown)]))
    thin = Side(style="thin")
    for number, row in enumerate(sheet.iter_rows(min_row=header, max_row=sheet.max_row,
                                                 max_col=len(shown) + 1)):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if number:  # below the header row
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = {"seq": 8, "dossier_code": 26, "procedure": 36, "applicant_name": 22,
              "applicant_contact": 28, "signature": 18, "note": 30, "state": 18}
    sheet.column_dimensions["A"].width = 22
    for index, column in enumerate(shown, start=2):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(column.key, 17)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def by_day(found: Sequence[RegisterLine], *, personal: bool, tz: tzinfo) -> list[dict[str, Any]]:
    """The lines grouped by day (one book per unit and day), each with its printed cells, for
    the printable register and the console's page."""
    days: list[dict[str, Any]] = []
    for line in found:
        if not days or days[-1]["day"] != line.day:
            days.append({"day": line.day, "date": f"{line.day:%d/%m/%Y}", "book": line.book,
                         "lines": []})
        days[-1]["lines"].append({"status": line.status, "state": line.state or "",
                                  "cells": line.cells(tz)})
    return days


def page_context(found: Sequence[RegisterLine], *, personal: bool, tz: tzinfo,
                 unit_name: str, first: date, last: date, issued: str) -> dict[str, Any]:
    """What the printable register (`motcua.documents.render.render_register`) shows."""
    return {"unit_name": unit_name, "personal": personal, "columns": columns(personal),
            "days": by_day(found, personal=personal, tz=tz),
            "first": f"{first:%d/%m/%Y}", "last": f"{last:%d/%m/%Y}", "issued": issued}


async def record_reads(pool: asyncpg.Pool, principal: Principal,
                       found: Iterable[RegisterLine], what: str) -> None:
    """Record a personal-data read of every dossier whose applicant the register shows."""
    for line in found:
        if line.applicant_name is not None:
            await record_read(pool, principal, line.dossier_code, what)
