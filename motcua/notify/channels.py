"""The citizens' notice channels as delivery adapters: a generic SMS HTTP gateway, Zalo ZNS and
e-mail over SMTP. Each opens the notice (`notices.unseal`) only to send it.

- SMS (`MOTCUA_SMS_URL`): POST `{"to": <phone as entered>, "text": ...}` as JSON, with
  `Authorization: Bearer <MOTCUA_SMS_TOKEN>` when set. A provider's own API (brandname
  gateways differ in field names and signatures) is a small adapter of the same shape; none
  is built until a province names its provider.
- Zalo ZNS (Zalo's documented template-message API): POST `MOTCUA_ZALO_URL` with header
  `access_token` and `{"phone": "84...", "template_id", "template_data", "tracking_id"}`; the
  answer's `error` is 0 on success. A notice kind without an approved template id
  (`MOTCUA_ZALO_TEMPLATES`) is recorded `disabled`: ZNS sends only approved templates.
- E-mail: one text/plain message over SMTP (stdlib `smtplib` in a thread; STARTTLS unless
  disabled), subject from the template.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from motcua.eventstore.outbox import Claimed
from motcua.notify.delivery import Sent, http_outcome, transport_failure
from motcua.notify.notices import unseal
from motcua.payload_codec import Keyring, PayloadKeyError


def _open(keyring: Keyring | None, c: Claimed) -> dict[str, Any] | Sent:
    try:
        return unseal(keyring, c.event_id, c.body)
    except (ValueError, PayloadKeyError) as err:
        return Sent("failed", None, f"cannot open the notice: {err}")


class SmsAdapter:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str | None = None, *,
                 keyring: Keyring | None = None, timeout: float = 15.0) -> None:
        self._http, self._url, self._token = http, url, token
        self._keyring, self._timeout = keyring, timeout

    async def send(self, c: Claimed) -> Sent:
        message = _open(self._keyring, c)
        if isinstance(message, Sent):
            return message
        headers = {"Idempotency-Key": f"{c.event_id}:{c.part}"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = await self._http.post(
                self._url, json={"to": message["to"], "text": message["text"]},
                headers=headers, timeout=self._timeout)
        except httpx.HTTPError as err:
            return transport_failure(err, "SMS gateway")
        return http_outcome(response, "SMS gateway")


def zalo_phone(phone: str) -> str:
    """Zalo wants the international form without '+': 0912345678 -> 84912345678."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


def zalo_templates(setting: str) -> dict[str, str]:
    """`kind:template_id,kind:template_id` -> {kind: template_id}."""
    pairs = (entry.split(":", 1) for entry in setting.split(",") if ":" in entry)
    return {kind.strip(): template.strip() for kind, template in pairs}


class ZaloAdapter:
    def __init__(self, http: httpx.AsyncClient, url: str, access_token: str,
                 templates: dict[str, str], *, keyring: Keyring | None = None,
                 timeout: float = 15.0) -> None:
        self._http, self._url, self._token = http, url, access_token
        self._templates, self._keyring, self._timeout = templates, keyring, timeout

    async def send(self, c: Claimed) -> Sent:
        template = self._templates.get(c.kind)
        if template is None:
            return Sent("disabled", None, f"no approved Zalo template for {c.kind}")
        message = _open(self._keyring, c)
        if isinstance(message, Sent):
            return message
        body = {"phone": zalo_phone(str(message["to"])), "template_id": template,
                "template_data": message.get("template_data", {}),
                "tracking_id": f"{c.event_id}:{c.part}"}
        try:
            response = await self._http.post(self._url, json=body,
                                             headers={"access_token": self._token},
                                             timeout=self._timeout)
        except httpx.HTTPError as err:
            return transport_failure(err, "Zalo")
        if not response.is_success:
            return http_outcome(response, "Zalo")
        answer = response.json()
        error = int(answer.get("error", 0)) if isinstance(answer, dict) else 0
        if error == 0:
            return Sent("delivered", response.status_code)
        detail = f"Zalo error {error}: {answer.get('message', '')}"
        # An expired access token is refreshed by an operator: wait for it, do not fail.
        return Sent("retried" if error == -124 else "failed", response.status_code, detail)


class EmailAdapter:
    def __init__(self, *, host: str, port: int, sender: str, starttls: bool = True,
                 user: str | None = None, password: str | None = None,
                 keyring: Keyring | None = None, timeout: float = 30.0) -> None:
        self._host, self._port, self._sender, self._starttls = host, port, sender, starttls
        self._user, self._password, self._keyring = user, password, keyring
        self._timeout = timeout

    async def send(self, c: Claimed) -> Sent:
        opened = _open(self._keyring, c)
        if isinstance(opened, Sent):
            return opened
        msg = EmailMessage()
        msg["From"], msg["To"] = self._sender, str(opened["to"])
        msg["Subject"] = str(opened.get("subject", ""))
        msg["Message-ID"] = f"<{c.event_id}.{c.part}@motcua>"  # the same on a repeat
        msg.set_content(str(opened["text"]))
        try:
            await asyncio.to_thread(self._send, msg)
        except smtplib.SMTPRecipientsRefused as err:
            return Sent("failed", None, f"SMTP refused the address: {err}")
        except smtplib.SMTPResponseException as err:
            permanent = 500 <= err.smtp_code < 600
            return Sent("failed" if permanent else "retried", err.smtp_code,
                        f"SMTP answered {err.smtp_code}")
        except (OSError, smtplib.SMTPException) as err:
            return Sent("retried", None, f"SMTP unreachable: {type(err).__name__}: {err}")
        return Sent("delivered")

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._user and self._password:
                smtp.login(self._user, self._password)
            smtp.send_message(msg)
