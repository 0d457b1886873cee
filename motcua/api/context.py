"""Per-request context shared by the routes: correlation id, and for POSTs the idempotency key
and the resources they need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from motcua.api import idempotency
from motcua.api.idempotency import Claim
from motcua.api.resources import PoolDep, Resources, ResourcesDep


def correlation_id(request: Request) -> str:
    """The request's correlation id (set by `RequestContext`)."""
    value = getattr(request.state, "correlation_id", None)
    return value if isinstance(value, str) else "none"


@dataclass(frozen=True)
class PostContext:
    """What a POST handler needs besides its body and its caller."""

    resources: Resources
    pool: asyncpg.Pool
    correlation_id: str
    idempotency_key: str | None


async def post_context(
        request: Request, resources: ResourcesDep, pool: PoolDep,
        idempotency_key: Annotated[str | None, Header(
            alias=idempotency.HEADER, pattern=idempotency.KEY_PATTERN.pattern,
            description="Recommended on every POST: a retry with the same key and body "
            "returns the first response and changes nothing; the same key with another body "
            "is refused (422). Scoped to the token; kept 7 days.",
            examples=["0f8e6a4c-2d7b-4c55-9a57-8d1f0b6e2a11"])] = None,
) -> PostContext:
    return PostContext(resources=resources, pool=pool, correlation_id=correlation_id(request),
                       idempotency_key=idempotency.check_key(idempotency_key))


PostCtx = Annotated[PostContext, Depends(post_context)]


def replay(claim: Claim) -> JSONResponse:
    """The stored response of an earlier request with the same key."""
    assert claim.status_code is not None
    return JSONResponse(claim.response, status_code=claim.status_code,
                        headers={"Idempotent-Replayed": "true"})


def respond(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code)
