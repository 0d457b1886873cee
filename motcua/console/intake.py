"""`/tiep-nhan`: the clerk's intake form (procedure search, applicant, channel, papers) and
`/ho-so/{code}/bien-nhan`: the receipt to print, with the QR code of the citizen's lookup."""

from __future__ import annotations

import html
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from domain.catalog import Procedure
from motcua import lookup
from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console import acting
from motcua.console.acting import ActionFailed
from motcua.console.dossier import DOCUMENT_HEADERS, dossier_events, printable
from motcua.console.web import (
    ConsoleError,
    checked_form,
    lines,
    page,
    redirect,
    require_role,
    resources,
    sees_personal_data,
    staff,
    text,
)
from motcua.documents.render import Lookup
from motcua.services.requests import ReceiveRequest

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
CHANNELS = [("counter", "Trực tiếp tại quầy"), ("online", "Trực tuyến"),
            ("postal", "Qua bưu chính công ích")]
SEARCH_LIMIT = 30
# Where the citizen collects the result (form 01), when the engine records it.
DELIVERY = [("counter", "Tại bộ phận một cửa"), ("post", "Qua dịch vụ bưu chính công ích")] \
    if "result_delivery" in ReceiveRequest.model_fields else []


# The notices the citizen asks for (issue 25; docs/portal-and-notices.md).
NOTICES = [("sms", "Tin nhắn SMS"), ("zalo", "Zalo"), ("email", "Thư điện tử")]


def search(procedures: list[Procedure], query: str) -> list[Procedure]:
    """Procedures whose code or name contains every word of `query` (case-insensitive)."""
    words = query.casefold().split()
    found = [p for p in procedures
             if all(w in f"{p.code} {p.name}".casefold() for w in words)]
    return sorted(found, key=lambda p: p.code)[:SEARCH_LIMIT]


def _units(request: Request, current: Session) -> list[tuple[str, str]]:
    units = resources(request).catalog.units.values()
    return sorted((u.code, u.name) for u in units
                  if current.user.unit_code in (None, u.code))


def _form(request: Request, current: Session, *, values: dict[str, Any], query: str = "",
          error: str = "", error_fields: list[str] | None = None,
          status: int = 200) -> HTMLResponse:
    procedures = list(resources(request).catalog.procedures.values())
    return page(request, "intake.html", status=status, values=values, query=query,
                matches=search(procedures, query) if query else [],
                procedures=sorted(procedures, key=lambda p: p.code),
                units=_units(request, current), channels=CHANNELS, delivery=DELIVERY,
                notices=NOTICES,
                error=error,
                error_fields=error_fields or [], form_id=secrets.token_urlsafe(18))


@router.get("/tiep-nhan", response_class=HTMLResponse)
async def intake_form(request: Request, current: Staff,
                      tim: Annotated[str, Query(max_length=200)] = "",
                      thu_tuc: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    require_role(current, Role.CLERK, what="tiếp nhận hồ sơ")
    return _form(request, current, values={"procedure_code": thu_tuc, "channel": "counter"},
                 query=tim)


def _values(form: FormData) -> dict[str, Any]:
    names = ("procedure_code", "unit_code", "channel", "name", "id_number", "phone", "email",
             "address", "documents", "result_delivery", "proxy_name", "proxy_phone")
    return {**{n: text(form, n) for n in names}, "notify_by": _chosen(form)}


def _chosen(form: FormData) -> list[str]:
    return [v for v in form.getlist("notify_by") if isinstance(v, str)]


def _request(form: FormData, current: Session) -> dict[str, Any]:
    code = text(form, "procedure_code").split(" ", 1)[0]  # "1.004222 — name" from the list
    applicant = {k: text(form, k) or None for k in ("id_number", "phone", "email", "address")}
    fields: dict[str, Any] = {
        "procedure_code": code, "unit_code": current.user.unit_code or text(form, "unit_code"),
        "channel": text(form, "channel"), "applicant": {"name": text(form, "name"), **applicant},
        "documents": lines(form, "documents")}
    if DELIVERY and text(form, "result_delivery"):
        fields["result_delivery"] = text(form, "result_delivery")
    if _chosen(form):
        fields["notify_by"] = _chosen(form)
    if text(form, "proxy_name") or text(form, "proxy_phone"):
        fields["proxy"] = {"name": text(form, "proxy_name"),
                           "phone": text(form, "proxy_phone") or None}
    return fields


_FIELD_NAMES = {"procedure_code": "thủ tục", "unit_code": "đơn vị", "channel": "kênh",
                "applicant.name": "họ tên", "applicant.phone": "điện thoại",
                "applicant.email": "thư điện tử", "applicant.id_number": "số định danh",
                "applicant.address": "địa chỉ", "documents": "giấy tờ",
                "result_delivery": "nơi nhận kết quả", "notify_by": "nhận thông báo",
                "proxy.name": "họ tên người nộp thay", "proxy.phone": "điện thoại người nộp thay"}


@router.post("/tiep-nhan", response_class=HTMLResponse)
async def intake(request: Request, current: Staff) -> Response:
    require_role(current, Role.CLERK, what="tiếp nhận hồ sơ")
    form = await checked_form(request, current)
    try:
        dossier = await acting.receive(request, current, _request(form, current), form)
    except ActionFailed as failed:
        named = [_FIELD_NAMES.get(f, f) for f in failed.fields]
        message = failed.message if not named else \
            f"Vui lòng kiểm tra: {', '.join(named)}. {failed.message}"
        return _form(request, current, values=_values(form), error=message,
                     error_fields=[f.removeprefix("applicant.") for f in failed.fields],
                     status=failed.status)
    return redirect(f"/ho-so/{dossier['code']}/bien-nhan")


_TOOLBAR = """<nav class="console-toolbar" style="font:15px sans-serif;margin:12px auto;
max-width:800px;display:flex;gap:16px;flex-wrap:wrap" aria-label="Biên nhận">
<style>@media print {{ .console-toolbar {{ display: none }} }}</style>
<strong>Đã tiếp nhận hồ sơ {code}.</strong>
<a href="/ho-so/{code}">Xem hồ sơ</a> <a href="/tiep-nhan">Tiếp nhận hồ sơ khác</a>
<a href="{url}" data-testid="lookup-url" rel="noreferrer">Trang tra cứu của công dân (mã QR)</a>
<span>Dùng lệnh In của trình duyệt (Ctrl+P) để in biên nhận.</span></nav>"""


@router.get("/ho-so/{code}/bien-nhan", response_class=HTMLResponse)
async def receipt(request: Request, code: str, current: Staff) -> HTMLResponse:
    """The receipt (form 01) to print, with a new lookup secret and its QR code, which opens
    the citizen's lookup filled in. Each print issues a new secret (see `motcua.lookup`)."""
    await dossier_events(request, current, code)  # 404 outside the user's unit
    if not sees_personal_data(current):
        raise ConsoleError(403, "Vai trò của bạn không được xem dữ liệu cá nhân của công dân.")
    res = resources(request)
    secret = await lookup.issue(res.db(), code, issued_by=current.user.username)
    base = res.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    url = lookup.lookup_url(code, secret, base)
    response = await printable(request, current, code, "receipt", Lookup(secret, url))
    toolbar = _TOOLBAR.format(code=html.escape(code), url=html.escape(url))
    body = bytes(response.body).decode("utf-8").replace("<body>", "<body>" + toolbar, 1)
    return HTMLResponse(body, headers=DOCUMENT_HEADERS)
