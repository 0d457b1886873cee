"""Before a request body is read: who is asking, and is the body JSON?

FastAPI parses the JSON body before any dependency runs, so without this an anonymous client
learns that its JSON is malformed (400) before being told it is not authenticated, and a body
sent as text/plain or a form is validated as if it were JSON (422). For every write under
`/v1/` (except the public lookup) and `/codec/`, this pure ASGI middleware answers first:

1. 401 when there is no valid bearer token (the route's own `require(...)` then checks roles
   and units, after the body is parsed — a 403 never depends on the body either);
2. 415 when the body is declared as anything other than JSON (`application/json` or
   `application/<x>+json`); a body without Content-Type is read as JSON, as FastAPI does.
   The one exception is a file upload (`POST /v1/dossiers/{code}/files` and `.../result`,
   issue 26), which
   must be `multipart/form-data` (415 for anything else, a missing Content-Type included);
   `motcua.api.middleware` gives it the file size limit instead of the 64 KiB body cap.
"""

from __future__ import annotations

import email.message
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from motcua.access.tokens import AUTHENTICATED, authenticate
from motcua.api.auth import unauthorized
from motcua.api.problems import DATABASE_DOWN, from_problem, problem_response
from motcua.problems import UNSUPPORTED_MEDIA_TYPE, Problem, unavailable

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_GUARDED = ("/v1/", "/codec/")
_OPEN = ("/v1/public/",)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def is_json(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (`application/json`, `application/*+json`)."""
    message = email.message.Message()
    message["content-type"] = content_type
    kind = message.get_content_type()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


# The API's uploads and the console's scan form (`motcua.console.files`).
_UPLOAD = re.compile(r"^(/v1/dossiers/[^/]+/(files|result)|/ho-so/[^/]+/tep)/?$")


def is_upload(scope: Scope) -> bool:
    """Whether the request is a multipart file upload (the one exemption from JSON)."""
    return scope.get("method") == "POST" and bool(_UPLOAD.match(str(scope.get("path", ""))))


def is_multipart(content_type: str | None) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type or ""
    return content_type is not None and message.get_content_type() == "multipart/form-data"


def guarded(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    return (scope.get("method") in _WRITES and path.startswith(_GUARDED)
            and not path.startswith(_OPEN))


class BodyGuard:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not guarded(scope):
            await self.app(scope, receive, send)
            return
        try:
            await self._authenticate(scope)
        except Problem as problem:
            await from_problem(problem)(scope, receive, send)
            return
        except DATABASE_DOWN:
            await from_problem(unavailable("postgresql", "PostgreSQL is unavailable"))(
                scope, receive, send)
            return
        content_type = _header(scope, b"content-type")
        if is_upload(scope):
            if not is_multipart(content_type):
                await problem_response(UNSUPPORTED_MEDIA_TYPE,
                                       "send the file as multipart/form-data",
                                       field="Content-Type")(scope, receive, send)
                return
        elif content_type is not None and not is_json(content_type):
            await problem_response(UNSUPPORTED_MEDIA_TYPE, "send the body as application/json",
                                   field="Content-Type")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        header = _header(scope, b"authorization") or ""
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorized("send Authorization: Bearer <token>")
        pool = scope["app"].state.resources.db()
        principal = await authenticate(pool, secret.strip())
        if principal is None:
            raise unauthorized("the token is unknown or revoked")
        # Handed to the route's `current_principal`, which then needs no second lookup.
        scope.setdefault("state", {})[AUTHENTICATED] = (secret.strip(), principal)
