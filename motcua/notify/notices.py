"""Citizens' notices (issue 25): which events the citizen hears about, on which channels, in
which words.

Sources: Decree 297/2025 has supplement requests go through the portal and SMS; Đồng Tháp
138/2025/QĐ-UBND art. 3(6) announces late dossiers by e-mail, message, phone or social
network; Khánh Hòa's 18 automatic SMS cases (2019) cover intake, pauses, result, refusal and
overdue (DOMAIN.md §9.4). Which event makes which notice, and that the apology is the
extension (DeadlineExtended), is our reading of those.

Who: the citizen chooses the channels at intake (`notify_by` on the receipt or the online
submission); nothing is sent to one who chose none. SMS and Zalo go to the proxy's phone when a
proxy filed, else to the applicant's; e-mail to the applicant's address. A chosen channel with
no address to send to is skipped.

What: one short Vietnamese text per kind from a Jinja template (`templates/<kind>.txt`; a file
of the same name in `MOTCUA_NOTICE_TEMPLATES` overrides it), with the dossier code and only
what the notice needs (no name, no id number). A template may `{% set subject = ... %}` for
e-mail. Texts are composed when the event is read (ingest) and, with `MOTCUA_PAYLOAD_KEYS`
set, stored sealed (AES-256-GCM, the event id as associated data) until the adapter sends
them; the delivery row keeps only the channel and the sealed box.

The lookup link: the lookup secret exists in clear only at intake (the receipt's 201, or the
acceptance of an online submission; motcua.lookup), never in an event. When the citizen chose
a channel and payload keys are set, the intake seals it (`hold_secret`, table
`notice_secrets`, the dossier code bound as associated data) before the workflow starts; the
router opens it when it composes the receipt (or acceptance) notice, deletes it in the same
transaction, and the link `MOTCUA_PUBLIC_URL/tra-cuu#<code>.<secret>` lives on only in the
sealed notice until the adapter sends it. Without payload keys (or without
`MOTCUA_PUBLIC_URL`) the secret is not kept at all and the notice links to the lookup page
alone (the citizen types the secret printed on the receipt).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import jinja2

from domain import events as ev
from motcua.eventstore import store
from motcua.eventstore.outbox import NewDelivery
from motcua.eventstore.store import Conn
from motcua.lookup import lookup_url, normalise
from motcua.payload_codec import Keyring

CHANNELS = ("sms", "zalo", "email")
KINDS = ("receipt", "submission_accepted", "submission_refused", "supplement_request",
         "extension", "result_ready", "returned", "refusal", "withdrawal", "stop",
         "transfer_returned")
SEALED = "sealed"


def environment(override: Path | None = None) -> jinja2.Environment:
    """The templates: the province's folder first, then the shipped ones."""
    loaders: list[jinja2.BaseLoader] = []
    if override is not None:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.PackageLoader("motcua.notify", "templates"))
    # Plain text, not HTML: no autoescape (the e-mail is sent as text/plain).
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def render(env: jinja2.Environment, kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, text) of notice `kind`."""
    template = env.get_template(f"{kind}.txt")
    module = template.make_module(dict(context))
    text = str(module).strip()
    subject = str(getattr(module, "subject", "")) or text[:80]
    return subject, text


def lookup_link(public_url: str, code: str, secret: str | None) -> str:
    """The lookup page, with the secret in the fragment when we have it; "" without a public
    address (a relative link means nothing in an SMS)."""
    if not public_url:
        return ""
    if secret:
        return lookup_url(code, secret, public_url.rstrip("/"))
    return f"{public_url.rstrip('/')}/tra-cuu"


async def hold_secret(conn: Conn | asyncpg.Pool, keyring: Keyring, code: str, secret: str) -> None:
    """Keep dossier `code`'s new lookup secret sealed for its receipt notice (see the module
    docstring); a later call for the same dossier replaces it."""
    key_id, box = keyring.seal(normalise(secret).encode("ascii"), code.encode())
    await conn.execute(
        "INSERT INTO notice_secrets (dossier_code, key_id, box) VALUES ($1, $2, $3) "
        "ON CONFLICT (dossier_code) DO UPDATE SET key_id = excluded.key_id, "
        "box = excluded.box, created_at = now()", code, key_id, box)


async def drop_secret(conn: Conn | asyncpg.Pool, code: str) -> None:
    """Forget a held secret that will not be used (its receipt was refused)."""
    await conn.execute("DELETE FROM notice_secrets WHERE dossier_code = $1", code)


async def _take_secrets(conn: Conn, keyring: Keyring | None,
                        codes: Sequence[str]) -> dict[str, str]:
    """The held secrets of `codes`, deleted as they are taken (in the caller's transaction)."""
    if keyring is None or not codes:
        return {}
    rows = await conn.fetch("DELETE FROM notice_secrets WHERE dossier_code = ANY($1) "
                            "RETURNING dossier_code, key_id, box", list(codes))
    return {r["dossier_code"]: keyring.open(r["key_id"], bytes(r["box"]),
                                            r["dossier_code"].encode()).decode("ascii")
            for r in rows}


def _when(at: datetime | None, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y") if at is not None else ""


def notice_of(event: ev.Event, first: ev.Event, tz: tzinfo, public_url: str,
              secret: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """(kind, template context) of the notice `event` makes, if any. `first` is the dossier's
    first event (receipt or online submission); `secret`, the lookup secret held at intake,
    goes into the receipt (or acceptance) notice's link."""
    code = getattr(first, "code", "")
    ctx: dict[str, Any] = {"code": code}
    match event:
        case ev.DeadlineSet(version=1):
            # The first due time is the receipt's appointment (or the accepted submission's).
            kind = "submission_accepted" if isinstance(first, ev.DossierSubmitted) \
                else "receipt"
            ctx |= {"appointment": _when(event.due_at, tz),
                    "lookup_url": lookup_link(public_url, code, secret)}
        case ev.SubmissionRefused():
            kind, ctx["reason"] = "submission_refused", event.reason
        case ev.SupplementRequested() | ev.IntakeSupplementRequested():
            kind = "supplement_request"
            ctx |= {"reason": event.reason, "documents": list(event.documents)}
        case ev.DeadlineExtended():
            kind = "extension"
            ctx |= {"reason": event.reason, "new_appointment": _when(event.new_due_at, tz),
                    "previous_appointment": _when(event.previous_due_at, tz)}
        case ev.ResultReady():
            kind = "result_ready"
            ctx["by_post"] = getattr(first, "result_delivery", "counter") == "post"
        case ev.ResultReturned():
            kind = "returned"
        case ev.DossierRefused():
            kind, ctx["reason"] = "refusal", event.reason
        case ev.DossierWithdrawn():
            kind = "withdrawal"
        case ev.ProcessingStopped():
            kind, ctx["reason"] = "stop", event.reason
        case ev.TransferReturned(to_unit=to_unit) if to_unit == getattr(first, "unit_code",
                                                                        None):
            # Back at the one-stop shop that received it as unfit: the shop tells the citizen
            # within 01 working day (Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a)); this notice,
            # sent at once on the channels the citizen chose, is how (our reading). A return
            # between two other units is theirs to settle: no notice.
            kind, ctx["reason"] = "transfer_returned", event.reason
        case _:
            return None
    return kind, ctx


def recipients(first: ev.Event) -> dict[str, str]:
    """Channel -> address for the channels the citizen chose and has an address for."""
    chosen = getattr(first, "notify_by", ())
    phone = getattr(first, "proxy_phone", None) or getattr(first, "applicant_phone", None)
    email = getattr(first, "applicant_email", None)
    out: dict[str, str] = {}
    for channel in chosen:
        address = email if channel == "email" else phone
        if channel in CHANNELS and address:
            out[channel] = address
    return out


def seal(keyring: Keyring | None, event_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """The delivery body: the message sealed under the primary key (event id bound), or as
    is without keys (the dev stack)."""
    if keyring is None:
        return message
    key_id, box = keyring.seal(json.dumps(message, ensure_ascii=False).encode(),
                               event_id.encode())
    return {SEALED: base64.b64encode(box).decode(), "key": key_id}


def unseal(keyring: Keyring | None, event_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The message of a delivery body made by `seal`."""
    if SEALED not in body:
        return dict(body)
    if keyring is None:
        raise ValueError("a sealed notice and no MOTCUA_PAYLOAD_KEYS to open it")
    plain = keyring.open(str(body["key"]), base64.b64decode(str(body[SEALED])),
                         event_id.encode())
    opened: dict[str, Any] = json.loads(plain)
    return opened


class NoticeRouter:
    """The outbox router of the notices: one delivery per notice and chosen channel."""

    def __init__(self, *, templates: Path | None = None, tz: tzinfo | None = None,
                 public_url: str = "", keyring: Keyring | None = None) -> None:
        self._env = environment(templates)
        self._tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self._public_url = public_url
        self._keyring = keyring

    async def __call__(self, conn: Conn, rows: Sequence[asyncpg.Record]) -> list[NewDelivery]:
        candidates = [(r, store.envelope(r).event) for r in rows]
        candidates = [(r, e) for r, e in candidates if isinstance(e, _NOTICE_EVENTS)]
        if not candidates:
            return []
        firsts = {f["stream"]: store.envelope(f).event for f in await conn.fetch(
            f"SELECT {store.COLUMNS} FROM events WHERE stream = ANY($1) AND position = 1",
            sorted({r["stream"] for r, _ in candidates}))}
        # A withdrawal is answered by the stop notice in the same append (decide._withdraw):
        # the citizen who asked to withdraw hears of the withdrawal only.
        withdrawn = {(r["stream"], r["tx_text"]) for r, e in candidates
                     if isinstance(e, ev.DossierWithdrawn)}
        # The first due time makes the receipt (or acceptance) notice: its held secret, if
        # any, is taken now, in the batch's transaction (see the module docstring).
        secrets = await _take_secrets(conn, self._keyring, sorted(
            {r["stream"] for r, e in candidates
             if isinstance(e, ev.DeadlineSet) and e.version == 1}))
        new: list[NewDelivery] = []
        for r, event in candidates:
            first = firsts.get(r["stream"])
            if first is None or (isinstance(event, ev.ProcessingStopped)
                                 and (r["stream"], r["tx_text"]) in withdrawn):
                continue
            to = recipients(first)
            secret = secrets.get(r["stream"]) if isinstance(event, ev.DeadlineSet) else None
            notice = notice_of(event, first, self._tz, self._public_url,
                               secret) if to else None
            if notice is None:
                continue
            kind, ctx = notice
            subject, text = render(self._env, kind, ctx)
            for channel, address in to.items():
                message: dict[str, Any] = {"to": address, "text": text}
                if channel == "email":
                    message["subject"] = subject
                if channel == "zalo":
                    message["template_data"] = {k: v if isinstance(v, str) else json.dumps(
                        v, ensure_ascii=False) for k, v in ctx.items()}
                new.append(NewDelivery(r, channel, kind,
                                       seal(self._keyring, r["event_id"], message),
                                       part=kind, unit_code=getattr(first, "unit_code", "")))
        return new


_NOTICE_EVENTS = (ev.DeadlineSet, ev.SubmissionRefused, ev.SupplementRequested,
                  ev.IntakeSupplementRequested, ev.DeadlineExtended, ev.ResultReady,
                  ev.ResultReturned, ev.DossierRefused, ev.DossierWithdrawn,
                  ev.ProcessingStopped, ev.TransferReturned)
