"""Rows of the process-control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ).

One row per hand-off of the dossier, in stream order, with its hand-over cells "Người giao" (who
handed the dossier over) and "Người nhận" (who received it), taken from the events' actors, and
the time: receipt (citizen to clerk), assignment,
start of processing, supplement requested (to the citizen) and received (back from the
citizen), result ready (to the one-stop desk), result returned (to the citizen), plus the
apology with a new appointment and the closing refusal, withdrawal or stop. Deadline events,
alerts, notifications and ratings are not hand-offs and print no row. Who receives the result
at the one-stop desk is the clerk who later returns it to the citizen (the only desk actor the
events name); until then the desk itself.

Per-step verdict (there are no per-step time budgets in the catalog, so every step is measured
against the whole dossier's due time, with the Biểu 06 date rule of `domain.clock.timeliness`:
a step on an earlier Vietnam-time date than the due date is "Trước hạn", on the due date
"Đúng hạn", after it "Quá hạn"):

* the due time used is the LEGAL one in force when the step happened: the receipt's time with
  supplement pauses and calendar corrections, never the new appointment an apology gave (an
  apology does not make a late dossier on time; issue 11 point 5);
* except for the two steps that set their own due time: the receipt (none exists before it) and
  a supplement coming back (the clock was stopped while the citizen gathered papers, and the
  due time is recomputed on its arrival) — these are judged against the due time they set;
* the result-ready and result-returned rows print the verdict the engine recorded on those
  events, which also applies Decision 766 (a second supplement request during processing makes
  the dossier late), and a withdrawal prints the verdict the dossier's state holds (judged like
  any end of processing, Decision 766), so the slip never disagrees with the reports;
* a step with no due time known prints no verdict.

A dossier walking an internal procedure (issue 22 item 5) also prints a row per hand-over and
send-back of its steps, judged against that step's OWN allowance by instant (`domain.walk.
verdict`: a step finished hours late on its due day is "Quá hạn"), as the form's column
"trước hạn / đúng hạn / quá hạn" per hand-over reads (Circular 03/2025/TT-VPCP, form 06; DOMAIN
9.1); a late step's row names the person who held it and the unit answering for it
(`late_steps`), the unit that apologises for its share (Lai Châu 88/2025/QĐ-UBND art. 7(5):
each agency answers for the time at its own office).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain import events as ev
from domain import walk
from domain.clock import timeliness
from domain.dossier import Dossier
from domain.envelope import EventEnvelope
from domain.states import Timeliness
from motcua.documents.history import History
from motcua.documents.narration import describe
from motcua.documents.timefmt import VERDICT_LABELS, vn_time

DESK = "Bộ phận tiếp nhận và trả kết quả"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One printed hand-off."""

    number: int
    step: str
    giver: str
    receiver: str
    at: str
    verdict: str  # Trước hạn / Đúng hạn / Quá hạn, or "" when no due time is known
    verdict_class: str  # early / on_time / late / "" (for styling)
    note: str


@dataclass(frozen=True)
class _Step:
    step: str
    giver: str
    receiver: str
    at: datetime
    note: str = ""
    judged: Timeliness | None = None  # a verdict already recorded on the event


@dataclass(frozen=True, kw_only=True)
class LateStep:
    """A run of a step that ended after its own due instant: who held it and which unit
    answers for it."""

    step: int  # 0-based
    name: str
    person: str  # the person it was handed to, else who handed it on
    unit_code: str
    due_at: datetime
    ended_at: datetime


def late_steps(d: Dossier) -> list[LateStep]:
    """Every run judged late against its own allowance, in order (`domain.walk.verdict`)."""
    plan = d.step_plan
    if plan is None:
        return []
    return [LateStep(step=r.step, name=plan.steps[r.step].name,
                     person=r.receiver or r.ended_by, unit_code=plan.steps[r.step].unit_code,
                     due_at=r.due_at, ended_at=r.ended_at)
            for r in d.step_runs
            if walk.verdict(r) is Timeliness.LATE and r.due_at and r.ended_at]


def late_unit_at(d: Dossier, at: datetime) -> str | None:
    """The unit whose share was late at `at` (the apology's instant): the last step that had
    ended late by then, or was open past its due instant then; else the unit holding the
    step open then; None for a dossier without steps (the receiving unit answers)."""
    plan = d.step_plan
    if plan is None:
        return None
    late, holding = None, None
    for r in d.step_runs:
        if r.started_at > at:
            break
        open_then = r.ended_at is None or r.ended_at > at
        if open_then:
            holding = plan.steps[r.step].unit_code
        if r.due_at is not None and r.due_at < (at if open_then else r.ended_at or at):
            late = plan.steps[r.step].unit_code
    return late or holding


def rows(h: History) -> list[Row]:
    """The slip's rows, numbered from 1, with each step's verdict (rule in the module doc)."""
    applicant = f"Ông/Bà {h.received.applicant_name}"
    holder = h.name(h.received_by) if h.received_by else DESK
    desk = next((h.name(rec.actor) for rec in h.steps
                 if isinstance(rec.event, ev.ResultReturned) and rec.actor), DESK)
    due: datetime | None = None
    out: list[Row] = []
    ended = 0  # runs of the internal procedure's steps ended so far
    for i, rec in enumerate(h.steps):
        event = rec.event
        if isinstance(event, ev.DeadlineSet):
            due = _legal_due(event, due)
            continue
        if isinstance(event, ev.StepHandedOver | ev.StepSentBack):
            runs = h.state.step_runs
            if h.state.step_plan is not None and ended < len(runs):
                out.append(_step_row(h, len(out) + 1, rec, runs[ended]))
            ended += 1
            continue
        step = _step(rec, applicant, holder, desk, h)
        if step is None:
            continue
        if isinstance(event, ev.OfficerAssigned | ev.ProcessingStarted):
            holder = step.receiver
        sets_own = isinstance(event, ev.DossierReceived | ev.SupplementReceived
                              | ev.SubmissionAccepted)
        against = (_deadline_caused_by(h.steps, i) or due) if sets_own else due
        if isinstance(event, ev.DossierWithdrawn) and h.state.timeliness is not None:
            result: Timeliness | None = h.state.timeliness
        elif step.judged is not None:
            result = step.judged
        else:
            result = timeliness(h.tz, step.at, against) if against is not None else None
        note = step.note
        if isinstance(event, ev.SupplementReceived) and due is not None and against is not None:
            # What the pause did to the due time, so the slip never shows two due times
            # without saying why (issue 23 item 8).
            moved = ("hạn giải quyết không đổi" if against == due else
                     f"hạn giải quyết chuyển từ {vn_time(due, h.tz)} sang "
                     f"{vn_time(against, h.tz)}")
            note = "; ".join(n for n in (note, moved) if n)
        out.append(Row(number=len(out) + 1, step=step.step, giver=step.giver,
                       receiver=step.receiver, at=vn_time(step.at, h.tz),
                       verdict=VERDICT_LABELS[result] if result else "",
                       verdict_class=result.value if result else "", note=note))
    return out


def _legal_due(event: ev.DeadlineSet, before: datetime | None) -> datetime:
    """The legal due time a deadline event sets; one recorded before issue 11 for an apology
    carries none and leaves the previous one."""
    if event.legal_due_at is not None:
        return event.legal_due_at
    return before if (event.reason == "extension" and before is not None) else event.due_at


def _deadline_caused_by(steps: tuple[EventEnvelope, ...], i: int) -> datetime | None:
    """The legal due time set by the same command as step `i` (recorded right after it)."""
    for later in steps[i + 1:]:
        if later.causation != steps[i].causation:
            return None
        if isinstance(later.event, ev.DeadlineSet):
            return _legal_due(later.event, None)
    return None


class _Party(Enum):
    """Who a hand-off cell names (resolved per row in `_step`)."""

    APPLICANT = "applicant"  # the citizen
    ACTOR = "actor"  # who recorded the event
    HOLDER = "holder"  # who held the dossier before the step
    OFFICER = "officer"  # the officer the event names
    DESK = "desk"  # the one-stop desk itself
    RESULT_DESK = "result_desk"  # who receives the result at the desk


# The events that are hand-offs, with their giver and receiver; anything else prints no row.
_HANDOFFS: dict[type[ev.Event], tuple[_Party, _Party]] = {
    ev.DossierReceived: (_Party.APPLICANT, _Party.ACTOR),
    ev.DossierSubmitted: (_Party.APPLICANT, _Party.DESK),
    ev.IntakeSupplementRequested: (_Party.ACTOR, _Party.APPLICANT),
    ev.IntakeSupplementReceived: (_Party.APPLICANT, _Party.ACTOR),
    ev.SubmissionAccepted: (_Party.APPLICANT, _Party.ACTOR),
    ev.SubmissionRefused: (_Party.ACTOR, _Party.APPLICANT),
    ev.OfficerAssigned: (_Party.HOLDER, _Party.OFFICER),
    ev.ProcessingStarted: (_Party.HOLDER, _Party.OFFICER),
    ev.SupplementRequested: (_Party.ACTOR, _Party.APPLICANT),
    ev.SupplementReceived: (_Party.APPLICANT, _Party.ACTOR),
    ev.ResultReady: (_Party.ACTOR, _Party.RESULT_DESK),
    ev.ResultReturned: (_Party.ACTOR, _Party.APPLICANT),
    ev.DeadlineExtended: (_Party.ACTOR, _Party.APPLICANT),
    ev.DossierRefused: (_Party.ACTOR, _Party.APPLICANT),
    ev.DossierWithdrawn: (_Party.ACTOR, _Party.APPLICANT),
    ev.ProcessingStopped: (_Party.ACTOR, _Party.APPLICANT),
}


def _step(rec: EventEnvelope, applicant: str, holder: str, desk: str,
          h: History) -> _Step | None:
    """Step name, giver, receiver, time and note of one event (worded by `describe`); None if
    it is no hand-off. `holder` is who holds the dossier before it, `desk` who receives the
    result; staff are named by full name (`History.name`)."""
    event = rec.event
    parties = _HANDOFFS.get(type(event))
    if parties is None:
        return None
    officer = event.officer if isinstance(event, ev.OfficerAssigned | ev.ProcessingStarted) \
        else ""
    names = {_Party.APPLICANT: applicant,
             _Party.ACTOR: h.name(rec.actor) if rec.actor else DESK, _Party.HOLDER: holder,
             _Party.OFFICER: h.name(officer), _Party.DESK: DESK, _Party.RESULT_DESK: desk}
    told = describe(event, h.tz, h.people)
    note = told.note()
    if isinstance(event, ev.OfficerAssigned) and names[_Party.ACTOR] != holder:
        note = "; ".join(n for n in (note, f"Phân công: {names[_Party.ACTOR]}") if n)
    at = event.original_received_at or event.at if isinstance(event, ev.DossierReceived) \
        else event.at
    judged = event.timeliness if isinstance(event, ev.ResultReady | ev.ResultReturned) else None
    return _Step(told.step, names[parties[0]], names[parties[1]], at, note, judged)


def _step_row(h: History, number: int, rec: EventEnvelope, run: walk.StepRecord) -> Row:
    """The row of a hand-over or send-back of an internal procedure's step, judged against
    that step's own due instant (module doc); a late one names its person and unit."""
    event = rec.event
    plan = h.state.step_plan
    assert plan is not None and isinstance(event, ev.StepHandedOver | ev.StepSentBack)
    step = plan.steps[run.step]
    told = describe(event, h.tz)
    verdict = walk.verdict(run)
    if isinstance(event, ev.StepHandedOver):
        nxt = plan.steps[event.to_step] if event.to_step is not None else None
        receiver = event.receiver or (nxt.actor if nxt else f"Ông/Bà {h.received.applicant_name}")
    else:
        receiver = plan.steps[event.to_step].actor
    notes = [f"Bước {run.step + 1} ({step.actor}, {h.unit_label(step.unit_code)})"]
    notes.append(f"hạn bước: {vn_time(run.due_at, h.tz)}" if run.due_at else
                 f"hạn bước: {step.untimed or 'không tính thời gian'}")
    if verdict is Timeliness.LATE:
        notes.append(f"quá hạn do: {run.receiver or run.ended_by} - "
                     f"{h.unit_label(step.unit_code)}")
    if told.note():
        notes.append(told.note())
    return Row(number=number, step=told.step, giver=run.receiver or rec.actor or DESK,
               receiver=receiver, at=vn_time(event.at, h.tz),
               verdict=VERDICT_LABELS[verdict] if verdict else "",
               verdict_class=verdict.value if verdict else "", note="; ".join(notes))
