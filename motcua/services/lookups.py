"""A new lookup secret for a dossier (issue 24 point 7): the explicit, audited act that
replaces the secret printed at intake, for a citizen who lost the receipt.

Viewing a receipt never issues a secret (it used to, and so voided the citizen's printed one
whenever anyone opened it). The secret is issued once, at intake (`motcua.services.dossiers`);
afterwards only this service issues another, with a reason, recorded in `lookup_reissues` with
who asked and the request's correlation id. Under an `Idempotency-Key` a retry replays the
same secret (stored sealed, `motcua.services.idempotency.SEALED_ONLY`).
"""

from __future__ import annotations

from domain.dossier import folded
from motcua import lookup
from motcua.access.permissions import authorise_dossier, check_visible
from motcua.eventstore.store import read_stream
from motcua.services import engine, idempotency
from motcua.services.dossiers import Caller
from motcua.services.idempotency import Answer
from motcua.services.requests import ReissueLookupRequest
from motcua.services.resources import Resources

OPERATION = "lookup-secret"


async def reissue(res: Resources, caller: Caller, code: str,
                  request: ReissueLookupRequest) -> Answer:
    """A new lookup secret for dossier `code` (the earlier one stops working), with the
    reason recorded: 403 without the permission, 404 outside the caller's unit or for no
    such dossier."""
    principal = caller.principal
    pool = res.db()
    await authorise_dossier(pool, principal, OPERATION, code)
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    check_visible(principal, folded(events))
    async with idempotency.attempt(pool, principal=principal.name, key=caller.idempotency_key,
                                   operation=OPERATION, code=code,
                                   body=request.model_dump(mode="json"),
                                   keyring=res.keyring) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        secret = await lookup.reissue(pool, code, issued_by=principal.name,
                                      reason=request.reason,
                                      correlation_id=caller.correlation_id)
        url = lookup.lookup_url(code, secret, res.settings.public_url.rstrip("/"))
        return await attempt.respond({"code": code, "lookup_secret": secret,
                                      "lookup_url": url})
