"""`/bao-cao`: the SLA board for leaders and operations: Biểu 06 for a unit and period and the
Decision 766 on-time rate (both from `motcua.reports.sla`, the same numbers as
`GET /v1/reports/sla`), overdue and due-today lists, load per officer; CSV and XLSX downloads.
No applicant data appears here, so the ops role may see all of it.

`/bao-cao/gia-dinh`: the policy what-if of a cut for leaders (issue 15), the same computation as
`GET /v1/reports/whatif` (`motcua.services.whatif.run_cut`), scoped to the leader's unit."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from domain.catalog import Catalog
from domain.states import DossierState
from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console.queue import names, rows
from motcua.console.web import (
    SECURITY_HEADERS,
    ConsoleError,
    now,
    page,
    parse_day,
    require_role,
    resources,
    staff,
)
from motcua.eventstore.due import status_sql
from motcua.reports import bieu06
from motcua.reports import sla as reports
from motcua.reports import steps as step_reports
from motcua.services.checks import unknown_code
from motcua.services.views import summary
from motcua.services.whatif import DB_ERRORS, Busy, run_cut
from motcua.whatif import catalogs as whatif_catalog
from motcua.whatif import simulate as whatif

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
OPEN = [s.value for s in DossierState if s not in (
    DossierState.READY, *[t for t in DossierState if t.is_terminal])]
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

def _period(tu: str, den: str, tz: tzinfo) -> tuple[date, date]:
    today = datetime.now(tz).date()
    try:
        # dd/mm/yyyy as typed, or ISO from a link (issue 23 item 14)
        start = parse_day(tu) if tu else today.replace(day=1)
        end = parse_day(den) if den else today
    except ValueError:
        raise ConsoleError(422, "Ngày không hợp lệ (định dạng ngày/tháng/năm, "
                           "ví dụ 05/01/2026).") from None
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        raise ConsoleError(422, f"Kỳ báo cáo phải nằm trong {EARLIEST}–{LATEST}.")
    if end < start:
        raise ConsoleError(422, "Ngày kết thúc không được trước ngày bắt đầu.")
    return start, end


async def _unit(request: Request, current: Session, donvi: str) -> str | None:
    """The unit a report is limited to: the user's own, or `donvi` when it is a unit of the
    catalog (it is echoed into the Biểu 06 files, issue 24 point 4)."""
    if current.user.unit_code is not None:
        if donvi and donvi != current.user.unit_code:
            raise ConsoleError(403, "Bạn chỉ xem được báo cáo của đơn vị mình.")
        return current.user.unit_code
    res = resources(request)
    if donvi and await unknown_code(res.db(), res.catalog, unit=donvi):
        raise ConsoleError(422, "Không có đơn vị này trong danh mục.")
    return donvi or None


async def _report(request: Request, current: Session, tu: str, den: str,
                  donvi: str) -> reports.Report:
    require_role(current, Role.LEADER, Role.OPS, what="xem bảng SLA")
    tz = resources(request).calendar.tz  # the office time zone
    start, end = _period(tu, den, tz)
    return await reports.sla_report(resources(request).db(), period_start=start,
                                    period_end=end, unit=await _unit(request, current, donvi),
                                    group_by=("procedure",), tz=tz)


def _percent(value: Any) -> str:
    return bieu06.percent(value)


def _unit_name(request: Request, unit: str | None) -> str:
    """The unit the report covers, by name (the catalog's), for the form's head."""
    if unit is None:
        return "Tất cả đơn vị"
    found = resources(request).catalog.units.get(unit)
    return f"{found.name} ({unit})" if found else unit


@router.get("/bao-cao", response_class=HTMLResponse)
async def board(request: Request, current: Staff,
                tu: Annotated[str, Query(max_length=10)] = "",
                den: Annotated[str, Query(max_length=10)] = "",
                donvi: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    report = await _report(request, current, tu, den, donvi)
    unit = report.unit
    pool = resources(request).db()
    tz = resources(request).calendar.tz  # the office time zone
    at = now()
    today = at.astimezone(tz).date()
    day_start = datetime.combine(today, time(0), tz)
    # Overdue and due soon from the due instants and the clock (`domain.due`), at one instant.
    status = status_sql("$3")
    base = (f"SELECT code, state, status_code, {status} AS sla_status, unit_code, "
            "holding_unit_code, procedure_code, channel, assignee, received_at, due_at "
            "FROM dossiers "
            "WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR unit_code = $2 "
            "OR holding_unit_code = $2) ")
    overdue = await pool.fetch(
        base + f"AND {status} = 'overdue' ORDER BY judged_due_at, code LIMIT 50", OPEN, unit,
        at)
    due_today = await pool.fetch(
        base + "AND due_at >= $4 AND due_at < $5 ORDER BY due_at LIMIT 50", OPEN, unit, at,
        day_start, day_start + timedelta(days=1))
    load = await pool.fetch(
        "SELECT assignee, count(*) AS open, "
        f"count(*) FILTER (WHERE {status} = 'overdue') AS overdue, "
        f"count(*) FILTER (WHERE {status} = 'due_soon') AS due_soon FROM dossiers "
        "WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR unit_code = $2 "
        "OR holding_unit_code = $2) "
        "GROUP BY assignee ORDER BY count(*) DESC, assignee NULLS FIRST", OPEN, unit, at)
    shown = await names(request)
    units = sorted(resources(request).catalog.units.values(), key=lambda u: u.code)
    # Who made it late (issue 22 item 5): the internal-procedure steps of the period, per
    # unit and per officer, the same numbers as `GET /v1/reports/steps`.
    step_args: dict[str, Any] = {"period_start": report.period_start,
                                 "period_end": report.period_end, "unit": unit, "tz": tz,
                                 "now": at}
    by_unit = await step_reports.steps_report(pool, group_by="unit", **step_args)
    by_officer = await step_reports.steps_report(pool, group_by="officer", **step_args)
    catalog_units = resources(request).catalog.units

    def step_line(r: step_reports.Row) -> dict[str, Any]:
        found = catalog_units.get(r.unit_code or "")
        who = (shown.get(r.officer, r.officer) if r.officer
               else f"Chưa giao đích danh ({ROLE_NAMES.get(r.role or '', r.role or '')})")
        return {**r.as_dict(), "unit": found.name if found else (r.unit_code or ""),
                "who": who, "late_rate": _percent(r.as_dict()["late_rate"])}

    return page(request, "board.html", report=report, totals=report.totals.as_dict(),
                form=bieu06.html_table(report, resources(request).catalog.procedures),
                unit_name=_unit_name(request, unit), percent=_percent,
                overdue=rows(request, [summary(r) for r in overdue], shown),
                due_today=rows(request, [summary(r) for r in due_today], shown),
                load=[{"who": shown.get(r["assignee"], r["assignee"]) if r["assignee"]
                       else "Chưa phân công", "open": r["open"], "overdue": r["overdue"],
                       "due_soon": r["due_soon"]} for r in load],
                steps_by_unit=[step_line(r) for r in by_unit.rows],
                steps_by_officer=[step_line(r) for r in by_officer.rows],
                tu=report.period_start.isoformat(), den=report.period_end.isoformat(),
                donvi=unit or "", units=units, fixed_unit=current.user.unit_code)


# The catalog's step roles, as the board names a step held by no named person.
ROLE_NAMES = {"clerk": "công chức một cửa", "officer": "chuyên viên", "leader": "lãnh đạo",
              "records_clerk": "văn thư"}


@router.get("/bao-cao/bieu-06.csv")
async def board_csv(request: Request, current: Staff,
                    tu: Annotated[str, Query(max_length=10)] = "",
                    den: Annotated[str, Query(max_length=10)] = "",
                    donvi: Annotated[str, Query(max_length=64)] = "") -> Response:
    report = await _report(request, current, tu, den, donvi)
    name = f"bieu-06-{report.period_start}-{report.period_end}.csv"
    body = bieu06.to_csv(report, resources(request).catalog.procedures,
                         _unit_name(request, report.unit))
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS,
                             "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/bao-cao/bieu-06.xlsx")
async def board_xlsx(request: Request, current: Staff,
                     tu: Annotated[str, Query(max_length=10)] = "",
                     den: Annotated[str, Query(max_length=10)] = "",
                     donvi: Annotated[str, Query(max_length=64)] = "") -> Response:
    report = await _report(request, current, tu, den, donvi)
    name = f"bieu-06-{report.period_start}-{report.period_end}.xlsx"
    body = bieu06.to_xlsx(report, resources(request).catalog.procedures,
                          _unit_name(request, report.unit))
    return Response(body, media_type="application/vnd.openxmlformats-"
                    "officedocument.spreadsheetml.sheet",
                    headers={**SECURITY_HEADERS,
                             "Content-Disposition": f'attachment; filename="{name}"'})


# -- the policy what-if (issue 15) -----------------------------------------------------------

MAX_CUT = 90  # percent: beyond that a "cut" is a different procedure
FLIPS_SHOWN = 10  # flipped dossier codes listed per procedure (the counts are complete)
MAX_CODES = 100
_CODES = re.compile(r"[\s,;]+")
_CODE = re.compile(r"[0-9A-Za-z._-]{1,40}")
TIME_UNITS = {"working_days": "ngày làm việc", "calendar_days": "ngày",
              "working_hours": "giờ làm việc", "same_day": "trong ngày", "months": "tháng"}


def _cut(cat: str) -> float:
    try:
        value = float(cat.strip().replace(",", "."))
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_CUT:  # also refuses nan and inf
        raise ConsoleError(422, f"Tỷ lệ cắt giảm phải là một số từ 0 đến {MAX_CUT} (%).")
    return value


def _codes(thutuc: str) -> list[str]:
    codes = list(dict.fromkeys(c for c in _CODES.split(thutuc) if c))
    if len(codes) > MAX_CODES or not all(_CODE.fullmatch(c) for c in codes):
        raise ConsoleError(422, f"Mã thủ tục không hợp lệ (tối đa {MAX_CODES} mã, cách nhau "
                           "bởi dấu phẩy hoặc khoảng trắng, ví dụ 1.004222).")
    return codes


def _time_label(label: str) -> str:
    """'7 working_days' (`whatif.Clock.label`) in Vietnamese: '7 ngày làm việc'."""
    amount, _, unit = label.partition(" ")
    return f"{amount} {TIME_UNITS.get(unit, unit)}"


def _cut_label(before: int, after: int) -> str:
    """The cut a new time actually makes, e.g. '−43%' for 7 → 4, 'không đổi' for none."""
    if after == before:
        return "không đổi"
    return f"−{round((before - after) * 100 / before)}%"


def _preview(catalog: Catalog, percent: float, codes: list[str]) -> list[dict[str, Any]]:
    """The times the leader is about to simulate, before running it: per chosen procedure
    (all when none is given) its name, the time in force, the time under the cut and the cut
    that time really makes (`whatif.cut_amount`: rounded down, so at least `percent`)."""
    baseline = whatif.in_force(catalog)
    proposed = whatif.cut_policy(baseline, percent, codes)
    out = []
    for code in codes or sorted(baseline):
        before, after = baseline[code], proposed[code]
        proc = catalog.procedures[code]
        out.append({"code": code, "name": proc.name, "field": proc.field,
                    "time_now": _time_label(before.label()),
                    "time_cut": _time_label(after.label()),
                    "actual": _cut_label(before.amount, after.amount)})
    return out


def _points(value: Any) -> str:
    return "—" if value is None else f"{value * 100:+.1f} điểm %"


def _whatif_message(err: whatif.WhatIfError) -> str:
    text = str(err)
    unknown = "unknown procedure code(s): "
    if text.startswith(unknown):
        return ("Mã thủ tục không có trong danh mục đang áp dụng: "
                + text.removeprefix(unknown) + ".")
    return f"Không chạy được mô phỏng: {text}"


def _whatif_view(result: whatif.Result) -> dict[str, Any]:
    """The result as the template shows it: one line per procedure (and unit) with its times,
    rates and the first dossiers that turn late under the cut; the total line."""
    policy = {p["procedure_code"]: p for p in result.policy}
    late = {whatif.CLASSES[whatif.LATE], whatif.CLASSES[whatif.OVERDUE]}
    flipped: dict[tuple[str, str], list[str]] = {}
    for f in result.flips:
        if f["simulated"] in late:
            flipped.setdefault((f["procedure_code"], f["unit_code"]), []).append(f["code"])
    lines = []
    for row in result.rows():
        times = policy.get(row["procedure_code"])
        actual = ""
        if times:
            before, after = (int(str(times[k]).split(" ", 1)[0]) for k in ("baseline",
                                                                          "proposed"))
            actual = _cut_label(before, after)
        lines.append({**row, "flipped": flipped.get((row["procedure_code"], row["unit_code"]),
                                                    [])[:FLIPS_SHOWN],
                      "time_now": _time_label(times["baseline"]) if times else "không đổi",
                      "time_cut": _time_label(times["proposed"]) if times else "không đổi",
                      "actual": actual})
    return {"lines": lines, "totals": result.totals().as_dict(),
            "flip_count": result.flip_count, "differs_count": result.differs_count,
            "skipped_count": result.skipped_count, "as_of": result.as_of}


@router.get("/bao-cao/gia-dinh", response_class=HTMLResponse)
async def whatif_board(request: Request, current: Staff,
                       tu: Annotated[str, Query()] = "", den: Annotated[str, Query()] = "",
                       cat: Annotated[str | None, Query()] = None,
                       thutuc: Annotated[str, Query()] = "",
                       donvi: Annotated[str, Query()] = "",
                       xem: Annotated[str, Query(max_length=1)] = "") -> HTMLResponse:
    """The policy what-if for leaders: the dossiers of the leader's unit received in the
    period, judged under the times in force and under the cut. A GET form (read-only); without
    `cat` only the form is shown; with `xem=1` the times under the cut are shown first, before
    anything runs (issue 23 item 9); bad input re-renders the form with the error."""
    require_role(current, Role.LEADER, what="chạy mô phỏng cắt giảm thời hạn")
    res = resources(request)
    cal = res.calendar
    unit = await _unit(request, current, donvi[:64])
    today = datetime.now(cal.tz).date()
    context: dict[str, Any] = {
        "tu": tu[:10] or today.replace(day=1).isoformat(), "den": den[:10] or today.isoformat(),
        "cat": (cat or "")[:10], "thutuc": thutuc[:2000], "donvi": unit or "",
        "units": sorted(res.catalog.units.values(), key=lambda u: u.code),
        "fixed_unit": current.user.unit_code, "percent": _percent, "points": _points,
        "max_cut": MAX_CUT, "flips_shown": FLIPS_SHOWN, "view": None, "preview": None,
        "error": ""}
    if cat is None:  # first visit (from the board's link): the form alone
        return page(request, "whatif.html", **context)
    try:
        if len(tu) > 10 or len(den) > 10 or len(thutuc) > 2000:
            raise ConsoleError(422, "Dữ liệu nhập quá dài.")
        start, end = _period(tu, den, cal.tz)
        for day in (start, end):
            if not cal.covers(day):
                raise ConsoleError(422, f"Ngày {day:%d/%m/%Y} nằm ngoài lịch làm việc đã nạp "
                                   f"({cal.first_year}–{cal.last_year}).")
        percent = _cut(cat)
        codes = _codes(thutuc)
        if xem:
            async with res.db().acquire() as conn:
                catalog = await whatif_catalog.in_force(conn, res.settings, res.catalog)
            return page(request, "whatif.html", **{
                **context, "preview": _preview(catalog, percent, codes), "cut_value": percent})
        result = await run_cut(res, res.db(), start=start, end=end, cut=percent,
                               procedures=codes, unit=unit)
    except ConsoleError as err:
        return page(request, "whatif.html", status=err.status, **{**context,
                                                                   "error": err.message})
    except whatif.WhatIfError as err:
        return page(request, "whatif.html", status=422, **{**context,
                                                           "error": _whatif_message(err)})
    except Busy:
        return page(request, "whatif.html", status=429, **{
            **context, "error": "Đang có một mô phỏng khác chạy; vui lòng thử lại sau ít "
            "phút."})
    except DB_ERRORS:
        return page(request, "whatif.html", status=503, **{
            **context, "error": "Không đọc được dữ liệu (cơ sở dữ liệu chưa sẵn sàng); vui "
            "lòng thử lại sau."})
    return page(request, "whatif.html", **{**context, "view": _whatif_view(result),
                                            "period": (start, end), "cut_value": percent})
