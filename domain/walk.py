"""A dossier walking its internal procedure's steps, as the workflow records it (issue 22
item 2): the plan a dossier was received under, one record per run of a step, and the step
alerts still to raise.

Pure, like `domain.steps` (whose rules it follows: docs/legal-rules.md, "Internal
procedures"): a step's due instant needs the office calendar, so the workflow has it worked
out by the step activity (`activities/steps.py`, a local activity whose result is recorded)
and stores it with `StepDueSet`; everything here reads only the events.

* The plan is copied into the dossier at receipt (`StepsBegun`): a later catalog version or a
  later setting never changes the steps of a dossier already received.
* Each hand-over (người giao → người nhận, with the instant) is a `StepHandedOver`; a leader's
  send-back a `StepSentBack` (the step repeats with a fresh allowance, the trail keeps both
  runs). Signing and sealing are steps like the others.
* A step is judged by instant (`verdict`): late when it ended after its due instant, even on
  the same day; early when it ended on an earlier date; else on time.
* Step alerts (OUR READING, no rule found): due soon once three quarters of the step's office
  time have passed, overdue at its due instant; each once per run, to the step's actor, only
  while the dossier's own clock runs (not while waiting for the citizen).
* The dossier's legal due time never depends on the steps.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from datetime import UTC, datetime

from domain.clock import timeliness
from domain.states import AlertKind, Timeliness

HANDED_OVER = "handed_over"  # domain.steps.RunOutcome.HANDED_OVER
SENT_BACK = "sent_back"  # domain.steps.RunOutcome.SENT_BACK

# The token roles that may act at a step of each catalog role (`domain.catalog.StepRole`). The
# records clerk (văn thư) has no role of its own: a clerk account acts for it (our reading).
STEP_ROLE_SENDERS: dict[str, str] = {
    "clerk": "clerk", "officer": "officer", "leader": "leader", "records_clerk": "clerk"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlannedStep:
    """One step as the dossier was received under it: the catalog's `Step` with its unit
    resolved (`domain.steps.step_unit`) and its allowance in office hours."""

    name: str
    role: str  # a `domain.catalog.StepRole` value
    actor: str  # as the decision prints it
    unit_code: str
    allowance_hours: int | None = None  # None: the decision leaves it untimed
    untimed: str = ""
    produces: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepPlan:
    """The internal procedure a dossier walks: its version, the working-day length it was read
    with, whether unused time passes on (`domain.steps`, a setting), and its steps."""

    version: str
    day_hours: int
    carry_over: bool
    steps: tuple[PlannedStep, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepRecord:
    """One run of one step: who gave it and who received it, when it started, its due instant
    (once the step activity gave it), how and when it ended, and its alerts."""

    step: int  # 0-based index into the plan's steps
    started_at: datetime
    giver: str = ""  # who handed the dossier to this step (or sent it back to it)
    receiver: str | None = None  # the person it was handed to, when named
    due_at: datetime | None = None
    due_soon_at: datetime | None = None
    due_set: bool = False  # the step activity answered (an untimed step keeps due_at None)
    credit_seconds: int = 0  # unused office time carried in (carry-over only)
    ended_at: datetime | None = None
    ended_by: str = ""
    outcome: str | None = None  # HANDED_OVER or SENT_BACK
    sent_back_reason: str = ""  # on the run that ended sent back
    due_soon_raised: bool = False
    overdue_raised: bool = False

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


def current(runs: tuple[StepRecord, ...]) -> StepRecord | None:
    """The open run, or None (no steps, or all done)."""
    return runs[-1] if runs and runs[-1].is_open else None


def current_step(runs: tuple[StepRecord, ...]) -> int | None:
    """The 0-based index of the step the dossier is at, or None."""
    run = current(runs)
    return None if run is None else run.step


def verdict(run: StepRecord) -> Timeliness | None:
    """The run's verdict against its own due instant: None while open or for an untimed step;
    late when it ended after the due instant (even the same day), early on an earlier date
    (in the due instant's zone, the office's), else on time (`domain.steps.verdict`)."""
    if run.ended_at is None or run.due_at is None:
        return None
    if run.ended_at > run.due_at:
        return Timeliness.LATE
    return timeliness(run.due_at.tzinfo or UTC, run.ended_at, run.due_at)


def pending_alert(runs: tuple[StepRecord, ...]) -> tuple[AlertKind, datetime] | None:
    """The open run's next alert and its instant, or None (the caller checks that the
    dossier's clock runs)."""
    run = current(runs)
    if run is None or run.due_at is None:
        return None
    if not run.due_soon_raised and run.due_soon_at is not None and run.due_soon_at < run.due_at:
        return AlertKind.DUE_SOON, run.due_soon_at
    if not run.overdue_raised:
        return AlertKind.OVERDUE, run.due_at
    return None


def start(runs: tuple[StepRecord, ...], step: int, at: datetime, giver: str,
          receiver: str | None = None) -> tuple[StepRecord, ...]:
    """`runs` with a new open run of `step` from `at` (its due instant comes later)."""
    return (*runs, StepRecord(step=step, started_at=at, giver=giver, receiver=receiver))


def end(runs: tuple[StepRecord, ...], at: datetime, by: str, outcome: str,
        reason: str = "") -> tuple[StepRecord, ...]:
    """`runs` with the open run ended at `at` by `by`."""
    run = current(runs)
    if run is None:
        return runs
    return (*runs[:-1], dataclasses.replace(run, ended_at=at, ended_by=by, outcome=outcome,
                                            sent_back_reason=reason))


def set_due(runs: tuple[StepRecord, ...], due_at: datetime | None,
            due_soon_at: datetime | None, credit_seconds: int) -> tuple[StepRecord, ...]:
    """`runs` with the open run's due instant set (or moved after a pause)."""
    run = current(runs)
    if run is None:
        return runs
    moved = run.due_set and run.due_at != due_at
    return (*runs[:-1], dataclasses.replace(
        run, due_at=due_at, due_soon_at=due_soon_at, due_set=True,
        credit_seconds=credit_seconds,
        # A due instant moved by a pause raises its alerts again, at the new instants.
        due_soon_raised=run.due_soon_raised and not moved,
        overdue_raised=run.overdue_raised and not moved))


def raise_alert(runs: tuple[StepRecord, ...], kind: AlertKind) -> tuple[StepRecord, ...]:
    run = current(runs)
    if run is None:
        return runs
    if kind is AlertKind.DUE_SOON:
        return (*runs[:-1], dataclasses.replace(run, due_soon_raised=True))
    return (*runs[:-1], dataclasses.replace(run, overdue_raised=True))


def step_unit_code(plan: StepPlan, step: int, receiving_unit: str) -> str:
    """The unit answering for `step` (resolved in the plan; the receiving unit when blank)."""
    return plan.steps[step].unit_code or receiving_unit


def receiver_roles(plan: StepPlan, step: int) -> frozenset[str]:
    """The token roles a person must hold to be handed `step` by name: the step's own role
    (`STEP_ROLE_SENDERS`) or a leader, who may act for the unit's staff (`may_send`)."""
    role = STEP_ROLE_SENDERS.get(plan.steps[step].role, "")
    return frozenset({"leader", role} - {""})


def may_send(plan: StepPlan, run: StepRecord, roles: frozenset[str]) -> bool:
    """Whether one holding `roles` may hand the dossier on from `run`: the step's actor role
    (`STEP_ROLE_SENDERS`) or a leader, who may act for the unit's staff (our reading, as for
    `domain.permits.ASSIGNEE_STEPS`)."""
    role = STEP_ROLE_SENDERS.get(plan.steps[run.step].role, "")
    return "leader" in roles or role in roles


__all__ = ["HANDED_OVER", "SENT_BACK", "STEP_ROLE_SENDERS", "PlannedStep", "StepPlan",
           "StepRecord", "current", "current_step", "end", "may_send", "pending_alert",
           "raise_alert", "receiver_roles", "set_due", "start", "step_unit_code", "verdict"]
