"""Per-request context shared by the routes: correlation id, and for POSTs the idempotency key
and the resources they need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request

from motcua.api import idempotency
from motcua.api.resources import PoolDep, Resources, ResourcesDep
from motcua.payload_codec import Keyring, keyring_from


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

    @property
    def keyring(self) -> Keyring | None:
        """The payload keys, which also seal stored idempotency responses (None: unset)."""
        keys = self.resources.settings.payload_keys
        return keyring_from(keys.get_secret_value() if keys else None)


async def post_context(
        request: Request, resources: ResourcesDep, pool: PoolDep,
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
    return PostContext(resources=resources, pool=pool, correlation_id=correlation_id(request),
                       idempotency_key=idempotency.check_key(idempotency_key))


PostCtx = Annotated[PostContext, Depends(post_context)]
