"""The request boundary, as one pure ASGI middleware (no BaseHTTPMiddleware: it would buffer
bodies and break contextvars):

- correlation id: `X-Correlation-Id` from the request (when sane) or a new one, bound in
  structlog's contextvars for every log line of the request, put in `request.state`, and sent
  back as a response header;
- body limit: more than `max_body` bytes answers 413 (by Content-Length, or while streaming);
  a file upload (`motcua.api.guard.is_upload`) may carry MOTCUA_FILE_MAX_BYTES plus the form's
  overhead instead;
- one access log line and the `motcua_http_request_duration_seconds` histogram, labelled by
  the route *template* (never the concrete path, which holds dossier codes);
- last line of defence: an exception no handler took is logged with its stack and answered
  with a bare 500 problem (no stack trace leaves the process).
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motcua import correlation, metrics
from motcua.api.guard import is_upload
from motcua.api.problems import problem_response
from motcua.problems import INTERNAL_ERROR, MALFORMED_REQUEST, PAYLOAD_TOO_LARGE

log = structlog.get_logger("motcua.api")

HEADER = "X-Correlation-Id"
MAX_BODY = 64 * 1024
# An upload's form fields and part headers, beyond the file itself.
UPLOAD_OVERHEAD = 64 * 1024
_CORRELATION = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-correlation-id")
        cid = given if given and _CORRELATION.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = cid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (HEADER.lower().encode(), cid.encode())]
            await send(message)

        token = correlation.bind(cid)  # also into Temporal headers, workflow and activities
        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            try:
                await self._limited(scope, receive, send_with_id)
            except Exception:
                log.exception("http.unhandled_error", path=scope.get("path"))
                if response_started:
                    raise
                await problem_response(INTERNAL_ERROR, "internal error; quote the correlation "
                                       f"id {cid}")(scope, receive, send_with_id)
            finally:
                self._observe(scope, status, time.perf_counter() - started)
                correlation.reset(token)

    def _limit(self, scope: Scope) -> int:
        file_settings = getattr(getattr(scope.get("app"), "state", None), "file_settings", None)
        if file_settings is not None and is_upload(scope):
            return int(file_settings.file_max_bytes) + UPLOAD_OVERHEAD
        return self.max_body

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        length = _header(scope, b"content-length")
        if length is not None and not length.isdigit():
            await problem_response(MALFORMED_REQUEST, "Content-Length is not a number")(
                scope, receive, send)
            return
        if length is not None and int(length) > limit:
            await problem_response(PAYLOAD_TOO_LARGE, f"the body limit is {limit} "
                                   "bytes")(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"the body limit is {limit} bytes")
            return message

        await self.app(scope, counted, send)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        route = _route_template(scope)
        metrics.HTTP_REQUEST_DURATION.labels(
            route=route, method=method if method in _METHODS else "OTHER",
            status=str(status)).observe(seconds)
        log.info("http.request", method=method, route=route, status=status,
                 duration_ms=round(seconds * 1000, 1))
