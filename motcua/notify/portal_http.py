"""The national portal's delivery adapter: one POST of a queued change to
`<MOTCUA_PORTAL_URL>/<service>` with `Authorization: Bearer <MOTCUA_PORTAL_TOKEN>`.

The body is what `motcua.notify.portal` composed at ingest. How an answer is read (public
clients' shapes, motcua.notify.portal's docstring; the rest our reading):
- HTTP 2xx with `error_code` "00" (or 0, or no `error_code` at all): delivered;
- "already exists" to an insert (`isUpdating: "False"`) is answered by sending the same dossier
  again as an update at once, and "not found" to an update by an insert (the portal lost it, or
  the portal was connected after the receipt): the upsert is an upsert whatever the portal held;
- another `error_code`: the portal refused this content; retrying cannot help (failed, visible
  on the console and in `motcua_deliveries_failed`, resent by `motcua portal reconcile`);
- 5xx, 408, 429, a refused connection, a timeout: retried with the destination's backoff;
- 401 and 403 are retried too: an expired token is an operator's fix, and the changes wait for
  it rather than fail (for up to `MOTCUA_DELIVERY_RETRY_HOURS`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from motcua.eventstore.outbox import Claimed
from motcua.notify.delivery import Sent, http_outcome, transport_failure
from motcua.notify.portal import UPSERT

OK_CODES = frozenset({"0", "00"})
_EXISTS = ("đã tồn tại", "already exist", "exists")
_NOT_FOUND = ("không tồn tại", "không tìm thấy", "not found")


def _message(answer: dict[str, Any]) -> str:
    for key in ("message", "error_message", "error", "msg"):
        if answer.get(key):
            return str(answer[key])
    return ""


class PortalAdapter:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str,
                 timeout: float = 30.0) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def send(self, c: Claimed) -> Sent:
        body = dict(c.body)
        service = str(body["service"])
        headers = {"Authorization": f"Bearer {self._token}",
                   "Idempotency-Key": f"{c.event_id}:{c.part}", "X-Motcua-Event-Id": c.event_id}
        for _ in range(2):  # at most one switch between insert and update
            try:
                response = await self._http.post(f"{self._url}/{service}", json=body,
                                                 headers=headers, timeout=self._timeout)
            except httpx.HTTPError as err:
                return transport_failure(err, "portal")
            if response.status_code in (401, 403):
                return Sent("retried", response.status_code,
                            f"portal refused the token ({response.status_code})")
            if not response.is_success:
                return http_outcome(response, "portal")
            try:
                answer = response.json()
            except json.JSONDecodeError:
                answer = {}
            if not isinstance(answer, dict) or "error_code" not in answer:
                return Sent("delivered", response.status_code)
            code = str(answer["error_code"])
            if code in OK_CODES:
                return Sent("delivered", response.status_code)
            message = _message(answer).lower()
            if service == UPSERT and body.get("isUpdating") == "False" \
                    and any(m in message for m in _EXISTS):
                body["isUpdating"] = "True"
                continue
            if service == UPSERT and body.get("isUpdating") == "True" \
                    and any(m in message for m in _NOT_FOUND):
                body["isUpdating"] = "False"
                continue
            return Sent("failed", response.status_code,
                        f"portal error {code}: {_message(answer)}"[:500])
        return Sent("failed", None, "portal answered both insert and update with an error")
