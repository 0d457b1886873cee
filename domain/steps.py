"""A dossier walking its procedure's internal steps: each step's due instant and verdict.

Pure functions over a `Calendar` and a `domain.catalog.InternalProcedure`, for the workflow
(which records the hand-overs) and for every view that shows a control slip (phiếu kiểm soát
quá trình, one row per hand-over with its verdict against the step's own allowance).

Rules (docs/legal-rules.md, "Internal procedures"):

* A step starts when the previous one hands over; the first starts at the receipt. Its due
  instant is its own allowance of office time counted from that start
  (`domain.clock.add_working_time`: a start outside office hours counts from the next session;
  weekends and the calendar's holidays are skipped). A working day is the internal procedure's
  `day_hours` of office time, so 0,25 / 0,5 ngày are 2 / 4 hours at 8 h a day.
* A step with no allowance ("không tính thời gian", "giờ hành chính") has no due instant and
  no verdict.
* A step is judged by instant: finished after its due instant it is late, even on the same
  day (a 4-hour step finished 6 hours late at 16:00 is late); not after it, early when it
  finished on an earlier date than its due instant, else on time (the dossier's own verdict,
  `domain.clock.timeliness`, compares dates, as Biểu 06 does).
* A leader may send the dossier back to an earlier step (by default the one before): the
  current run ends "sent back", and that step runs again with a fresh allowance from the
  moment it was sent back; the trail keeps both runs.
* Whether an early step's unused time passes to later steps: no rule found (DOMAIN 9.1). It is
  a setting (`hand_over(..., carry_over=...)`), off by default: each step has exactly its own
  allowance. When on, the office time a handed-over step left unused is added to the next
  timed step's allowance (and so on down the line); a send-back passes none.
* The dossier's legal due time never depends on the steps (`domain.clock.due_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import Allowance, InternalProcedure
from domain.clock import ZERO, add_working_time, timeliness, working_time_between
from domain.contracts import Pause, StepDueRequest, StepDueResult
from domain.dossier import Dossier
from domain.errors import InvalidCommand, InvalidTransition
from domain.states import Timeliness
from domain.walk import PlannedStep, StepPlan, current


class RunOutcome(StrEnum):
    """How a run of a step ended."""

    HANDED_OVER = "handed_over"  # passed on to the next step (or, at the last step, done)
    SENT_BACK = "sent_back"  # a leader sent the dossier back to an earlier step


@dataclass(frozen=True, kw_only=True)
class StepRun:
    """One run of one step: a step sent back to runs again, as a new run."""

    step: int  # 0-based index into the internal procedure's steps
    started_at: datetime
    due_at: datetime | None  # None: the step has no allowance
    ended_at: datetime | None = None
    outcome: RunOutcome | None = None
    credit: timedelta = ZERO  # unused time carried in from earlier steps (carry_over only)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, kw_only=True)
class StepTrail:
    """Every run so far, in order; the last one is open until the dossier leaves its steps."""

    runs: tuple[StepRun, ...] = ()

    @property
    def current(self) -> StepRun | None:
        """The open run, or None when the steps have not begun or are all done."""
        return self.runs[-1] if self.runs and self.runs[-1].is_open else None

    @property
    def current_step(self) -> int | None:
        """The 0-based index of the step the dossier is at, or None."""
        run = self.current
        return None if run is None else run.step

    def done(self, procedure: InternalProcedure) -> bool:
        """Whether the last step has handed over."""
        last = self.runs[-1] if self.runs else None
        return (last is not None and last.outcome == RunOutcome.HANDED_OVER
                and last.step == len(procedure.steps) - 1)


def allowance_time(allowance: Allowance | None, day_hours: int) -> timedelta | None:
    """A step's allowance as office time (a working day is `day_hours` hours), or None."""
    return None if allowance is None else timedelta(hours=allowance.hours(day_hours))


def step_due_at(cal: Calendar, started_at: datetime, allowance: Allowance | None,
                day_hours: int, credit: timedelta = ZERO) -> datetime | None:
    """The due instant of a step that starts at `started_at`: its allowance (plus any carried
    `credit`) of office time later; None for a step with no allowance."""
    own = allowance_time(allowance, day_hours)
    if own is None:
        return None
    return add_working_time(cal, started_at, own + credit)


def _start(procedure: InternalProcedure, cal: Calendar, index: int, at: datetime,
           credit: timedelta) -> StepRun:
    step = procedure.steps[index]
    return StepRun(step=index, started_at=cal.local(at), credit=credit,
                   due_at=step_due_at(cal, at, step.allowance, procedure.day_hours, credit))


def begin(procedure: InternalProcedure, cal: Calendar, received_at: datetime) -> StepTrail:
    """The trail of a dossier just received: its first step starts at the receipt."""
    return StepTrail(runs=(_start(procedure, cal, 0, received_at, ZERO),))


def _open(trail: StepTrail, at: datetime) -> StepRun:
    run = trail.current
    if run is None:
        raise InvalidTransition("the dossier is not at a step (not begun, or all steps done)")
    if at < run.started_at:
        raise InvalidCommand("a step cannot end before it started",
                             started_at=run.started_at.isoformat())
    return run


def _unused(cal: Calendar, run: StepRun, ended_at: datetime) -> timedelta:
    # What a handed-over run leaves to the next step under carry_over: its unused office
    # time if timed, else whatever it was carrying.
    if run.due_at is None:
        return run.credit
    return working_time_between(cal, ended_at, run.due_at)


def hand_over(trail: StepTrail, procedure: InternalProcedure, cal: Calendar, at: datetime, *,
              carry_over: bool = False) -> StepTrail:
    """The current step hands over at `at`: it ends, and the next one (if any) starts then.
    `carry_over` is the setting of the module docstring (off: no rule found)."""
    run = _open(trail, at)
    ended = replace(run, ended_at=cal.local(at), outcome=RunOutcome.HANDED_OVER)
    runs = (*trail.runs[:-1], ended)
    if run.step + 1 < len(procedure.steps):
        credit = _unused(cal, run, at) if carry_over else ZERO
        runs = (*runs, _start(procedure, cal, run.step + 1, at, credit))
    return StepTrail(runs=runs)


def send_back(trail: StepTrail, procedure: InternalProcedure, cal: Calendar, at: datetime,
              to_step: int | None = None) -> StepTrail:
    """A leader sends the dossier back at `at` to an earlier step (default: the previous one),
    which runs again with a fresh allowance; the run that sent it back ends "sent back"."""
    run = _open(trail, at)
    target = run.step - 1 if to_step is None else to_step
    if not 0 <= target < run.step:
        raise InvalidCommand(f"a dossier at step {run.step + 1} can be sent back to an earlier "
                             f"step only, not to step {target + 1}")
    ended = replace(run, ended_at=cal.local(at), outcome=RunOutcome.SENT_BACK)
    return StepTrail(runs=(*trail.runs[:-1], ended, _start(procedure, cal, target, at, ZERO)))


def shift_current(trail: StepTrail, cal: Calendar, paused_at: datetime,
                  resumed_at: datetime) -> StepTrail:
    """After a pause that stops the clock (waiting for the citizen), the open step's due
    instant moves by the office time the pause lasted, as the dossier's does."""
    run = trail.current
    if run is None or run.due_at is None:
        return trail
    moved = add_working_time(cal, run.due_at, working_time_between(cal, paused_at, resumed_at))
    return StepTrail(runs=(*trail.runs[:-1], replace(run, due_at=moved)))


def step_unit(procedure: InternalProcedure, index: int, receiving_unit: str) -> str:
    """The unit answering for step `index`: the step's own unit (liên thông), else the unit
    that received the dossier."""
    return procedure.steps[index].unit_code or receiving_unit


def verdict(cal: Calendar, run: StepRun) -> Timeliness | None:
    """The run's verdict against its own due instant (module docstring); None while open or
    for a step with no allowance."""
    if run.ended_at is None or run.due_at is None:
        return None
    if run.ended_at > run.due_at:
        return Timeliness.LATE
    return timeliness(cal, run.ended_at, run.due_at)


def overdue(run: StepRun, now: datetime) -> bool:
    """Whether an open timed run is past its due instant at `now`."""
    return run.is_open and run.due_at is not None and now > run.due_at


def scaled_hours(procedure: InternalProcedure, total_hours: int) -> tuple[int | None, ...]:
    """Each step's allowance in office hours once the applied time becomes `total_hours` (a
    what-if cut, `motcua.whatif`): every timed step keeps its share of the time, rounded to
    whole hours by the largest remainder (each gets the whole hours of its exact share, and
    the hours left go one each to the largest fractions, the earlier step first on a tie), so
    the steps still add up exactly to the new time; untimed steps stay untimed (None).

    OUR READING: no text says how a cut time is shared between steps (the province publishes
    a new list with a new time); proportional shares in whole hours are the plan nearest the
    published one. A deep cut may leave a step 0 hours: shown as is, for the province to
    decide."""
    own = [s.allowance.hours(procedure.day_hours) if s.allowance else None
           for s in procedure.steps]
    before = sum(h for h in own if h)
    if before == 0 or total_hours < 0:
        return tuple(None if h is None else 0 for h in own)
    exact = {i: h * total_hours / before for i, h in enumerate(own) if h is not None}
    shares = {i: int(x) for i, x in exact.items()}
    left = total_hours - sum(shares.values())
    for i in sorted(exact, key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += 1
    return tuple(shares.get(i) if h is not None else None for i, h in enumerate(own))


# -- what the workflow's step activity runs (activities/steps.py) ---------------------------

def plan_for(procedure: InternalProcedure, receiving_unit: str, *,
             carry_over: bool) -> StepPlan:
    """The plan a dossier received by `receiving_unit` walks: every step with its unit
    resolved and its allowance in office hours (`domain.walk.StepPlan`)."""
    return StepPlan(
        version=procedure.version, day_hours=procedure.day_hours, carry_over=carry_over,
        steps=tuple(PlannedStep(
            name=s.name, role=s.role.value, actor=s.actor,
            unit_code=step_unit(procedure, i, receiving_unit),
            allowance_hours=s.allowance.hours(procedure.day_hours) if s.allowance else None,
            untimed=s.untimed, produces=s.produces)
            for i, s in enumerate(procedure.steps)))


# Due soon once this share of a step's office time has passed: OUR READING (no rule found for
# steps; the dossier's own due-soon is one working day before, longer than most steps).
DUE_SOON_SHARE = 0.75


def run_due(cal: Calendar, request: StepDueRequest) -> StepDueResult:
    """A run's due instant and due-soon instant: its own allowance (plus, with carry-over,
    the office time the previous handed-over run left unused: `hand_over`) counted from its
    start, then the office time of every pause since it started added back
    (`shift_current`). An untimed step passes any credit on and has no due instant."""
    credit = ZERO
    if request.carry_over and request.previous_ended_at is not None:
        if request.previous_due_at is None:
            credit = timedelta(seconds=request.previous_credit_seconds)
        else:
            credit = working_time_between(cal, request.previous_ended_at,
                                          request.previous_due_at)
    if request.allowance_hours is None:
        return StepDueResult(due_at=None, due_soon_at=None,
                             credit_seconds=int(credit.total_seconds()))
    own = timedelta(hours=request.allowance_hours) + credit
    due = add_working_time(cal, request.started_at, own)
    soon = add_working_time(cal, request.started_at, own * DUE_SOON_SHARE)
    for pause in request.pauses:
        lost = working_time_between(cal, pause.start, pause.end)
        due, soon = add_working_time(cal, due, lost), add_working_time(cal, soon, lost)
    return StepDueResult(due_at=due, due_soon_at=soon, credit_seconds=int(credit.total_seconds()))


def pauses_since(pauses: tuple[Pause, ...] | list[Pause], started_at: datetime) -> list[Pause]:
    """The pauses that began while a run was open (those before it were not its time)."""
    return [p for p in pauses if p.start >= started_at]


# Events after which the open run needs its due instant (again): a run began, or a pause
# ended (the run's time moves by the office time it lasted).
_NEW_RUN = (ev.StepsBegun, ev.StepHandedOver, ev.StepSentBack)


def due_request(state: Dossier, events: Sequence[ev.Event]) -> StepDueRequest | None:
    """What the workflow asks the step activity after `events` brought the dossier to
    `state`, or None when no run needs a due instant."""
    run = current(state.step_runs)
    plan = state.step_plan
    if plan is None or run is None:
        return None
    began = any(isinstance(e, _NEW_RUN) for e in events)
    resumed = any(isinstance(e, ev.SupplementReceived) for e in events) and run.due_at is not None
    if not (began or resumed):
        return None
    previous = state.step_runs[-2] if len(state.step_runs) > 1 else None
    handed = previous is not None and previous.outcome == "handed_over"
    return StepDueRequest(
        started_at=run.started_at, allowance_hours=plan.steps[run.step].allowance_hours,
        carry_over=plan.carry_over and handed,
        previous_ended_at=previous.ended_at if previous and handed else None,
        previous_due_at=previous.due_at if previous and handed else None,
        previous_credit_seconds=previous.credit_seconds if previous and handed else 0,
        pauses=pauses_since(state.pauses, run.started_at))
