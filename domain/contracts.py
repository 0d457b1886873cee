"""What the dossier workflow and its activities exchange: names and one dataclass each way.

Kept in the pure domain package so that workflow code never imports activity code (which
does I/O); activities are called by these names.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from datetime import datetime

from domain.envelope import EventEnvelope
from domain.terms import DeadlineTerms
from domain.walk import StepPlan

APPEND_EVENTS = "append_events"
COMPUTE_DEADLINE = "compute_deadline"
PLAN_STEPS = "plan_steps"
STEP_DUE = "step_due"
SEND_NOTIFICATION = "send_notification"

TASK_QUEUE = "motcua-dossiers"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppendRequest:
    stream: str
    events: list[EventEnvelope]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppendResult:
    stored: int  # newly written; 0 when a retry found them all already there
    last_position: int
    # When some events were already there (a retry), what the store holds from the first
    # requested position on: the workflow folds these, so its state is always the fold of the
    # stored stream, even when a re-executed decision differed (e.g. in its timestamps).
    canonical: list[EventEnvelope] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pause:
    """A wait for the citizen's supplement: from the request to the papers' arrival."""

    start: datetime
    end: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineRequest:
    """Compute a due time from the receipt instant (or the legacy original), then add back the
    office time of every finished pause. After an extension the leader's appointment is the
    base instead, and only pauses that began after it are added."""

    procedure_code: str
    received_at: datetime
    pauses: list[Pause] = dataclasses.field(default_factory=list)
    extended_due_at: datetime | None = None
    extended_at: datetime | None = None
    # The counting-rule version of the dossier's receipt deadline (None: a new receipt, use the
    # rule in force). Keeps due times given under rule v1 reproducible (domain.clock).
    rule_version: int | None = None
    # An officer recorded that verification is needed: count the procedure's maximum.
    verification: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineResult(DeadlineTerms):
    """The due time the deadline activity worked out (the terms only)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotificationRequest:
    kind: str
    code: str
    unit_code: str
    procedure_code: str
    alert_event_id: str
    due_at: datetime
    raised_at: datetime
    deadline_version: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlanStepsRequest:
    """Which internal procedure a dossier just received walks (patch `internal-steps-v1`)."""

    procedure_code: str
    unit_code: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlanStepsResult:
    plan: StepPlan | None = None  # None: the procedure has no internal procedure


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepDueRequest:
    """A run's due instant: its allowance from its start (`domain.steps.run_due`), with the
    previous run's end and due when unused time passes on, and the pauses since it started."""

    started_at: datetime
    allowance_hours: int | None
    carry_over: bool = False
    previous_ended_at: datetime | None = None
    previous_due_at: datetime | None = None
    previous_credit_seconds: int = 0
    pauses: list[Pause] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepDueResult:
    due_at: datetime | None
    due_soon_at: datetime | None
    credit_seconds: int = 0
