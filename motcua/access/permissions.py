"""Who may do what: the roles each permission needs (`PERMISSIONS`, the actions' roles from
the action table, `motcua.actions`), the unit scope, and the steps only a dossier's assignee (or
a leader) may take. Every interface checks through here: the API in its `require` dependency
(`motcua.api.auth`), the services before they act (`motcua.services.dossiers`), and the
console before it offers or sends a command.

Unit scope: a principal bound to a unit sees the dossiers that unit received and those it
holds now (transferred to it: issue 22 item 3); it acts on those it holds, and on those it
received only through the counter's commands while another unit holds them
(`domain.permits.unit_refusal`). The units come from the dossier's events
(`motcua.eventstore.store.dossier_units`), never from its code: a transferred dossier keeps its
code. A read or an action on a dossier outside the scope is **not found** (404), exactly as for
a dossier that does not exist, so no one can probe which codes exist elsewhere. Asking
explicitly for another unit (receiving into it, or listing it) is **forbidden** (403): no
dossier's existence is revealed.
"""

from __future__ import annotations

import asyncpg

from domain import permits
from domain.codes import CODE_PATTERN
from domain.dossier import Dossier
from domain.errors import InvalidTransition, NotVisible
from motcua.access.tokens import Principal, Role
from motcua.actions import ACTIONS, HTTP_ACTIONS
from motcua.eventstore.store import dossier_units
from motcua.problems import FORBIDDEN, INVALID_TRANSITION, NOT_FOUND, Problem

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
    # A new lookup secret for a citizen who lost the receipt (issue 24 point 7): the desk
    # that receives, or a leader; explicit and audited (`motcua.services.lookups`).
    "lookup-secret": frozenset({CLERK, LEADER}),
    **{action.name: frozenset(Role(r) for r in action.roles) for action in HTTP_ACTIONS},
}


def check_code(code: str) -> str:
    """`code` when it is shaped like a dossier code; 404 for anything else (no lookup)."""
    if CODE_PATTERN.match(code) is None:
        raise Problem(NOT_FOUND, "no such dossier")
    return code


def authorise(principal: Principal, permission: str) -> None:
    """403 unless one of `principal`'s roles grants `permission`."""
    allowed = PERMISSIONS[permission]
    if not principal.roles & allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise Problem(FORBIDDEN, f"{permission} needs one of the roles: {roles}")


async def authorise_dossier(pool: asyncpg.Pool, principal: Principal, permission: str,
                            code: str) -> None:
    """`authorise`, then the unit scope on dossier `code`: 404 (as if absent) unless
    `principal` sees it (its receiving or its holding unit); for an action, 403 when it sees
    the dossier but another unit holds it (`domain.permits.unit_refusal`). A principal of no
    unit (every unit) needs no lookup."""
    authorise(principal, permission)
    match = CODE_PATTERN.match(code)
    if match is None:
        raise Problem(NOT_FOUND, "no such dossier")
    if principal.unit_code is None:
        return
    # A code with no events (no such dossier, or not yet stored): the unit that allocates
    # codes with its prefix, so the request goes on as before and the engine answers 404; a
    # stored dossier's units always come from its events.
    units = await dossier_units(pool, code) or (match["unit"], match["unit"])
    action = ACTIONS.get(permission)
    held = Dossier(unit_code=units[0], holding_unit=units[1])
    if action is None:  # a read
        check_visible(principal, held)
        return
    refused = permits.unit_refusal(held, action.command, principal)
    if isinstance(refused, NotVisible):
        raise Problem(NOT_FOUND, "no such dossier")
    if refused is not None:
        raise Problem(FORBIDDEN, f"{permission}: {refused.message}")


def sees(principal: Principal, d: Dossier) -> bool:
    """Whether `principal` may read `d`: its receiving unit or the unit holding it now."""
    return principal.sees(d.unit_code) or principal.sees(d.holding_unit_code)


def check_visible(principal: Principal, d: Dossier) -> None:
    """404 (as if absent) when `principal` may not see dossier `d` (`sees`)."""
    if not sees(principal, d):
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
    `principal` is not a leader (whose unit scope `authorise` already checked): the rule of
    `domain.permits.assignee_refusal`, which the console's offer uses too."""
    refused = permits.assignee_refusal(ACTIONS[action].command, assignee, principal)
    if refused is not None:
        raise Problem(FORBIDDEN, f"{action}: {refused.message}")


# Actions on the step the dossier is at (`domain.permits.STEP_COMMANDS`), by action name.
STEP_ACTIONS = frozenset(a.name for a in HTTP_ACTIONS if a.command in permits.STEP_COMMANDS)


def check_step(principal: Principal, action: str, dossier: Dossier) -> None:
    """403 when `action` hands on a step that is not `principal`'s (its role, the person it
    was handed to, or a leader): `domain.permits.step_refusal`, which the console uses too."""
    refused = permits.step_refusal(dossier, ACTIONS[action].command, principal)
    if isinstance(refused, InvalidTransition):  # a completion before the last step: 409
        raise Problem(INVALID_TRANSITION, f"{action}: {refused.message}",
                      state=dossier.state_name)
    if refused is not None:
        raise Problem(FORBIDDEN, f"{action}: {refused.message}")
