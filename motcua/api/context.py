"""Per-request context shared by the routes: correlation id, and for POSTs the idempotency key
and the resources they need; and how a service's `Answer` goes out as a response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from motcua.access.tokens import Principal
from motcua.api.problems import MEDIA_TYPE
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.services import idempotency
from motcua.services.dossiers import Caller
from motcua.services.idempotency import Answer
from motcua.services.resources import Resources


def correlation_id(request: Request) -> str:
    """The request's correlation id (set by `RequestContext`)."""
    value = getattr(request.state, "correlation_id", None)
    return value if isinstance(value, str) else "none"


@dataclass(frozen=True)
class PostContext:
    """What a POST handler needs besides its body and its caller."""

    resources: Resources
    correlation_id: str
    idempotency_key: str | None

    def caller(self, principal: Principal) -> Caller:
        """The service's view of this request, sent by `principal`."""
        return Caller(principal, self.correlation_id, self.idempotency_key)


async def post_context(
        request: Request, resources: ResourcesDep,
        pool: PoolDep,  # 503 while PostgreSQL is unreachable, before the body is looked at
        idempotency_key: Annotated[str | None, Header(
            # The pattern is documented, not enforced here: `check_key` answers 400 (a
            # malformed header is a malformed request, not invalid input).
            alias=idempotency.HEADER,
            json_schema_extra={"pattern": idempotency.KEY_PATTERN.pattern},
            description="Recommended on every POST: a retry with the same key and body "
            "returns the first response and changes nothing; the same key with another body "
            "is refused (422). Scoped to the token; kept 7 days.",
            examples=["0f8e6a4c-2d7b-4c55-9a57-8d1f0b6e2a11"])] = None,
) -> PostContext:
    return PostContext(resources=resources, correlation_id=correlation_id(request),
                       idempotency_key=idempotency.check_key(idempotency_key))


PostCtx = Annotated[PostContext, Depends(post_context)]


def respond(answer: Answer) -> JSONResponse:
    """The HTTP response of a command's answer; a replay says so (`Idempotent-Replayed`),
    and a replayed refusal is a problem document."""
    if not answer.replayed:
        return JSONResponse(answer.body, status_code=answer.status_code)
    return JSONResponse(answer.body, status_code=answer.status_code,
                        headers={"Idempotent-Replayed": "true"},
                        media_type=MEDIA_TYPE if answer.status_code >= 400 else None)
