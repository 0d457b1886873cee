"""A payment the national portal reports resumes a dossier waiting for fees or taxes (national
code 6; issue 25 item 1). Hà Nội 1610/QĐ-TTPVHCC: the step "tạm dừng chờ thực hiện nghĩa vụ tài
chính" is resumed when the payment arrives from the national portal (DOMAIN.md 9.2); Đồng Tháp
138/2025/QĐ-UBND art. 5(3): the second appointment counts from proof of payment, the tax time
not counted.

The report goes through the counter's own command path, `payment-received`
(`motcua.services.dossiers.act`: unit scope, idempotency, the workflow update, the refusals),
as the portal integration's clerk token would send it; what this adds is the portal's
transaction number as the key of the payment:

- the same number reported again (the portal retries until it has our answer) answers the
  dossier as it is, 200, nothing recorded twice: a `PaymentReceived` with that reference is
  already on the dossier (or the first report's answer is replayed by its idempotency key,
  `portal-payment:<reference>` unless the request sent its own `Idempotency-Key`);
- a dossier not waiting for payment is 409 with its state; an unknown one 404; a malformed
  body 422: nothing is recorded.

The clock resumes at the instant the report arrives (the proof of payment reaches the office),
not at the portal's `paid_at`, which is kept in the event's note: our reading of "counted from
proof of payment" (art. 5(3)), which also never moves a recorded instant back.
"""

from __future__ import annotations

import dataclasses
import hashlib

from domain import events as ev
from motcua.access.permissions import authorise_dossier
from motcua.actions import ACTIONS
from motcua.eventstore.store import read_stream
from motcua.services import dossiers
from motcua.services.dossiers import Caller
from motcua.services.idempotency import KEY_PATTERN, Answer
from motcua.services.requests import PaymentReceivedBody, PortalPaymentRequest
from motcua.services.resources import Resources

ACTION = ACTIONS["payment-received"]
SOURCE = "Cổng DVCQG"  # who reported it, in the event's note


def note_for(request: PortalPaymentRequest) -> str:
    """The event's note: where the payment was reported from, and when it was paid."""
    if request.paid_at is None:
        return f"{SOURCE} báo đã thanh toán"
    return f"{SOURCE} báo đã thanh toán lúc {request.paid_at.isoformat()}"


def key_for(request: PortalPaymentRequest) -> str:
    """The idempotency key of a report without its own: the transaction number (hashed when
    it is not plain ASCII, which keys must be)."""
    key = f"portal-payment:{request.reference}"
    if KEY_PATTERN.match(key):
        return key
    return "portal-payment:" + hashlib.sha256(request.reference.encode()).hexdigest()


async def portal_payment(res: Resources, caller: Caller, code: str,
                         request: PortalPaymentRequest) -> Answer:
    """Record the payment the portal reports on dossier `code` (see the module docstring)."""
    pool = res.db()
    await authorise_dossier(pool, caller.principal, ACTION.name, code)
    stream = await read_stream(pool, code)
    if any(isinstance(e.event, ev.PaymentReceived) and e.event.reference == request.reference
           for e in stream):
        shown = await dossiers.view(res, caller.principal, code)
        return Answer(200, shown.model_dump(mode="json"), replayed=True)
    body = PaymentReceivedBody(amount=request.amount, reference=request.reference,
                               note=note_for(request))
    keyed = dataclasses.replace(
        caller, idempotency_key=caller.idempotency_key or key_for(request))
    return await dossiers.act(res, keyed, ACTION, code, body)
