"""Which commands an actor may send to a dossier now: one function, `refusal`, holding every
rule that decides it, and `allowed`, what a screen offers (the usual next step first).

What decides it, in the order the API answers: the actor's roles (the action table's, given
as `senders`), the actor's unit, the assignee-only processing steps, the end of the dossier's
life (`Dossier.ended`), the states of `domain.decide.ALLOWED` with the once-only steps
(`domain.decide.check_allowed`: an extension, a rating, a verification already recorded), and
the procedure's verification maximum. Only the command's own fields (a reason left empty, an
appointment not later than the due time) are left to `decide`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from domain import commands as cmd
from domain import walk
from domain.decide import check_allowed, no_more_commands
from domain.dossier import Dossier
from domain.errors import (
    DomainError,
    InvalidCommand,
    InvalidTransition,
    NotPermitted,
    NotVisible,
)
from domain.states import DossierState

LEADER = "leader"
CLERK = "clerk"

# Processing steps: on a dossier assigned to an officer, only that officer, or a leader of the
# unit, may take them (OUR READING of the one-stop workflow: the assigned officer handles the
# dossier, the leader who assigned it may act for them).
ASSIGNEE_STEPS: frozenset[type[cmd.Command]] = frozenset({
    cmd.StartProcessing, cmd.RequestSupplement, cmd.ProvideSupplement,
    cmd.CompleteProcessing, cmd.RequireVerification})

# Commands still accepted once the dossier's life has ended: a complaint or recommendation
# (Decision 766 item 5.4 counts them; they come mostly from dossiers that ended badly). The
# application appends it beside the finished workflow (motcua/services/after_end.py).
AFTER_END: frozenset[type[cmd.Command]] = frozenset({cmd.RecordComplaint})

# Processing steps the counter's clerk may also record on an assigned dossier: the citizen
# brings the missing papers to the one-stop counter, where the clerk receives them (Circular
# 01/2018/TT-VPCP form 02 is handed back there with the papers; issue 23 item 7). The
# assignee is told (the console's banner) and the clock resumes with the supplement.
COUNTER_STEPS: frozenset[type[cmd.Command]] = frozenset({cmd.ProvideSupplement})

# What the receiving unit's staff may still send while another unit holds the dossier: the
# one-stop counter's business with the citizen (a withdrawal, a complaint, a payment or a fee
# paid at its counter). Everything else belongs to the holding unit (OUR READING of the
# liên thông decisions: the unit holding the dossier answers for it; issue 22 item 3).
COUNTER_COMMANDS: frozenset[type[cmd.Command]] = frozenset({
    cmd.WithdrawDossier, cmd.RecordComplaint, cmd.ReceivePayment, cmd.RecordFee})

# The step a dossier usually takes next in each state, offered first.
USUAL_NEXT: dict[DossierState, type[cmd.Command]] = {
    DossierState.SUBMITTED: cmd.AcceptSubmission,
    DossierState.AWAITING_INTAKE_SUPPLEMENT: cmd.ProvideIntakeSupplement,
    DossierState.RECEIVED: cmd.AssignOfficer,
    DossierState.ASSIGNED: cmd.StartProcessing,
    DossierState.PROCESSING: cmd.CompleteProcessing,
    DossierState.AWAITING_SUPPLEMENT: cmd.ProvideSupplement,
    DossierState.AWAITING_PAYMENT: cmd.ReceivePayment,
    DossierState.READY: cmd.ReturnResult,
    DossierState.RETURNED: cmd.RateService,
}
# On a dossier walking steps, the hand-over comes first when the state's usual step is not
# offered (`allowed`).

Senders = Mapping[type[cmd.Command], frozenset[str]]
"""The roles that may send each command (the action table's); a command absent from it is
sent by no person (timers, the operator's CLI)."""


class Actor(Protocol):
    """Who sends a command: a user or a token (`motcua.access.tokens.Principal` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def unit_code(self) -> str | None: ...  # None: every unit


def role_refusal(command: type[cmd.Command], roles: frozenset[str],
                 senders: Senders) -> NotPermitted | None:
    """Refused when none of `roles` may send `command`."""
    allowed = senders.get(command, frozenset())
    if roles & allowed:
        return None
    return NotPermitted(f"{command.__name__} needs one of the roles: "
                        f"{', '.join(sorted(allowed)) or 'none'}")


def assignee_refusal(command: type[cmd.Command], assignee: str | None,
                     actor: Actor) -> NotPermitted | None:
    """Refused when `command` is a processing step of a dossier assigned to someone else and
    `actor` is not a leader (whose unit scope is checked apart)."""
    if (command in ASSIGNEE_STEPS and assignee is not None and assignee != actor.name
            and LEADER not in actor.roles
            and not (command in COUNTER_STEPS and CLERK in actor.roles)):
        return NotPermitted(f"the dossier is assigned to {assignee}; only the assignee or a "
                            "leader of the unit may take its processing steps")
    return None


# Commands that act on the step the dossier is at (issue 22 item 2): who may send them
# depends on that step (`step_refusal`).
STEP_COMMANDS: frozenset[type[cmd.Command]] = frozenset({cmd.HandOverStep})


def step_refusal(d: Dossier, command: type[cmd.Command],
                 actor: Actor) -> NotPermitted | InvalidTransition | None:
    """Refused when `command` hands on the step the dossier is at and `actor` is neither of
    that step's role (`domain.walk.may_send`) nor a leader; a step handed to a named person
    (the assigned officer) is theirs, or a leader's (as `ASSIGNEE_STEPS`); and a completion
    before the walk has reached its last step."""
    run = walk.current(d.step_runs)
    if d.step_plan is None or run is None:
        return None
    if command is cmd.CompleteProcessing:
        steps = d.step_plan.steps
        # The result exists once signed: a dossier walking steps is completed only after its
        # last leader's step (the approval and signature; then the records clerk enters and
        # seals it and the counter returns it, in every published list: docs/legal-rules.md,
        # "Internal procedures"). OUR READING: no text says when the result is "ready" within
        # an internal procedure; the office day of issue 23 found an officer completing at
        # step 3 and the result returned with steps 4-7 never done. `decide` is unchanged,
        # so recorded histories replay; the API and the console refuse alike (409).
        signed = max((i for i, st in enumerate(steps) if st.role == LEADER),
                     default=len(steps) - 2)
        if run.step <= signed:
            return InvalidTransition(
                f"the dossier is at step {run.step + 1} of {len(steps)} "
                f"({steps[run.step].actor}); it is completed after step {signed + 1} "
                f"({steps[signed].actor})")
    if command not in STEP_COMMANDS:
        return None
    step = d.step_plan.steps[run.step]
    if not walk.may_send(d.step_plan, run, actor.roles):
        return NotPermitted(f"step {run.step + 1} ({step.actor}) is handed on by its "
                            f"{step.role.replace('_', ' ')} or a leader")
    if run.receiver is not None and run.receiver != actor.name and LEADER not in actor.roles:
        return NotPermitted(f"step {run.step + 1} was handed to {run.receiver}; only they or "
                            "a leader of the unit may hand it on")
    return None

def unit_refusal(d: Dossier, command: type[cmd.Command],
                 actor: Actor) -> DomainError | None:
    """Refused by unit scope: not found outside the receiving and the holding unit (as if
    absent); forbidden for the receiving unit's staff while another unit holds the dossier,
    except the counter's commands (`COUNTER_COMMANDS`)."""
    unit = actor.unit_code
    if unit is None or unit == d.holding_unit_code:
        return None
    if unit != d.unit_code:
        return NotVisible("no such dossier")
    if command in COUNTER_COMMANDS:
        return None
    return NotPermitted(f"the dossier is held by unit {d.holding_unit_code}; only its staff "
                        "may take this step")


def refusal(d: Dossier, command: type[cmd.Command], actor: Actor, now: datetime, *,
            senders: Senders, verification_maximum: bool) -> DomainError | None:
    """Why `actor` may not send a command of type `command` to `d` at `now` (the first reason,
    in the order the API answers), or None when it may. `verification_maximum`: the
    dossier's procedure has a longer maximum for when verification is needed."""
    refused: DomainError | None = role_refusal(command, actor.roles, senders)
    if refused is not None:
        return refused
    refused = unit_refusal(d, command, actor)
    if refused is not None:
        return refused
    refused = assignee_refusal(command, d.assignee, actor)
    if refused is not None:
        return refused
    if d.ended(now) and command not in AFTER_END:
        return no_more_commands(d)
    try:
        check_allowed(d, command)
    except DomainError as err:
        return err
    refused = step_refusal(d, command, actor)
    if refused is not None:
        return refused
    if command is cmd.RequireVerification and not verification_maximum:
        return InvalidCommand("the procedure has no longer maximum for verification",
                              field="reason")
    return None


def allowed(d: Dossier, actor: Actor, now: datetime, *, senders: Senders,
            verification_maximum: bool) -> list[type[cmd.Command]]:
    """The commands `actor` may send to `d` at `now`: the usual next step first, then the
    others in the order of `senders`."""
    out = [c for c in senders if refusal(d, c, actor, now, senders=senders,
                                         verification_maximum=verification_maximum) is None]
    first = USUAL_NEXT.get(d.state) if d.state is not None else None
    if first not in out and cmd.HandOverStep in out:
        first = cmd.HandOverStep
    return sorted(out, key=lambda c: c is not first)


__all__ = [
    "AFTER_END",
    "ASSIGNEE_STEPS",
    "COUNTER_COMMANDS",
    "COUNTER_STEPS",
    "STEP_COMMANDS",
    "USUAL_NEXT",
    "Actor",
    "Senders",
    "allowed",
    "assignee_refusal",
    "refusal",
    "role_refusal",
    "step_refusal",
    "unit_refusal",
]
