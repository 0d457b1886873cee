"""Notification activity: deadline alerts to the operator's webhook, HMAC-signed.

Temporal retries with backoff; a 4xx other than 408/429 is permanent (non-retryable) and the
workflow records it as a failed notification event. Nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.codec import to_dict
from domain.contracts import SEND_NOTIFICATION, NotificationRequest
from motcua.metrics import NOTIFICATIONS

log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-Motcua-Signature"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`, so a receiver can reject replays and forgeries."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class NotificationActivities:
    def __init__(self, client: httpx.AsyncClient, url: str | None, secret: bytes | None) -> None:
        self._client = client
        self._url = url
        self._secret = secret

    @activity.defn(name=SEND_NOTIFICATION)
    async def send_notification(self, request: NotificationRequest) -> int:
        """POST the alert; returns the attempt that delivered it (0: no webhook configured)."""
        attempt = activity.info().attempt
        if not self._url:
            log.info("notification.disabled", kind=request.kind, code=request.code)
            _count(request.kind, "disabled")
            return 0
        body = json.dumps({"type": f"motcua.{request.kind}", **to_dict(request)},
                          ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Motcua-Timestamp": timestamp,
                   "Idempotency-Key": request.alert_event_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
            # A configuration error: retrying cannot fix it, so fail now and be recorded.
            _count(request.kind, "failed")
            raise ApplicationError(f"webhook URL unusable: {err}", type="WebhookMisconfigured",
                                   non_retryable=True) from err
        except httpx.HTTPError as err:
            _count(request.kind, "retried")
            raise ApplicationError(f"webhook unreachable: {err}", type="WebhookUnreachable") \
                from err
        if response.is_success:
            _count(request.kind, "delivered")
            log.info("notification.delivered", kind=request.kind, code=request.code,
                     attempt=attempt)
            return attempt
        # 4xx (but timeout and rate limit) and redirects (not followed: a signed POST must not
        # wander) are permanent; 5xx is retried with backoff.
        code = response.status_code
        permanent = (300 <= code < 500) and code not in (408, 429)
        _count(request.kind, "failed" if permanent else "retried")
        raise ApplicationError(f"webhook answered {response.status_code}",
                               type="WebhookRejected", non_retryable=permanent)


def _count(kind: str, outcome: str) -> None:
    NOTIFICATIONS.labels(kind=kind, outcome=outcome).inc()
