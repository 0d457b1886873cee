"""Authentication (bearer token) and authorisation (role x permission, and unit scope), checked
in one dependency per route: `Depends(require("assign"))`.

Unit scope: a token bound to a unit sees only that unit's dossiers. A read or an action on
another unit's dossier answers **404**, exactly as for a dossier that does not exist, so a
token cannot probe which codes exist elsewhere. Asking explicitly for another unit (receiving
into it, or listing it with `unit=`) answers **403**: no dossier's existence is revealed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain import permits
from domain.codes import CODE_PATTERN
from motcua.access.tokens import AUTHENTICATED, Principal, Role, authenticate
from motcua.actions import ACTIONS, HTTP_ACTIONS
from motcua.api.problems import FORBIDDEN, NOT_FOUND, UNAUTHORIZED, Problem
from motcua.api.resources import PoolDep

CLERK, OFFICER, LEADER, OPS = Role.CLERK, Role.OFFICER, Role.LEADER, Role.OPS

# Which roles may do what. `read` covers dossier lookups, lists and the catalog; `report` the
# SLA reports; each action's roles come from its row in the action table (`motcua.actions`).
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": frozenset({CLERK, OFFICER, LEADER, OPS}),
    "receive": frozenset({CLERK}),
    # Files on a dossier (issue 26): clerks at intake (and the portal integration, a clerk
    # token), the dossier's officer and leaders during processing; never operations.
    "attach-file": frozenset({CLERK, OFFICER, LEADER}),
    "report": frozenset({LEADER, OPS}),
    **{action.name: frozenset(Role(r) for r in action.roles) for action in HTTP_ACTIONS},
}

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


def unit_of(code: str) -> str:
    """The issuing unit named in a dossier code; 404 for anything not shaped like a code."""
    match = CODE_PATTERN.match(code)
    if match is None:
        raise Problem(NOT_FOUND, "no such dossier")
    return match["unit"]


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency giving the caller if one of its roles grants `permission` (else 403) and,
    on a `/dossiers/{code}` path, if it may see the code's unit (else 404). It runs before the
    body is validated, so a refusal never depends on what was sent."""
    allowed = PERMISSIONS[permission]

    async def check(request: Request,
                    principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.roles & allowed:
            roles = ", ".join(sorted(r.value for r in allowed))
            raise Problem(FORBIDDEN, f"{permission} needs one of the roles: {roles}")
        code = request.path_params.get("code")
        if isinstance(code, str):
            check_visible(principal, unit_of(code))
        return principal

    return check


def check_visible(principal: Principal, unit_code: str) -> None:
    """404 (as if absent) when `principal` may not see dossiers of `unit_code`."""
    if not principal.sees(unit_code):
        raise Problem(NOT_FOUND, "no such dossier")


def check_unit_allowed(principal: Principal, unit_code: str, field: str) -> None:
    """403 when `principal` names a unit outside its scope."""
    if not principal.sees(unit_code):
        raise Problem(FORBIDDEN, f"this token is limited to unit {principal.unit_code}",
                      field=field)


# Processing steps that only the assignee or a leader of the unit may take on an assigned
# dossier (`domain.permits.ASSIGNEE_STEPS`), by action name.
ASSIGNEE_STEPS = frozenset(a.name for a in HTTP_ACTIONS if a.command in permits.ASSIGNEE_STEPS)


def check_assignee(principal: Principal, action: str, assignee: str | None) -> None:
    """403 when `action` is a processing step of a dossier assigned to someone else and
    `principal` is not a leader (whose unit scope `require` already checked): the rule of
    `domain.permits.assignee_refusal`, which the console's offer uses too."""
    refused = permits.assignee_refusal(ACTIONS[action].command, assignee, principal)
    if refused is not None:
        raise Problem(FORBIDDEN, f"{action}: {refused.message}")


Reader = Annotated[Principal, Depends(require("read"))]
