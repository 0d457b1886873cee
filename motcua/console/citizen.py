"""Pages for citizens: `/tra-cuu`, the lookup (no login; what the receipt's QR code opens),
where the citizen may also rate a returned dossier once with the lookup secret; and
`/danh-gia`, the satisfaction kiosk on the counter's screen.

The kiosk (issue 23 item 12) is bound to its counter: a kiosk credential (a user of the kiosk
role, which may rate and do nothing else) offers only the dossier just returned at its own
counter (`motcua.services.counters`), never a list of codes or a code box. A clerk's console
opens it for the dossier on screen (`?ma=`), or for the clerk's own counter. Every rating,
here and on the lookup page, is the `rate` action of `motcua.services.dossiers.act`."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from domain.states import DossierState, Satisfaction
from motcua import correlation
from motcua.access.permissions import PERMISSIONS
from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console import acting, lookup
from motcua.console.acting import ActionFailed, explain
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
from motcua.problems import NOT_FOUND, TOO_MANY_REQUESTS, Problem
from motcua.services import counters, ratings
from motcua.services.requests import RateBody
from motcua.services.views import PublicDossierView

router = APIRouter(include_in_schema=False)
_NOT_FOUND = "Không tìm thấy hồ sơ. Vui lòng kiểm tra mã hồ sơ và mã tra cứu trên giấy biên nhận."


_REASON_NEEDED = "Vui lòng cho biết lý do ông/bà không hài lòng."


def _for_citizen(failed: ActionFailed) -> ActionFailed:
    """The refusal as the citizen reads it: a missing reason is asked for plainly (not
    "Thông tin nhập chưa hợp lệ" first)."""
    if failed.fields == ["comment"]:
        return ActionFailed(_REASON_NEEDED, failed.fields, failed.status)
    return failed


def _choices() -> list[tuple[str, str]]:
    return [(s.value, SATISFACTION_LABELS[s.value]) for s in Satisfaction]


def _lookup_page(request: Request, *, code: str = "", found: PublicDossierView | None = None,
                 error: str = "", status: int = 200, secret: str = "", thanks: bool = False,
                 rate_error: str = "", comment: str = "") -> HTMLResponse:
    left = ""
    if found is not None and found.sla_status != "closed":
        left, _ = time_left(resources(request).calendar, found.due_at, now())
    # `secret` (already sent by this client) rides back only in the result-download form's
    # hidden field (issue 26), so the citizen need not type it again.
    return page(request, "lookup.html", status=status, code=code, found=found, left=left,
                error=error, secret=secret, thanks=thanks, rate_error=rate_error,
                comment=comment, choices=_choices())


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


@router.post("/tra-cuu/danh-gia", response_class=HTMLResponse)
async def lookup_rate(request: Request) -> HTMLResponse:
    """The citizen's rating from the lookup page, with the code and secret the lookup used
    (hidden fields): `motcua.services.ratings`, the same path as the public API's."""
    await optional_session(request)
    form = await request.form()
    code, secret = text(form, "ma")[:64], text(form, "k")[:64]
    comment = text(form, "comment")[:2000]
    choice = text(form, "satisfaction")
    client = request.client.host if request.client else "unknown"
    failed: ActionFailed | None = None
    try:
        body = RateBody.model_validate({"satisfaction": choice, "comment": comment or None})
    except ValidationError:
        body = None
        failed = ActionFailed("Vui lòng chọn một mức độ hài lòng.")
    try:
        if body is not None:
            await ratings.rate_with_secret(resources(request), client, code, secret, body,
                                           correlation.current() or "none")
    except Problem as problem:
        if problem.kind is NOT_FOUND:
            return _lookup_page(request, code=code, error=_NOT_FOUND, status=404)
        if problem.kind is TOO_MANY_REQUESTS:
            wait = problem.headers.get("Retry-After", "")
            raise ConsoleError(429, "Quý khách thao tác quá nhiều lần; vui lòng thử lại sau "
                               f"{wait} giây.") from None
        failed = _for_citizen(explain(problem, "rate"))
    found = await lookup.find(request, code, secret)
    if found is None:
        return _lookup_page(request, code=code, error=_NOT_FOUND, status=404)
    if failed is not None:
        return _lookup_page(request, code=code, found=found, secret=secret,
                            status=failed.status, rate_error=failed.message, comment=comment)
    return _lookup_page(request, code=code, found=found, secret=secret, thanks=True)


async def _kiosk_session(request: Request) -> Session:
    current = await optional_session(request)
    if current is None:
        raise NeedLogin(request.url.path + (f"?{request.url.query}" if request.url.query
                                            else ""))
    if not current.user.roles & PERMISSIONS["rate"]:
        raise ConsoleError(403, "Màn hình đánh giá chỉ dành cho bộ phận một cửa và kiosk.")
    return current


async def _offer(request: Request, current: Session, asked: str) -> str:
    """The code the screen offers: a kiosk's, only the dossier just returned at its counter
    (whatever it asks); a clerk's, the dossier it opened the screen for, else its counter's."""
    if Role.KIOSK not in current.user.roles and asked:
        return asked
    return await counters.offered(resources(request).db(), current.user.username) or ""


def _kiosk_page(request: Request, current: Session, *, code: str = "",
                found: PublicDossierView | None = None, error: str = "", status: int = 200,
                thanks: bool = False, counter: tuple[str, str] | None = None,
                comment: str = "", rate_error: str = "") -> HTMLResponse:
    kiosk = Role.KIOSK in current.user.roles
    return page(request, "kiosk.html", status=status, code=code, found=found, error=error,
                thanks=thanks, choices=_choices(), form_id=secrets.token_urlsafe(18),
                kiosk=kiosk, counter=counter, comment=comment, rate_error=rate_error,
                # The way back: a kiosk's start screen; a clerk's dossier page.
                back="/danh-gia" if kiosk or not code else f"/ho-so/{code}")


async def _visible(request: Request, current: Session,
                   code: str) -> tuple[PublicDossierView, bool] | None:
    """`lookup.for_kiosk` within the user's units (the receiving or the holding unit's
    screen, from the events); None outside them, as for no such dossier."""
    seen = await lookup.for_kiosk(request, code) if code else None
    if seen is None:
        return None
    units = await dossier_units(resources(request).db(), code)
    if units is None or not any(current.user.principal.sees(u) for u in units):
        return None
    return seen


@router.get("/danh-gia", response_class=HTMLResponse)
async def kiosk(request: Request, ma: Annotated[str, Query(max_length=64)] = "",
                cam_on: Annotated[str, Query(max_length=1)] = "") -> Response:
    current = await _kiosk_session(request)
    counter = await counters.counter_of(resources(request).db(), current.user.username)
    code = await _offer(request, current, ma.strip())
    seen = await _visible(request, current, code)
    found, rated = seen if seen is not None else (None, False)
    error = ""
    if code and found is None:
        error = "Không tìm thấy hồ sơ."
    elif found is not None and rated:
        error = "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà!"
    elif found is not None and found.state != DossierState.RETURNED:
        error = "Hồ sơ chưa trả kết quả nên chưa thể đánh giá."
    return _kiosk_page(request, current, code=code, found=found, error=error,
                       thanks=cam_on == "1", counter=counter)


@router.post("/danh-gia/{code}", response_class=HTMLResponse)
async def rate(request: Request, code: str) -> Response:
    current = await _kiosk_session(request)
    form = await checked_form(request, current)
    choice = form.get("satisfaction")
    comment = text(form, "comment")[:2000]
    try:
        await acting.act(request, current, "rate", code,
                         {"satisfaction": choice if isinstance(choice, str) else "",
                          "comment": comment or None}, form)
    except ActionFailed as refused:
        failed = _for_citizen(refused)
        # Still the dossier on offer and not rated (a missing reason): ask again, nothing
        # recorded; otherwise only the message and the way back.
        offered = failed.status == 422 and code == await _offer(request, current, code)
        seen = await _visible(request, current, code) if offered else None
        again = seen[0] if seen is not None and not seen[1] else None
        return _kiosk_page(request, current, code=code, found=again, status=failed.status,
                           error="" if again else failed.message,
                           rate_error=failed.message if again else "", comment=comment)
    return redirect("/danh-gia?cam_on=1")
