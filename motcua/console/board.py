"""`/bao-cao`: the SLA board for leaders and operations: Biểu 06 for a unit and period and the
Decision 766 on-time rate (both from `motcua.reports`, the same numbers as
`GET /v1/reports/sla`), overdue and due-today lists, load per officer; CSV and XLSX downloads.
No applicant data appears here, so the ops role may see all of it."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from openpyxl import Workbook

from domain.states import DossierState
from motcua import reports
from motcua.api.tokens import Role
from motcua.api.views import summary
from motcua.console.queue import names, rows
from motcua.console.users import Session
from motcua.console.web import (
    SECURITY_HEADERS,
    ConsoleError,
    page,
    require_role,
    resources,
    staff,
)

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
OPEN = [s.value for s in DossierState if s not in (
    DossierState.READY, *[t for t in DossierState if t.is_terminal])]
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

# Biểu 06 columns with the names the form prints (Circular 01/2020/TT-VPCP, Biểu số 06).
COLUMN_LABELS: dict[str, str] = {
    "procedure_code": "Thủ tục",
    "received_total": "Tổng số hồ sơ tiếp nhận",
    "received_online": "Trực tuyến",
    "received_direct_postal": "Trực tiếp, bưu chính",
    "received_carried_over": "Kỳ trước chuyển qua",
    "resolved_total": "Đã giải quyết",
    "resolved_early": "Trước hạn",
    "resolved_on_time": "Đúng hạn",
    "resolved_late": "Quá hạn",
    "in_progress_total": "Đang giải quyết",
    "in_progress_within_time": "Trong hạn",
    "in_progress_overdue": "Quá hạn",
    "on_time_rate": "Tỷ lệ đúng hạn (QĐ 766)",
    "satisfaction_rate": "Tỷ lệ hài lòng",
}


def _period(tu: str, den: str, tz: tzinfo) -> tuple[date, date]:
    today = datetime.now(tz).date()
    try:
        start = date.fromisoformat(tu) if tu else today.replace(day=1)
        end = date.fromisoformat(den) if den else today
    except ValueError:
        raise ConsoleError(422, "Ngày không hợp lệ (định dạng YYYY-MM-DD).") from None
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        raise ConsoleError(422, f"Kỳ báo cáo phải nằm trong {EARLIEST}–{LATEST}.")
    if end < start:
        raise ConsoleError(422, "Ngày kết thúc không được trước ngày bắt đầu.")
    return start, end


def _unit(current: Session, donvi: str) -> str | None:
    if current.user.unit_code is not None:
        if donvi and donvi != current.user.unit_code:
            raise ConsoleError(403, "Bạn chỉ xem được báo cáo của đơn vị mình.")
        return current.user.unit_code
    return donvi or None


async def _report(request: Request, current: Session, tu: str, den: str,
                  donvi: str) -> reports.Report:
    require_role(current, Role.LEADER, Role.OPS, what="xem bảng SLA")
    tz = resources(request).calendar.tz  # the office time zone
    start, end = _period(tu, den, tz)
    return await reports.sla_report(resources(request).db(), period_start=start,
                                    period_end=end, unit=_unit(current, donvi),
                                    group_by=("procedure",), tz=tz)


def _percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@router.get("/bao-cao", response_class=HTMLResponse)
async def board(request: Request, current: Staff,
                tu: Annotated[str, Query(max_length=10)] = "",
                den: Annotated[str, Query(max_length=10)] = "",
                donvi: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    report = await _report(request, current, tu, den, donvi)
    unit = report.unit
    pool = resources(request).db()
    tz = resources(request).calendar.tz  # the office time zone
    today = datetime.now(tz).date()
    day_start = datetime.combine(today, time(0), tz)
    base = ("SELECT code, state, status_code, sla_status, unit_code, procedure_code, channel, "
            "assignee, received_at, due_at FROM dossiers WHERE state = ANY($1::text[]) "
            "AND ($2::text IS NULL OR unit_code = $2) ")
    overdue = await pool.fetch(base + "AND sla_status = 'overdue' ORDER BY due_at LIMIT 50",
                               OPEN, unit)
    due_today = await pool.fetch(
        base + "AND due_at >= $3 AND due_at < $4 ORDER BY due_at LIMIT 50", OPEN, unit,
        day_start, day_start + timedelta(days=1))
    load = await pool.fetch(
        "SELECT assignee, count(*) AS open, "
        "count(*) FILTER (WHERE sla_status = 'overdue') AS overdue, "
        "count(*) FILTER (WHERE sla_status = 'due_soon') AS due_soon FROM dossiers "
        "WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR unit_code = $2) "
        "GROUP BY assignee ORDER BY count(*) DESC, assignee NULLS FIRST", OPEN, unit)
    shown = await names(request)
    units = sorted(resources(request).catalog.units.values(), key=lambda u: u.code)
    return page(request, "board.html", report=report, totals=report.totals.as_dict(),
                lines=[r.as_dict() for r in report.rows], columns=COLUMN_LABELS,
                percent=_percent, overdue=rows(request, [summary(r) for r in overdue], shown),
                due_today=rows(request, [summary(r) for r in due_today], shown),
                load=[{"who": shown.get(r["assignee"], r["assignee"]) if r["assignee"]
                       else "Chưa phân công", "open": r["open"], "overdue": r["overdue"],
                       "due_soon": r["due_soon"]} for r in load],
                tu=report.period_start.isoformat(), den=report.period_end.isoformat(),
                donvi=unit or "", units=units, fixed_unit=current.user.unit_code)


@router.get("/bao-cao/bieu-06.csv")
async def board_csv(request: Request, current: Staff,
                    tu: Annotated[str, Query(max_length=10)] = "",
                    den: Annotated[str, Query(max_length=10)] = "",
                    donvi: Annotated[str, Query(max_length=64)] = "") -> Response:
    report = await _report(request, current, tu, den, donvi)
    name = f"bieu-06-{report.period_start}-{report.period_end}.csv"
    return Response("\ufeff" + reports.to_csv(report), media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS,
                             "Content-Disposition": f'attachment; filename="{name}"'})


def to_xlsx(report: reports.Report) -> bytes:
    """The report as a workbook: one sheet, a header row of Vietnamese column names, one row
    per procedure and a total row; rates as percentages."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Biểu 06"
    sheet.append([f"Biểu 06 — kỳ {report.period_start:%d/%m/%Y}–{report.period_end:%d/%m/%Y}"
                  f" — đơn vị {report.unit or 'tất cả'} — tính đến {report.as_of:%d/%m/%Y}"])
    keys = list(reports.COLUMNS)
    sheet.append([COLUMN_LABELS.get(k, k) for k in keys])
    lines = [r.as_dict() for r in report.rows] if report.group_by else []
    for values in [*lines, {**report.totals.as_dict(), "procedure_code": "Tổng cộng"}]:
        sheet.append([values[k] for k in keys])
    for row in sheet.iter_rows(min_row=3):
        for key, cell in zip(keys, row, strict=False):
            if key.endswith(("_rate", "_index")):
                cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/bao-cao/bieu-06.xlsx")
async def board_xlsx(request: Request, current: Staff,
                     tu: Annotated[str, Query(max_length=10)] = "",
                     den: Annotated[str, Query(max_length=10)] = "",
                     donvi: Annotated[str, Query(max_length=64)] = "") -> Response:
    report = await _report(request, current, tu, den, donvi)
    name = f"bieu-06-{report.period_start}-{report.period_end}.xlsx"
    return Response(to_xlsx(report), media_type="application/vnd.openxmlformats-"
                    "officedocument.spreadsheetml.sheet",
                    headers={**SECURITY_HEADERS,
                             "Content-Disposition": f'attachment; filename="{name}"'})
