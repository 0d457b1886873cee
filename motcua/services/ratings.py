"""The citizen's own rating from the lookup page (issue 23 item 12): with the dossier code and
the lookup secret printed on the receipt, no login, once.

It is the same command path as the counter's rating (`motcua.services.dossiers.act`: the
`rate` action, `domain.decide`, the workflow; the reason required on "not satisfied" by
`RateBody.check`); only the caller differs. The caller is `CITIZEN`, a principal of the
kiosk role and no unit (it sees only the dossier its secret opened), its name the actor the
events record. The secret is checked first, within the lookup's rate limit per client: an
unknown code and a wrong secret answer the same 404, before the body is looked at, so nothing
tells them apart. Once: the domain refuses a second rating (`AlreadyRated`, 409).
"""

from __future__ import annotations

from motcua import lookup
from motcua.access.tokens import Principal, Role
from motcua.actions import ACTIONS
from motcua.problems import TOO_MANY_REQUESTS, Problem
from motcua.services import dossiers, engine
from motcua.services.dossiers import Caller
from motcua.services.idempotency import Answer
from motcua.services.requests import RateBody
from motcua.services.resources import Resources

# The actor of a rating given on the lookup page (the timeline says "Công dân đánh giá").
CITIZEN = Principal(name="citizen-lookup", roles=frozenset({Role.KIOSK}))


async def rate_with_secret(res: Resources, client: str, code: str, secret: str,
                           body: RateBody, correlation_id: str) -> Answer:
    """Record the citizen's rating of dossier `code` when `secret` opens it: 404 otherwise
    (as the lookup), 429 beyond the lookup's rate limit for `client`, 422 without a reason on
    "not satisfied", 409 when not returned yet or already rated."""
    wait = res.lookup_limiter.check(client)
    if wait is not None:
        raise Problem(TOO_MANY_REQUESTS, f"too many lookups; retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    if not await lookup.verify(res.db(), code, secret[:64]):
        raise engine.not_found()
    caller = Caller(CITIZEN, correlation_id, None, lookup_proven=True)
    return await dossiers.act(res, caller, ACTIONS["rate"], code, body)
