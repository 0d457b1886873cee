"""`/login` and `/logout`. Before login there is no session to hold a CSRF token, so the login
form uses a double-submit cookie: a random value both in a cookie and in the form, which a
cross-site form cannot read to copy."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from motcua.access import users
from motcua.access.users import Outcome
from motcua.console.web import (
    COOKIE,
    CSRF_FIELD,
    ConsoleError,
    optional_session,
    page,
    redirect,
    resources,
    text,
)

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "motcua_csrf_dang_nhap"

# Every failed login gets the same page, status and wording, whether the name exists, is
# disabled or the password is wrong (OWASP Authentication Cheat Sheet, "Authentication and
# Error Messages"); only the audit (`console_logins.outcome`) tells them apart.
FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."


def _throttled(seconds: int) -> str:
    return (f"Đăng nhập sai nhiều lần từ máy này; vui lòng thử lại sau {seconds} giây "
            "(tài khoản không bị khóa).")


def _safe_next(value: str) -> str:
    """Only a path on this site (never `//host` or a scheme): no open redirect."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _client(request: Request) -> tuple[str | None, str | None]:
    """The client's address (a proxy's X-Forwarded-For counts only when the proxy is trusted:
    MOTCUA_FORWARDED_ALLOW_IPS, passed to uvicorn by the web process) and its user agent."""
    host = request.client.host if request.client else None
    return host, request.headers.get("user-agent")


def _login_page(request: Request, *, next_path: str, error: str = "", username: str = "",
                status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, login_csrf=token, next=next_path,
                    error=error, username=username)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=resources(request).settings.secure_cookies, path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> Response:
    if await optional_session(request) is not None:
        return redirect(_safe_next(next))
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    next_path = _safe_next(text(form, "next") or "/")
    sent, kept = text(form, CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not hmac.compare_digest(sent, kept):
        return _login_page(request, next_path=next_path, status=403,
                           error="Trang đăng nhập đã hết hạn; vui lòng nhập lại.")
    username, password = text(form, "username"), form.get("password")
    if not username or not isinstance(password, str) or not password:
        return _login_page(request, next_path=next_path, username=username, status=422,
                           error="Vui lòng nhập tên đăng nhập và mật khẩu.")
    if len(username) > 64 or len(password) > 256:
        return _login_page(request, next_path=next_path, status=422, error=FAILED)
    host, agent = _client(request)
    outcome, secret, wait = await users.login(resources(request).db(), username, password,
                                              remote_addr=host, user_agent=agent)
    if outcome is Outcome.THROTTLED:
        answer = _login_page(request, next_path=next_path, username=username, status=429,
                            error=_throttled(wait or 1))
        answer.headers["Retry-After"] = str(wait or 1)
        return answer
    if secret is None:
        return _login_page(request, next_path=next_path, username=username, status=401,
                           error=FAILED)
    response = redirect(next_path)
    response.set_cookie(COOKIE, secret, httponly=True, samesite="strict",
                        secure=resources(request).settings.secure_cookies,
                        max_age=int(users.SESSION_LIFETIME.total_seconds()), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    current = await optional_session(request)
    if current is not None:
        form = await request.form()
        if not hmac.compare_digest(text(form, CSRF_FIELD), current.csrf_token):
            raise ConsoleError(403, "Phiên làm việc đã thay đổi; vui lòng tải lại trang.")
        host, agent = _client(request)
        await users.logout(resources(request).db(), request.cookies.get(COOKIE, ""),
                           current.user.username, remote_addr=host, user_agent=agent)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response
