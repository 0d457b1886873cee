"""`/tiep-nhan`: the clerk's intake form (procedure search, applicant, channel, papers) and
`/ho-so/{code}/bien-nhan`: the receipt to print. Right after intake it carries the citizen's
lookup secret and its QR code, once (held server-side for this session: `motcua.console.slots`);
later views show a line saying the secret was printed at intake, and change nothing. A new
secret (the citizen lost the receipt) is the explicit `POST /ho-so/{code}/bien-nhan/in-lai`,
with a reason and a confirmation (issue 24 point 7)."""

from __future__ import annotations

import html
import secrets
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from domain.catalog import Fee, Procedure
from motcua import lookup
from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.catalog.guides import guides
from motcua.console import acting, slots
from motcua.console.acting import ActionFailed
from motcua.console.dossier import DOCUMENT_HEADERS, dossier_events, printable
from motcua.console.web import (
    COOKIE,
    CSRF_FIELD,
    ConsoleError,
    checked_form,
    lines,
    now,
    page,
    parse_clock,
    parse_day,
    redirect,
    require_role,
    resources,
    sees_personal_data,
    staff,
    text,
)
from motcua.documents.narration import vnd
from motcua.documents.render import Lookup
from motcua.documents.timefmt import vn_duration
from motcua.services.requests import ReceiveRequest

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
CHANNELS = [("counter", "Trực tiếp tại quầy"), ("online", "Trực tuyến"),
            ("postal", "Qua bưu chính công ích")]
SEARCH_LIMIT = 30
# Where the citizen collects the result (form 01), when the engine records it.
DELIVERY = [("counter", "Tại bộ phận một cửa"), ("post", "Qua dịch vụ bưu chính công ích")] \
    if "result_delivery" in ReceiveRequest.model_fields else []


# Form 01's paper table (issue 23 item 15): rows of name, form and count.
PAPER_ROWS = 6
PAPER_FORMS = [("original", "Bản chính"), ("copy", "Bản sao"),
               ("certified_copy", "Bản sao có chứng thực")]
# A receipt entered after the fact (after-hours intake entered the next morning) may go back
# at most this long from the console (our reading: the next working morning, a weekend or a
# holiday in between); older dossiers are imports, sent through the API by operations.
BACKDATE_LIMIT = timedelta(days=7)

# The notices the citizen asks for (issue 25; docs/portal-and-notices.md).
NOTICES = [("sms", "Tin nhắn SMS"), ("zalo", "Zalo"), ("email", "Thư điện tử")]


def search(procedures: list[Procedure], query: str) -> list[Procedure]:
    """Procedures whose code or name contains every word of `query` (case-insensitive)."""
    words = query.casefold().split()
    found = [p for p in procedures
             if all(w in f"{p.code} {p.name}".casefold() for w in words)]
    return sorted(found, key=lambda p: p.code)[:SEARCH_LIMIT]


def fee_label(fee: Fee | None) -> str:
    """A procedure's fee as the picker shows it (issue 22 item 4): the amount the catalog
    records and its legal text; "" when the catalog records none (not "free")."""
    if fee is None:
        return ""
    amount = "miễn" if fee.amount == 0 else vnd(fee.amount)
    return f"Phí, lệ phí: {amount} ({fee.source})"


def picked(procedure: Procedure) -> dict[str, Any]:
    """What the picker shows of a match (issue 23 item 15): name, the time that applies, and
    the fee the catalog records (else the guide's), and the papers to hand in with their legal
    texts when the guide has them
    (`motcua.catalog.guides`; None: not in the catalog, said so on screen). The time's source
    stays off the screen: the catalog writes it in English (issue 23 item 5)."""
    guide = guides().get(procedure.code)
    return {"code": procedure.code, "name": procedure.name, "field": procedure.field,
            "time": vn_duration(procedure.reduced_amount, procedure.reduced_unit),
            "retired": procedure.is_retired,
            "guide": guide, "fee_label": fee_label(procedure.fee)}


def _units(request: Request, current: Session) -> list[tuple[str, str]]:
    units = resources(request).catalog.units.values()
    return sorted((u.code, u.name) for u in units
                  if current.user.unit_code in (None, u.code))


def _form(request: Request, current: Session, *, values: dict[str, Any], query: str = "",
          error: str = "", error_fields: list[str] | None = None,
          status: int = 200) -> HTMLResponse:
    catalog = resources(request).catalog
    procedures = list(catalog.procedures.values())
    chosen = catalog.procedures.get(str(values.get("procedure_code") or "").split(" ", 1)[0])
    return page(request, "intake.html", status=status, values=values, query=query,
                chosen_fee=fee_label(chosen.fee) if chosen else "",
                matches=[picked(p) for p in search(procedures, query)] if query else [],
                procedures=sorted(procedures, key=lambda p: p.code),
                units=_units(request, current), channels=CHANNELS, delivery=DELIVERY,
                notices=NOTICES, paper_forms=PAPER_FORMS,
                paper_rows=_paper_rows(values), error=error,
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
             "address", "documents", "result_delivery", "proxy_name", "proxy_phone",
             "received_day", "received_clock", "backdate_reason")
    return {**{n: text(form, n) for n in names}, "notify_by": _chosen(form),
            "papers": _typed_papers(form)}


def _typed_papers(form: FormData) -> list[dict[str, str]]:
    """The paper rows as typed (name, form, count), empty rows left out."""
    def column(name: str) -> list[str]:
        return [v.strip() if isinstance(v, str) else "" for v in form.getlist(name)]
    rows = zip(column("paper_name"), column("paper_form"), column("paper_count"), strict=False)
    return [{"name": n, "form": f, "count": c} for n, f, c in rows if n]


def _paper_rows(values: dict[str, Any]) -> list[dict[str, str]]:
    """The rows the form shows: what was typed, then empty rows up to `PAPER_ROWS`."""
    typed: list[dict[str, str]] = list(values.get("papers", []))
    blank = {"name": "", "form": "original", "count": "1"}
    return typed + [blank] * max(PAPER_ROWS - len(typed), 1)


def _backdated(form: FormData, tz: tzinfo, now: datetime) -> datetime | None:
    """When the dossier was really received, for a receipt entered after the fact: the day
    and time typed (dd/mm/yyyy, HH:MM, office time zone), with a reason; None when neither
    is typed. ActionFailed for half an entry, a bad date, the future or beyond the limit."""
    day, clock = text(form, "received_day"), text(form, "received_clock")
    if not day and not clock:
        return None
    try:
        at = datetime.combine(parse_day(day), parse_clock(clock), tz)
    except ValueError:
        raise ActionFailed("Thời điểm nhận hồ sơ thực tế: nhập ngày (ngày/tháng/năm) và giờ "
                           "(giờ:phút, 24 giờ), ví dụ 05/01/2026 và 16:45.",
                           ["received_day", "received_clock"]) from None
    if at > now:
        raise ActionFailed("Thời điểm nhận hồ sơ thực tế không được ở tương lai.",
                           ["received_day", "received_clock"])
    if now - at > BACKDATE_LIMIT:
        raise ActionFailed(f"Chỉ nhập lùi được trong {BACKDATE_LIMIT.days} ngày; hồ sơ cũ hơn "
                           "được chuyển từ hệ thống cũ qua bộ phận vận hành.",
                           ["received_day", "received_clock"])
    if not text(form, "backdate_reason"):
        raise ActionFailed("Nhập lùi thời điểm tiếp nhận cần ghi lý do.", ["backdate_reason"])
    return at


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
    papers = [{"name": p["name"], "form": p["form"] or None, **(
        {"count": p["count"]} if p["count"] else {})} for p in _typed_papers(form)]
    if papers:
        fields["papers"] = papers
    return fields


_FIELD_NAMES = {"procedure_code": "thủ tục", "unit_code": "đơn vị", "channel": "kênh",
                "applicant.name": "họ tên", "applicant.phone": "điện thoại",
                "applicant.email": "thư điện tử", "applicant.id_number": "số định danh",
                "applicant.address": "địa chỉ", "documents": "giấy tờ",
                "result_delivery": "nơi nhận kết quả", "notify_by": "nhận thông báo",
                "proxy.name": "họ tên người nộp thay", "proxy.phone": "điện thoại người nộp thay",
                "papers": "giấy tờ (hình thức, số lượng)",
                "original_received_at": "thời điểm nhận thực tế",
                "backdate_reason": "lý do nhập lùi"}


@router.post("/tiep-nhan", response_class=HTMLResponse)
async def intake(request: Request, current: Staff) -> Response:
    require_role(current, Role.CLERK, what="tiếp nhận hồ sơ")
    form = await checked_form(request, current)
    try:
        fields = _request(form, current)
        received_at = _backdated(form, resources(request).calendar.tz, now())
        if received_at is not None:
            fields |= {"original_received_at": received_at.isoformat(),
                       "backdate_reason": text(form, "backdate_reason")}
        dossier = await acting.receive(request, current, fields, form)
    except ActionFailed as failed:
        named = list(dict.fromkeys(_FIELD_NAMES.get(f.split(".")[0] if f.startswith("papers")
                                                     else f, f) for f in failed.fields))
        message = failed.message if not named else \
            f"Vui lòng kiểm tra: {', '.join(named)}. {failed.message}"
        return _form(request, current, values=_values(form), error=message,
                     error_fields=[f.removeprefix("applicant.") for f in failed.fields],
                     status=failed.status)
    secret = dossier.get("lookup_secret")
    if isinstance(secret, str):  # a replayed form (double click) has none: the first held it
        await slots.hold(resources(request).db(), request.cookies.get(COOKIE, ""),
                         dossier["code"], secret)
    return redirect(f"/ho-so/{dossier['code']}/bien-nhan")


_TOOLBAR = """<nav class="console-toolbar" style="font:15px sans-serif;margin:12px auto;
max-width:800px;display:flex;gap:16px;flex-wrap:wrap" aria-label="Biên nhận">
<style>@media print {{ .console-toolbar {{ display: none }} }}</style>
<strong>Đã tiếp nhận hồ sơ {code}.</strong>
<a href="/ho-so/{code}">Xem hồ sơ</a> <a href="/tiep-nhan">Tiếp nhận hồ sơ khác</a>
{lookup}</nav>"""
_LOOKUP_LINK = """<a href="{url}" data-testid="lookup-url" rel="noreferrer">Trang tra cứu của
công dân (mã QR)</a>"""
# Later views: no secret; a new one only by this explicit form (a reason, a confirmation).
_REISSUE = """<form method="post" action="/ho-so/{code}/bien-nhan/in-lai" data-testid="reissue"
style="display:flex;gap:8px;flex-wrap:wrap;align-items:center">
<input type="hidden" name="{csrf_field}" value="{csrf}">
<input type="hidden" name="form_id" value="{form_id}">
<label>Lý do cấp mã tra cứu mới <input name="reason" required maxlength="500"
placeholder="Công dân báo mất biên nhận"></label>
<label><input type="checkbox" name="confirm" value="1" required> Mã cũ và mã QR đã in sẽ hết
hiệu lực</label>
<button type="submit">In lại biên nhận với mã tra cứu mới</button></form>{error}"""


@router.get("/ho-so/{code}/bien-nhan", response_class=HTMLResponse)
async def receipt(request: Request, code: str, current: Staff) -> HTMLResponse:
    """The receipt (form 01) to print. Right after intake (or a reissue) with the lookup secret
    and its QR code, which opens the citizen's lookup filled in, once; otherwise without
    them, with the form that issues a new secret. Viewing changes nothing."""
    return await _receipt(request, current, code)


async def _receipt(request: Request, current: Session, code: str, *, error: str = "",
                   status: int = 200) -> HTMLResponse:
    await dossier_events(request, current, code)  # 404 outside the user's unit
    if not sees_personal_data(current):
        raise ConsoleError(403, "Vai trò của bạn không được xem dữ liệu cá nhân của công dân.")
    res = resources(request)
    secret = await slots.take(res.db(), request.cookies.get(COOKIE), code) \
        if not error else None
    printed: Lookup | None = None
    if secret is not None:
        base = res.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
        printed = Lookup(secret, lookup.lookup_url(code, secret, base))
        shown = _LOOKUP_LINK.format(url=html.escape(printed.url))
    else:
        shown = _REISSUE.format(
            code=html.escape(code), csrf_field=CSRF_FIELD, csrf=html.escape(current.csrf_token),
            form_id=secrets.token_urlsafe(18),
            error=f'<p role="alert" class="error">{html.escape(error)}</p>' if error else "")
    response = await printable(request, current, code, "receipt", printed)
    toolbar = _TOOLBAR.format(code=html.escape(code), lookup=shown)
    body = bytes(response.body).decode("utf-8").replace("<body>", "<body>" + toolbar, 1)
    # The page may hold the secret: never cached (DOCUMENT_HEADERS: no-store).
    return HTMLResponse(body, status_code=status, headers=DOCUMENT_HEADERS)


@router.post("/ho-so/{code}/bien-nhan/in-lai", response_class=HTMLResponse)
async def reissue(request: Request, code: str, current: Staff) -> Response:
    """A new lookup secret, on purpose: the reason and the confirmation are required; the
    new secret is printed on the receipt shown next (the old one stops working)."""
    form = await checked_form(request, current)
    await dossier_events(request, current, code)  # 404 outside the user's unit
    try:
        if text(form, "confirm") != "1":
            raise ActionFailed("Hãy xác nhận rằng mã cũ sẽ hết hiệu lực.", ["confirm"])
        secret = await acting.reissue_lookup(request, current, code, text(form, "reason"),
                                             form)
    except ActionFailed as failed:
        return await _receipt(request, current, code, error=failed.message,
                              status=failed.status)
    await slots.hold(resources(request).db(), request.cookies.get(COOKIE, ""), code, secret)
    return redirect(f"/ho-so/{code}/bien-nhan")
