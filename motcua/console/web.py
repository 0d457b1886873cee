"""What every console page shares: templates, the signed-in session, role checks, CSRF, the
error page, and Vietnamese wording of states, SLA and times.

Console pages answer HTML, never problem+json: a refusal is a page that says, in Vietnamese,
what went wrong (`ConsoleError`), and a missing session is a redirect to `/login`.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from domain.calendar import Calendar
from domain.clock import working_time_between
from domain.states import SlaStatus
from motcua.access.privacy import sees_personal_data as principal_sees_personal_data
from motcua.access.tokens import Role
from motcua.access.users import Session, session
from motcua.documents.narration import SATISFACTION_LABELS
from motcua.documents.state_words import STATE_LABELS
from motcua.documents.timefmt import in_vietnam
from motcua.services.resources import Resources

COOKIE = "motcua_phien"
CSRF_FIELD = "csrf_token"
# What people type as a day and a time (issue 23 item 14; `parse_day`, `parse_clock`).
DAY_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}"
CLOCK_PATTERN = r"([01]?\d|2[0-3]):[0-5]\d"
# Staff pages are private (no caching), never framed, and send no Referer (a lookup URL holds
# the receipt's secret). Every script and style is served by the package itself.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

SLA_LABELS: dict[str, str] = {
    SlaStatus.ON_TRACK: "Trong hạn",
    SlaStatus.DUE_SOON: "Sắp đến hạn",
    SlaStatus.OVERDUE: "Quá hạn",
    SlaStatus.PAUSED: "Tạm dừng (chờ bổ sung)",
    # The deadline clock has stopped: the result is ready (not yet returned) or the dossier
    # ended; "Đã kết thúc" read as "returned" on a dossier still waiting at the counter.
    SlaStatus.CLOSED: "Đã xử lý xong",
}
ROLE_LABELS: dict[str, str] = {
    Role.CLERK: "Một cửa", Role.OFFICER: "Chuyên viên", Role.LEADER: "Lãnh đạo",
    Role.OPS: "Vận hành", Role.KIOSK: "Kiosk đánh giá",
}
CHANNEL_LABELS = {"counter": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính"}


class ConsoleError(Exception):
    """Answer with the error page: `status` and a Vietnamese message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NeedLogin(Exception):
    """No valid session: redirect to the login page, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def vn_time(at: datetime | None, tz: tzinfo | None = None) -> str:
    """'14:05 27/11/2026' in the office time zone `tz`; '—' for none."""
    if at is None:
        return "—"
    return in_vietnam(at, tz).strftime("%H:%M %d/%m/%Y")


@jinja2.pass_context
def _vn_time_filter(context: Any, at: datetime | None) -> str:
    """The `vn_time` filter: in the zone `page` puts in every context (the calendar's)."""
    return vn_time(at, context.get("tz"))


def time_left(cal: Calendar, due: datetime | None, now: datetime) -> tuple[str, str]:
    """(text, css class) of the office time between now and `due`, in working days and hours
    of the office calendar (a day = one day's office hours)."""
    if due is None:
        return "—", ""
    late = due < now
    span = working_time_between(cal, due, now) if late else working_time_between(cal, now, due)
    days, rest = divmod(span, cal.hours.day_length)
    minutes = int(rest.total_seconds() // 60)
    parts = [f"{days} ngày"] if days else []
    parts += [f"{minutes // 60} giờ"] if minutes >= 60 or not days else []
    parts += [f"{minutes % 60} phút"] if minutes % 60 else []
    text = " ".join(parts) + " làm việc"
    return (f"Quá hạn {text}", "overdue") if late else (f"Còn {text}", "")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("motcua.console", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters["vn_time"] = _vn_time_filter
    env.filters["vn_day"] = lambda value: vn_day(value)  # defined below
    env.globals.update(STATE_LABELS=STATE_LABELS, SLA_LABELS=SLA_LABELS,
                       ROLE_LABELS=ROLE_LABELS, CHANNEL_LABELS=CHANNEL_LABELS,
                       SATISFACTION_LABELS=SATISFACTION_LABELS, CSRF_FIELD=CSRF_FIELD,
                       DAY_PATTERN=DAY_PATTERN, CLOCK_PATTERN=CLOCK_PATTERN)
    return env


ENV = _env()


def resources(request: Request) -> Resources:
    found: Resources = request.app.state.resources
    return found


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page rendered with the session (if any) and the security headers."""
    current: Session | None = getattr(request.state, "console_session", None)
    html = ENV.get_template(template).render(
        session=current, user=current.user if current else None,
        csrf=current.csrf_token if current else "", path=request.url.path,
        tz=resources(request).calendar.tz, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


# Requests a page makes on its own (the live list's poll): they do not keep a session alive.
BACKGROUND_PATHS = frozenset({"/cap-nhat"})


async def optional_session(request: Request) -> Session | None:
    settings = resources(request).settings
    found = await session(resources(request).db(), request.cookies.get(COOKIE),
                          idle=timedelta(minutes=settings.console_idle_minutes),
                          touch=request.url.path not in BACKGROUND_PATHS)
    request.state.console_session = found
    return found


async def staff(request: Request) -> Session:
    """The signed-in staff member (a kiosk credential is sent to its one screen)."""
    found = await optional_session(request)
    if found is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NeedLogin(path)
    if found.user.roles == {Role.KIOSK}:
        raise ConsoleError(403, "Tài khoản kiosk chỉ dùng màn hình đánh giá (/danh-gia).")
    return found


def require_role(current: Session, *roles: Role, what: str) -> None:
    """ConsoleError 403 unless the user holds one of `roles`."""
    if not current.user.roles & set(roles):
        names = ", ".join(ROLE_LABELS[r] for r in roles)
        raise ConsoleError(403, f"Bạn không có quyền {what} (cần vai trò: {names}).")


def sees_personal_data(current: Session) -> bool:
    """The rule the API applies too (`motcua.access.privacy`): ops staff see no personal data."""
    return principal_sees_personal_data(current.user.principal)


async def checked_form(request: Request, current: Session) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, current.csrf_token):
        raise ConsoleError(403, "Phiên làm việc đã thay đổi; vui lòng tải lại trang rồi "
                           "thử lại.")
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def lines(form: FormData, name: str) -> list[str]:
    """A textarea's non-empty lines (one paper per line)."""
    return [line.strip() for line in text(form, name).splitlines() if line.strip()]


# Dates and times people type (issue 23 item 14): dd/mm/yyyy and 24-hour HH:MM whatever the
# browser's locale. The console uses text inputs with these patterns instead of the native
# date and time pickers, which follow the browser's locale (mm/dd/yyyy, "05:00 PM" in an
# English browser), and parses them here; ISO dates (old links, bookmarks) are still read.


def parse_day(value: str) -> date:
    """A day typed as dd/mm/yyyy (or ISO yyyy-mm-dd); ValueError for anything else."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    if not re.fullmatch(DAY_PATTERN, value):
        raise ValueError(f"not dd/mm/yyyy: {value!r}")
    day, month, year = (int(p) for p in value.split("/"))
    return date(year, month, day)


def parse_clock(value: str) -> time:
    """A time of day typed as 24-hour HH:MM; ValueError for anything else."""
    value = value.strip()
    if not re.fullmatch(CLOCK_PATTERN, value):
        raise ValueError(f"not HH:MM: {value!r}")
    hour, minute = (int(p) for p in value.split(":"))
    return time(hour, minute)


def vn_day(day: date | str) -> str:
    """'05/01/2026', from a date or an ISO date string (what pages hand back as a value);
    anything else unchanged."""
    if isinstance(day, str):
        try:
            return parse_day(day).strftime("%d/%m/%Y")
        except ValueError:
            return day
    return day.strftime("%d/%m/%Y")


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def now() -> datetime:
    return datetime.now(UTC)


async def on_console_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    return page(request, "error.html", status=exc.status, message=exc.message)


async def on_need_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NeedLogin)
    return redirect(login_url(exc.next_path))
