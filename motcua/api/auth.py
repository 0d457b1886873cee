"""Authentication (bearer token) and authorisation in one dependency per route:
`Depends(require("assign"))`. The rules (roles per permission, unit scope) are
`motcua.access.permissions`, which the console applies too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from motcua.access.permissions import PERMISSIONS, authorise, authorise_dossier
from motcua.access.tokens import AUTHENTICATED, Principal, authenticate
from motcua.api.resources import PoolDep
from motcua.problems import UNAUTHORIZED, Problem

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer mct_...` "
                     "(create one with `motcua token create`).")


def unauthorized(detail: str) -> Problem:
    return Problem(UNAUTHORIZED, detail, headers={"WWW-Authenticate": 'Bearer realm="motcua"'})


async def current_principal(
        request: Request, pool: PoolDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from an active bearer token; 401 otherwise. A write was authenticated
    already by `motcua.api.guard` in this request: its answer is reused for the same secret."""
    if credentials is None:
        raise unauthorized("send Authorization: Bearer <token>")
    done = getattr(request.state, AUTHENTICATED, None)
    if done is not None and done[0] == credentials.credentials:
        known: Principal = done[1]
        return known
    principal = await authenticate(pool, credentials.credentials)
    if principal is None:
        raise unauthorized("the token is unknown or revoked")
    return principal


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency giving the caller if one of its roles grants `permission` (else 403) and,
    on a `/dossiers/{code}` path, if the dossier is in its unit scope (else 404; 403 for an
    action on a dossier another unit holds: `permissions.authorise_dossier`). It runs before the
    body is validated, so a refusal never depends on what was sent."""
    if permission not in PERMISSIONS:  # a typo fails at import, not on a request
        raise KeyError(permission)

    async def check(request: Request, pool: PoolDep,
                    principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        code = request.path_params.get("code")
        if isinstance(code, str):  # the units from the dossier's events, not from its code
            await authorise_dossier(pool, principal, permission, code)
        else:
            authorise(principal, permission)
        return principal

    return check


Reader = Annotated[Principal, Depends(require("read"))]
