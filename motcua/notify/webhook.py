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
from typing import Any

import httpx

from motcua.notify.delivery import Sent, http_outcome, transport_failure

SIGNATURE_HEADER = "X-Motcua-Signature"
TIMESTAMP_HEADER = "X-Motcua-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`, so a receiver can reject replays and forgeries."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


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
    except httpx.HTTPError as err:
        return transport_failure(err, "webhook")
    return http_outcome(response, "webhook")
