"""What can go wrong, as the application says it: one `Problem` exception with a `Kind` whose
type URI is stable (RFC 9457). The services and the access rules raise it; each interface
renders it its own way (the API as `application/problem+json`, `motcua.api.problems`; the
console as a page in Vietnamese, `motcua.console.acting`).

Clients branch on `type` (a stable URI), never on `title` or `detail`. Extension members:
`field` (the first offending input), `errors` (every offending input), `state` (the dossier's
state when a command is refused), `dependency` (what is unreachable), `checks` (readiness),
`missing` (the components not yet scanned, `digitisation-required`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBLEM_BASE = "https://motcua.dev/problems/"
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Kind:
    """One problem type: its URI slug, a fixed human title and its HTTP status."""

    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


MALFORMED_REQUEST = Kind("malformed-request", "The request is malformed", 400)
UNAUTHORIZED = Kind("unauthorized", "A valid bearer token is required", 401)
FORBIDDEN = Kind("forbidden", "The token does not allow this", 403)
NOT_FOUND = Kind("not-found", "No such resource", 404)
METHOD_NOT_ALLOWED = Kind("method-not-allowed", "Method not allowed", 405)
NOT_ACCEPTABLE = Kind("not-acceptable", "Not acceptable", 406)
INVALID_TRANSITION = Kind("invalid-transition", "The dossier's state forbids this command", 409)
ALREADY_EXTENDED = Kind("already-extended", "The appointment was already extended once", 409)
ALREADY_RATED = Kind("already-rated", "The dossier was already rated", 409)
REQUEST_IN_PROGRESS = Kind(
    "request-in-progress", "A request with this Idempotency-Key is in progress", 409)
PAYLOAD_TOO_LARGE = Kind("payload-too-large", "The request body is too large", 413)
UNSUPPORTED_MEDIA_TYPE = Kind("unsupported-media-type", "Send application/json", 415)
INVALID_INPUT = Kind("invalid-input", "The input is invalid", 422)
TOO_MANY_REQUESTS = Kind("too-many-requests", "Too many requests; retry later", 429)
INVALID_COMMAND = Kind("invalid-command", "The command breaks a rule of the procedure", 422)
IDEMPOTENCY_KEY_REUSED = Kind(
    "idempotency-key-reused", "The Idempotency-Key was already used for another request", 422)
DOCUMENT_UNAVAILABLE = Kind(
    "document-unavailable", "The dossier has no such document (yet)", 409)
# Issue 26: the procedure requires every paper scanned before assignment; `missing` lists them.
DIGITISATION_REQUIRED = Kind(
    "digitisation-required", "Scan every component before the dossier is assigned", 409)
INTERNAL_ERROR = Kind("internal-error", "Internal error", 500)
SERVICE_UNAVAILABLE = Kind("service-unavailable", "A backing service is unavailable", 503)

ALL_KINDS = (MALFORMED_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED,
             NOT_ACCEPTABLE, INVALID_TRANSITION, ALREADY_EXTENDED, ALREADY_RATED,
             PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, INVALID_INPUT, TOO_MANY_REQUESTS,
             INVALID_COMMAND, REQUEST_IN_PROGRESS,
             IDEMPOTENCY_KEY_REUSED, DOCUMENT_UNAVAILABLE, DIGITISATION_REQUIRED, INTERNAL_ERROR,
             SERVICE_UNAVAILABLE)
_BY_URI = {k.uri: k for k in ALL_KINDS}


class Problem(Exception):
    """Raise anywhere in a request to answer with this problem."""

    def __init__(self, kind: Kind, detail: str, *, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}
        self.extensions = {k: v for k, v in extensions.items() if v is not None}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Problem:
        """The problem a problem document describes (`problem_body`), e.g. a refusal stored as
        an idempotent answer and replayed."""
        kind = _BY_URI.get(str(body.get("type"))) or Kind(
            "unknown", str(body.get("title", "")), int(body.get("status", 500)))
        extensions = {k: v for k, v in body.items()
                      if k not in ("type", "title", "status", "detail")}
        return cls(kind, str(body.get("detail", "")), **extensions)


def unavailable(dependency: str, detail: str) -> Problem:
    """503 with `Retry-After`, naming the dependency (`temporal` or `postgresql`)."""
    return Problem(SERVICE_UNAVAILABLE, detail, dependency=dependency,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def invalid_input(field: str, message: str) -> Problem:
    """422 naming one offending field."""
    return Problem(INVALID_INPUT, f"{field}: {message}", field=field,
                   errors=[{"field": field, "message": message}])


def problem_body(problem: Problem) -> dict[str, Any]:
    """The problem document of `problem` (as `from_problem` sends it)."""
    return {"type": problem.kind.uri, "title": problem.kind.title,
            "status": problem.kind.status, "detail": problem.detail, **problem.extensions}
