"""The operator's webhook: one signed POST of a deadline alert and what its answer means.

Both senders use it: the dispatcher (`motcua.notify.dispatcher`, the current path) and the
workflow's notification activity (`activities.notify`, kept for the histories that still call
it). The body is the alert as JSON with `type: motcua.<kind>`; `Idempotency-Key` is the alert's
event id, so a receiver keeps the first delivery and drops repeats; with a secret the body is
HMAC-signed over `timestamp.body`.

How an answer is classed: 2xx delivers; a redirect (a signed POST must not wander) and a 4xx
other than 408 and 429 (repeating a refused request cannot help) fail for good, as does a URL
that cannot be used; 5xx, 408, 429 and transport errors are worth retrying.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

SIGNATURE_HEADER = "X-Motcua-Signature"
TIMESTAMP_HEADER = "X-Motcua-Timestamp"

Outcome = Literal["delivered", "failed", "retried"]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`, so a receiver can reject replays and forgeries."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Sent:
    """The outcome of one POST: `misconfigured` marks a URL that cannot be used at all (a
    `failed` that no retry or receiver can change)."""

    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    misconfigured: bool = False


async def post(http: httpx.AsyncClient, url: str, *, kind: str, alert: dict[str, Any],
               event_id: str, secret: bytes | None, headers: dict[str, str] | None = None,
               request_timeout: float | None = None) -> Sent:
    """POST `alert` (the alert's fields) as a `motcua.<kind>` notification to `url`, keyed by
    `event_id` and signed with `secret` when there is one; `headers` are added, `request_timeout`
    (seconds) overrides the client's. Never raises for what the receiver or the network
    does: the answer is classed as `Sent`."""
    body = json.dumps({"type": f"motcua.{kind}", **alert}, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    sent_headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                    "Idempotency-Key": event_id, **(headers or {})}
    if secret:
        sent_headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    try:
        response = await http.post(
            url, content=body, headers=sent_headers,
            timeout=httpx.USE_CLIENT_DEFAULT if request_timeout is None else request_timeout)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        return Sent("failed", error=f"webhook URL unusable: {err}", misconfigured=True)
    except httpx.HTTPError as err:
        return Sent("retried", error=f"webhook unreachable: {type(err).__name__}: {err}")
    code = response.status_code
    if response.is_success:
        return Sent("delivered", code)
    permanent = 300 <= code < 500 and code not in (408, 429)
    return Sent("failed" if permanent else "retried", code, f"webhook answered {code}")
