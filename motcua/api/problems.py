"""RFC 9457 problem details over HTTP: the handlers that turn every failure a client can cause
into `application/problem+json` (never a stack trace), the problem document as OpenAPI shows it,
and the `responses=` entries of the routes. The problems themselves (`Problem`, its kinds) are
the application's, in `motcua.problems`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from motcua.problems import (
    ALL_KINDS,
    INVALID_INPUT,
    INVALID_TRANSITION,
    MALFORMED_REQUEST,
    Kind,
    Problem,
    unavailable,
)

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
_BY_STATUS = {k.status: k for k in ALL_KINDS if k.status not in (409, 422)}


class FieldError(BaseModel):
    """One offending input: where it is (dotted path) and what is wrong with it."""

    field: str
    message: str


class ProblemModel(BaseModel):
    """The problem document (RFC 9457) as OpenAPI shows it."""

    model_config = ConfigDict(extra="allow", title="Problem", json_schema_extra={"examples": [{
        "type": INVALID_TRANSITION.uri, "title": INVALID_TRANSITION.title, "status": 409,
        "detail": "CompleteProcessing is not allowed while the dossier is received",
        "state": "received"}]})

    type: str = Field(description="Stable URI naming the problem; branch on this.")
    title: str
    status: int
    detail: str
    field: str | None = Field(default=None, description="The first offending input field.")
    errors: list[FieldError] | None = Field(
        default=None, description="The offending inputs, at most 20 (names cut at 100 "
        "characters).")
    errors_omitted: int | None = Field(default=None,
                                       description="How many more errors were not listed.")
    state: str | None = Field(default=None, description="The dossier's state (409).")
    dependency: str | None = Field(default=None, description="What is unreachable (503).")
    checks: dict[str, str] | None = None


def problem_response(kind: Kind, detail: str, *, headers: dict[str, str] | None = None,
                     **extensions: Any) -> JSONResponse:
    """The `application/problem+json` response for `kind`."""
    body = {"type": kind.uri, "title": kind.title, "status": kind.status, "detail": detail,
            **{k: v for k, v in extensions.items() if v is not None}}
    return JSONResponse(body, status_code=kind.status, headers=headers, media_type=MEDIA_TYPE)


def from_problem(problem: Problem) -> JSONResponse:
    return problem_response(problem.kind, problem.detail, headers=problem.headers,
                            **problem.extensions)


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return from_problem(exc)


# A problem never grows with the input: a body of 10,000 unknown keys must not answer with a
# 10,000-entry list echoing every key. Beyond the cap, `errors_omitted` says how many were left.
MAX_ERRORS = 20
MAX_ECHO = 100


def _short(text: str) -> str:
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO - 1] + "…"


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    errors = [{"field": _short(_field(tuple(e.get("loc", ())))),
               "message": _short(str(e.get("msg", "")))} for e in raw[:MAX_ERRORS]]
    omitted = len(raw) - len(errors) or None
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(MALFORMED_REQUEST, "the body is not valid JSON", field="body",
                                errors=errors, errors_omitted=omitted)
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem_response(INVALID_INPUT, f"{first['field']}: {first['message']}",
                            field=first["field"], errors=errors, errors_omitted=omitted)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _BY_STATUS.get(exc.status_code) or Kind(
        f"http-{exc.status_code}", "HTTP error", exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else kind.title
    return problem_response(kind, detail, headers=dict(exc.headers or {}))


# PostgreSQL unreachable once the pool exists: refused connections (OSError), a server shutting
# down or starting up, a connection lost mid-query, or a pooled connection found closed after a
# restart (asyncpg's InterfaceError "connection is closed"), or a pooled connection left
# mid-operation by a query cut off by that fault (asyncpg's InternalClientError "cannot switch
# to state 12; another operation is in progress", seen once in the fault-injection test on
# 7 Dec, in the token lookup before any change). Anything else stays a 500.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.InterfaceError,
    asyncpg.InternalClientError)


async def _on_database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("postgresql.unavailable", error=f"{type(exc).__name__}: {exc}")
    return from_problem(unavailable("postgresql", "PostgreSQL is unavailable"))


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into problem responses."""
    app.add_exception_handler(Problem, _on_problem)
    for exc_type in DATABASE_DOWN:
        app.add_exception_handler(exc_type, _on_database_down)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem bodies for these statuses."""
    ref = {"$ref": "#/components/schemas/Problem"}
    described = {400: "Malformed request", 401: "Missing or invalid token",
                 403: "The token's role or unit does not allow this",
                 404: "No such dossier (or not visible to this token)",
                 409: "The dossier's state forbids the command", 413: "Body over the limit",
                 415: "Body is not JSON", 422: "Invalid input; `field` names it",
                 429: "Too many requests; retry after `Retry-After` seconds",
                 503: "Temporal or PostgreSQL unreachable; retry after `Retry-After` seconds"}
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": described.get(status, "Problem"),
                                 "content": {MEDIA_TYPE: {"schema": ref}}}
        if status in (409, 429, 503):
            entry["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                "description": "Seconds to wait" + (
                                                    " (only for request-in-progress)"
                                                    if status == 409 else "")}}
        out[status] = entry
    return out
