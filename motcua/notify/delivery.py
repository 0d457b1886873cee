"""What the dispatcher needs from a destination: an adapter that makes one attempt and says how
it went. Adapters (webhook, portal, SMS, Zalo, e-mail) live in their own modules and know
nothing of the outbox's tables; the dispatcher owns claims, order, retries and records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from motcua.eventstore.outbox import Claimed

Outcome = Literal["delivered", "retried", "failed", "disabled"]


@dataclass(frozen=True)
class Sent:
    """One attempt's result: `retried` is a failure worth trying again (the dispatcher turns
    it into `failed` once its policy gives up); `failed` is permanent."""

    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    # A URL that cannot be used at all: a `failed` that no retry or receiver can change.
    misconfigured: bool = False


class Adapter(Protocol):
    async def send(self, delivery: Claimed) -> Sent:
        """Make one attempt to deliver `delivery` (never raises for a delivery problem)."""
        ...


def http_outcome(response: httpx.Response, what: str) -> Sent:
    """The usual reading of an HTTP answer: 2xx delivers; 3xx and 4xx other than 408 and 429
    are permanent (repeating a refused request cannot help); 5xx, 408 and 429 are retried."""
    code = response.status_code
    if response.is_success:
        return Sent("delivered", code)
    permanent = 300 <= code < 500 and code not in (408, 429)
    return Sent("failed" if permanent else "retried", code, f"{what} answered {code}")


def transport_failure(err: httpx.HTTPError, what: str) -> Sent:
    """A request that got no answer: an unusable URL is permanent, anything else (refused,
    timed out, reset) is retried."""
    if isinstance(err, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return Sent("failed", None, f"{what} URL unusable: {err}", misconfigured=True)
    return Sent("retried", None, f"{what} unreachable: {type(err).__name__}: {err}")
