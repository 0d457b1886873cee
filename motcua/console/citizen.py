"""Pages for citizens: `/tra-cuu`, the lookup (no login; what the receipt's QR code opens),
and `/danh-gia`, the satisfaction kiosk on the counter's screen (opened from a clerk's console,
or by a kiosk credential of the unit, which may rate and do nothing else)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from domain.states import DossierState, Satisfaction
from motcua.access.permissions import PERMISSIONS
from motcua.access.users import Session
from motcua.console import acting, lookup
from motcua.console.acting import ActionFailed
from motcua.console.web import (
    ConsoleError,
    NeedLogin,
    checked_form,
    now,
    optional_session,
    page,
    redirect,
    resources,
    text,
    time_left,
)
from motcua.documents.narration import SATISFACTION_LABELS
from motcua.eventstore.store import dossier_units
from motcua.services.views import PublicDossierView

router = APIRouter(include_in_schema=False)
_NOT_FOUND = "Không tìm thấy hồ sơ. Vui lòng kiểm tra mã hồ sơ và mã tra cứu trên giấy biên nhận."


def _lookup_page(request: Request, *, code: str = "", found: PublicDossierView | None = None,
                 error: str = "", status: int = 200, secret: str = "") -> HTMLResponse:
    left = ""
    if found is not None and found.sla_status != "closed":
        left, _ = time_left(resources(request).calendar, found.due_at, now())
    # `secret` (already sent by this client) rides back only in the result-download form's
    # hidden field (issue 26), so the citizen need not type it again.
    return page(request, "lookup.html", status=status, code=code, found=found, left=left,
                error=error, secret=secret)


@router.get("/tra-cuu", response_class=HTMLResponse)
async def lookup_form(request: Request) -> HTMLResponse:
    """The lookup form. The receipt's QR code opens `/tra-cuu#<code>.<secret>`: the fragment
    never reaches the server or a log; the page's script fills the form from it and sends it
    (by POST, so the secret stays out of URLs)."""
    await optional_session(request)  # only to show the staff header when signed in
    return _lookup_page(request)


@router.post("/tra-cuu", response_class=HTMLResponse)
async def lookup_result(request: Request) -> HTMLResponse:
    await optional_session(request)
    form = await request.form()
    code, secret = text(form, "ma")[:64], text(form, "k")[:64]
    if not code or not secret:
        return _lookup_page(request, code=code, status=422,
                            error="Vui lòng nhập mã hồ sơ và mã tra cứu.")
    found = await lookup.find(request, code, secret)
    if found is None:
        return _lookup_page(request, code=code, error=_NOT_FOUND, status=404)
    return _lookup_page(request, code=code, found=found, secret=secret)


async def _kiosk_session(request: Request) -> Session:
    current = await optional_session(request)
    if current is None:
        raise NeedLogin(request.url.path + (f"?{request.url.query}" if request.url.query
                                            else ""))
    if not current.user.roles & PERMISSIONS["rate"]:
        raise ConsoleError(403, "Màn hình đánh giá chỉ dành cho bộ phận một cửa và kiosk.")
    return current


async def _waiting(request: Request, current: Session) -> list[str]:
    """Returned dossiers of the kiosk's unit not rated yet (codes only), newest first."""
    rows = await resources(request).db().fetch(
        "SELECT code FROM dossiers WHERE state = $1 AND satisfaction IS NULL "
        "AND ($2::text IS NULL OR unit_code = $2) ORDER BY updated_at DESC LIMIT 12",
        DossierState.RETURNED.value, current.user.unit_code)
    return [r["code"] for r in rows]


@router.get("/danh-gia", response_class=HTMLResponse)
async def kiosk(request: Request, ma: Annotated[str, Query(max_length=64)] = "",
                cam_on: Annotated[str, Query(max_length=1)] = "") -> Response:
    current = await _kiosk_session(request)
    code = ma.strip()
    seen = await lookup.for_kiosk(request, code) if code else None
    found, rated = seen if seen is not None else (None, False)
    if found is not None:  # the receiving or the holding unit's kiosk, from the events
        units = await dossier_units(resources(request).db(), found.code)
        if units is None or not any(current.user.principal.sees(u) for u in units):
            found = None
    error = ""
    if code and found is None:
        error = "Không tìm thấy hồ sơ."
    elif found is not None and rated:
        error = "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà!"
    elif found is not None and found.state != DossierState.RETURNED:
        error = "Hồ sơ chưa trả kết quả nên chưa thể đánh giá."
    return page(request, "kiosk.html", code=code, found=found, error=error,
                thanks=cam_on == "1", waiting=await _waiting(request, current),
                choices=[(s.value, SATISFACTION_LABELS[s.value]) for s in Satisfaction],
                form_id=secrets.token_urlsafe(18))


@router.post("/danh-gia/{code}", response_class=HTMLResponse)
async def rate(request: Request, code: str) -> Response:
    current = await _kiosk_session(request)
    form = await checked_form(request, current)
    choice = form.get("satisfaction")
    try:
        await acting.act(request, current, "rate", code,
                         {"satisfaction": choice if isinstance(choice, str) else ""}, form)
    except ActionFailed as failed:
        return page(request, "kiosk.html", status=failed.status, code=code, found=None,
                    error=failed.message, thanks=False,
                    waiting=await _waiting(request, current), choices=[],
                    form_id=secrets.token_urlsafe(18))
    return redirect("/danh-gia?cam_on=1")
