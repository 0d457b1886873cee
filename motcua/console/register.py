"""`/so-theo-doi`: the dossier register (Sổ theo dõi hồ sơ) for clerks, leaders and operations
(issue 23 item 11), the same lines as `GET /v1/reports/register`
(`motcua.reports.register.book`): a page with the period, the printable book
(`/so-theo-doi/in`, with a Print button) and the files (`.csv`, `.xlsx`, Vietnamese headers).
The applicant's name and address only for roles that may see personal data, each dossier shown
with them recorded as a read; a user limited to a unit sees only that unit's register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console.web import (
    SECURITY_HEADERS,
    ConsoleError,
    page,
    parse_day,
    require_role,
    resources,
    sees_personal_data,
    staff,
)
from motcua.documents.render import render_register
from motcua.documents.timefmt import vn_date
from motcua.reports import register
from motcua.services.whatif import DB_ERRORS

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
Day = Annotated[str, Query(max_length=10)]
Unit = Annotated[str, Query(max_length=64)]
# One printed book per unit and day; a page covers at most a month (the API: a year).
MAX_DAYS = 31
DOCUMENT_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy":
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; frame-ancestors 'none'"}
PRINT_BAR = """<div class="print-bar" style="font:15px sans-serif;margin:10px auto;
display:flex;gap:14px;align-items:center" role="toolbar" aria-label="In sổ">
<style>@media print {{ .print-bar {{ display: none !important }} }}</style>
<button type="button" data-print data-testid="print" style="font:inherit;padding:6px 14px">
In sổ</button> <a href="/so-theo-doi?{query}">Quay lại</a>
<script src="/static/console/print.js" defer></script></div>"""


@dataclass(frozen=True)
class Asked:
    """The register a user asked for: unit, period, and whether names are shown."""

    unit: str
    unit_name: str
    first: date
    last: date
    personal: bool

    @property
    def query(self) -> str:
        return f"tu={self.first:%d/%m/%Y}&den={self.last:%d/%m/%Y}&donvi={self.unit}"


def _asked(request: Request, current: Session, tu: str, den: str, donvi: str) -> Asked:
    require_role(current, Role.CLERK, Role.LEADER, Role.OPS, what="xem sổ theo dõi hồ sơ")
    res = resources(request)
    today = datetime.now(res.calendar.tz).date()
    try:
        first = parse_day(tu) if tu else today
        last = parse_day(den) if den else first
    except ValueError:
        raise ConsoleError(422, "Ngày không hợp lệ (định dạng ngày/tháng/năm, ví dụ "
                           "05/01/2026).") from None
    if last < first:
        raise ConsoleError(422, "Ngày kết thúc không được trước ngày bắt đầu.")
    if last - first >= timedelta(days=MAX_DAYS):
        raise ConsoleError(422, f"Mỗi lần xem tối đa {MAX_DAYS} ngày.")
    if not date(2000, 1, 1) <= first <= last <= date(2099, 12, 31):
        raise ConsoleError(422, "Kỳ xem phải nằm trong 2000–2099.")
    own = current.user.unit_code
    if own is not None and donvi and donvi != own:
        raise ConsoleError(403, "Bạn chỉ xem được sổ của đơn vị mình.")
    unit = own or donvi
    units = res.catalog.units
    if not unit:
        unit = min(units) if units else ""
    if unit not in units:
        raise ConsoleError(422, "Không có đơn vị này trong danh mục.")
    return Asked(unit=unit, unit_name=units[unit].name, first=first, last=last,
                 personal=sees_personal_data(current))


async def _lines(request: Request, current: Session,
                 asked: Asked) -> list[register.RegisterLine]:
    pool = resources(request).db()
    try:
        found = await register.book(pool, asked.unit, asked.first, asked.last,
                                    catalog=resources(request).catalog)
        if asked.personal:
            await register.record_reads(pool, current.user.principal, found,
                                        "console:register")
    except DB_ERRORS:
        raise ConsoleError(503, "Không đọc được sổ (cơ sở dữ liệu chưa sẵn sàng); vui lòng "
                           "thử lại sau.") from None
    return found


@router.get("/so-theo-doi", response_class=HTMLResponse)
async def register_page(request: Request, current: Staff, tu: Day = "", den: Day = "",
                        donvi: Unit = "") -> HTMLResponse:
    asked = _asked(request, current, tu, den, donvi)
    found = await _lines(request, current, asked)
    tz = resources(request).calendar.tz
    units = sorted(resources(request).catalog.units.values(), key=lambda u: u.code)
    return page(request, "register.html", asked=asked, columns=register.columns(asked.personal),
                days=register.by_day(found, personal=asked.personal, tz=tz), units=units,
                fixed_unit=current.user.unit_code, total=len(found))


@router.get("/so-theo-doi/in", response_class=HTMLResponse)
async def register_print(request: Request, current: Staff, tu: Day = "", den: Day = "",
                         donvi: Unit = "") -> HTMLResponse:
    """The book as printed (A4 landscape), with a Print button that is not printed."""
    asked = _asked(request, current, tu, den, donvi)
    found = await _lines(request, current, asked)
    tz = resources(request).calendar.tz
    html = render_register(register.page_context(
        found, personal=asked.personal, tz=tz, unit_name=asked.unit_name, first=asked.first,
        last=asked.last, issued=vn_date(datetime.now(tz))))
    bar = PRINT_BAR.format(query=asked.query)
    return HTMLResponse(html.replace("<body>", "<body>" + bar, 1), headers=DOCUMENT_HEADERS)


def _attachment(name: str) -> dict[str, str]:
    return {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/so-theo-doi.csv")
async def register_csv(request: Request, current: Staff, tu: Day = "", den: Day = "",
                       donvi: Unit = "") -> Response:
    asked = _asked(request, current, tu, den, donvi)
    found = await _lines(request, current, asked)
    body = register.to_csv(found, personal=asked.personal, tz=resources(request).calendar.tz)
    return Response(body, media_type="text/csv; charset=utf-8", headers=_attachment(
        f"so-theo-doi-{asked.unit}-{asked.first}-{asked.last}.csv"))


@router.get("/so-theo-doi.xlsx")
async def register_xlsx(request: Request, current: Staff, tu: Day = "", den: Day = "",
                        donvi: Unit = "") -> Response:
    asked = _asked(request, current, tu, den, donvi)
    found = await _lines(request, current, asked)
    body = register.to_xlsx(found, personal=asked.personal,
                            tz=resources(request).calendar.tz, unit_name=asked.unit_name,
                            first=asked.first, last=asked.last)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers=_attachment(
                        f"so-theo-doi-{asked.unit}-{asked.first}-{asked.last}.xlsx"))
