"""Who may change a dossier's holder, and to whom (issue 24 point 5).

The holder (`Dossier.assignee`) changes with `assign` (a leader's act) and with `start` when it
names an officer (the event `ProcessingStarted` makes that officer the holder). Before this
check the assignee could hand the dossier to anyone with `start {"officer": ...}`, and a
leader's `assign` over the API accepted any name. Now:

- only a leader changes the holder: `start` by anyone else may name no officer but the holder
  (403; the officer defaults to the holder);
- the new holder is an active console user with the officer or leader role in the dossier's
  unit, or in none (`motcua.access.users.may_hold`); an unknown, disabled or other-unit name is
  422 on `officer`, one answer for the three so the answer does not tell which names exist.

API tokens are not holders: a holder is a person who signs in (OUR READING of the one-stop
workflow, where the unit's leader assigns a dossier to one of the unit's officers).
A token whose name is a user's name acts as that user (the actor in events is the token's name),
which is how an integration acts for an officer; tokens are made by the operator only.

The check runs only when the dossier's state accepts the command: otherwise the engine's
refusal (409, with the state) comes first, as for every other field of a command.
"""

from __future__ import annotations

from domain import commands as cmd
from domain import walk
from domain.decide import check_allowed
from domain.dossier import Dossier
from domain.errors import DomainError
from motcua.access.tokens import Principal, Role
from motcua.access.users import Conn, may_hold, may_receive_step
from motcua.problems import FORBIDDEN, Problem, invalid_input
from motcua.services.requests import ActionBody

# The actions that may name a new holder, with the command each becomes.
HOLDER_ACTIONS: dict[str, type[cmd.Command]] = {"assign": cmd.AssignOfficer,
                                                 "start": cmd.StartProcessing}


def accepts(dossier: Dossier, command: type[cmd.Command]) -> bool:
    """Whether `dossier`'s state accepts a command of type `command` (its fields aside)."""
    try:
        check_allowed(dossier, command)
    except DomainError:
        return False
    return True


async def check_holder_change(conn: Conn, principal: Principal, action: str, dossier: Dossier,
                              body: ActionBody) -> None:
    """403 when a non-leader's `start` names another holder; 422 when the new holder is not an
    active officer or leader of the unit holding the dossier. Nothing for other actions, for a
    body that keeps the holder, or while the state refuses the command anyway."""
    command = HOLDER_ACTIONS.get(action)
    officer = getattr(body, "officer", None)
    if command is None or officer is None or officer == dossier.assignee:
        return
    if not accepts(dossier, command):
        return  # the engine refuses it with the state (409)
    if Role.LEADER not in principal.roles:
        # `assign` is a leader's action by the table; a `start` naming someone else is not.
        raise Problem(FORBIDDEN, f"{action}: only a leader of the unit hands the dossier to "
                      "another officer; start it without `officer` (it defaults to the "
                      "assignee)", field="officer")
    if not await may_hold(conn, officer, dossier.holding_unit_code):
        raise invalid_input("officer", f"not an active officer or leader of unit "
                            f"{dossier.holding_unit_code}")


async def check_step_receiver(conn: Conn, action: str, dossier: Dossier,
                              body: ActionBody) -> None:
    """422 on `receiver` when a hand-over names a person who cannot take the next step: not an
    active console user of the unit answering for that step (the receiving unit, or another
    unit's for a liên thông step) with the step's role or the leader role
    (`domain.walk.receiver_roles`). One answer for unknown, disabled, other-unit and
    wrong-role names, as for `officer` above. Nothing when no one is named or the dossier is
    at no step that hands on (the engine answers that)."""
    receiver = getattr(body, "receiver", None)
    run = walk.current(dossier.step_runs)
    plan = dossier.step_plan
    if (action != "hand-over" or receiver is None or plan is None or run is None
            or run.step + 1 >= len(plan.steps)):
        return
    step = run.step + 1
    unit = walk.step_unit_code(plan, step, dossier.unit_code)
    roles = walk.receiver_roles(plan, step)
    if not await may_receive_step(conn, receiver, unit, roles):
        raise invalid_input("receiver", f"not an active user of unit {unit} who may take step "
                            f"{step + 1} ({plan.steps[step].actor}): one of the roles "
                            f"{', '.join(sorted(roles))}")
