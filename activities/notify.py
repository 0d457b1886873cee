"""Notification activity: deadline alerts to the operator's webhook, HMAC-signed
(`motcua.notify.webhook`, shared with the dispatcher).

Temporal retries with backoff; a 4xx other than 408/429 is permanent (non-retryable) and the
workflow records it as a failed notification event. Nothing is dropped silently.
"""

from __future__ import annotations

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.codec import to_dict
from domain.contracts import SEND_NOTIFICATION, NotificationRequest
from motcua.metrics import NOTIFICATIONS
from motcua.notify import webhook

log = structlog.get_logger(__name__)


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
        sent = await webhook.post(self._client, self._url, kind=request.kind,
                                  alert=to_dict(request), event_id=request.alert_event_id,
                                  secret=self._secret)
        _count(request.kind, sent.outcome)
        if sent.outcome == "delivered":
            log.info("notification.delivered", kind=request.kind, code=request.code,
                     attempt=attempt)
            return attempt
        if sent.misconfigured:  # retrying cannot fix it, so fail now and be recorded
            raise ApplicationError(sent.error or "", type="WebhookMisconfigured",
                                   non_retryable=True)
        if sent.status_code is None:
            raise ApplicationError(sent.error or "", type="WebhookUnreachable")
        raise ApplicationError(sent.error or "", type="WebhookRejected",
                               non_retryable=sent.outcome == "failed")


def _count(kind: str, outcome: str) -> None:
    NOTIFICATIONS.labels(kind=kind, outcome=outcome).inc()
