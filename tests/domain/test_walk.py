"""Known-date tests of step due instants through the workflow's path (issue 22 item 2): the
same calls `DossierWorkflow._execute` makes (decide, fold, the plan at receipt, the step
activity's `domain.steps.run_due` for the run that needs it, `SetStepDue`), at known dates.

Office hours are the shipped ones (07:30-11:30, 13:30-17:00, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from domain import commands as cmd
from domain import events as ev
from domain import steps, walk
from domain.calendar import Calendar
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.errors import InvalidCommand, InvalidTransition
from domain.states import AlertKind, Channel, DossierState, Timeliness
from motcua.catalog.source import load_catalog

UNIT = "000.21.39.H39"


def at(day: str, clock_time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}:00+07:00")


class Walk:
    """A dossier driven as the workflow drives it, keeping every event."""

    def __init__(self, cal: Calendar, procedure: str, received: datetime, *,
                 carry_over: bool = False) -> None:
        self.cal, self.events = cal, list[ev.Event]()
        self.d = Dossier()
        self.run(cmd.ReceiveDossier(code=f"{UNIT}-260302-0001", unit_code=UNIT,
                                    procedure_code=procedure, channel=Channel.COUNTER,
                                    applicant_name="Nguyễn Văn An", actor="clerk-1"), received,
                 plan=carry_over)

    def run(self, command: cmd.Command, now: datetime, plan: bool | None = None) -> list[ev.Event]:
        events = decide(self.d, command, now)
        state = fold(events, self.d)
        if plan is not None:  # the receipt: the plan from the catalog (`plan_steps`)
            proc = load_catalog().procedure(state.procedure_code)
            assert proc.steps is not None
            more = decide(state, cmd.BeginSteps(plan=steps.plan_for(
                proc.steps, UNIT, carry_over=plan)), now)
            events, state = [*events, *more], fold(more, state)
        request = steps.due_request(state, events)
        if request is not None:  # the step activity, then `SetStepDue`
            due = steps.run_due(self.cal, request)
            run = state.step_runs[-1]
            more = decide(state, cmd.SetStepDue(step=run.step, due_at=due.due_at,
                                                due_soon_at=due.due_soon_at,
                                                credit_seconds=due.credit_seconds), now)
            events, state = [*events, *more], fold(more, state)
        self.d = state
        self.events += events
        return events

    def hand_over(self, now: datetime, actor: str = "x", **kw: str) -> list[ev.Event]:
        return self.run(cmd.HandOverStep(actor=actor, **kw), now)

    @property
    def open(self) -> walk.StepRecord:
        run = walk.current(self.d.step_runs)
        assert run is not None
        return run


def test_a_receipt_after_hours_starts_the_first_step_at_the_next_opening(cal: Calendar) -> None:
    """Vĩnh Long 2682 (3.000527.H61), received Friday 17:30: the 0,25-day first step (2 h)
    is due Monday 09:30; the plan is copied into the dossier with every step's unit."""
    w = Walk(cal, "3.000527.H61", at("2026-03-06", "17:30"))
    begun = [e for e in w.events if isinstance(e, ev.StepsBegun)]
    assert len(begun) == 1 and len(begun[0].steps) == 6
    assert {s.unit_code for s in begun[0].steps} == {UNIT}
    assert w.d.current_step == 0
    assert w.open.started_at == at("2026-03-06", "17:30")
    assert w.open.due_at == at("2026-03-09", "09:30")
    # Due soon at three quarters of the step's office time (our reading): 1 h 30 in.
    assert w.open.due_soon_at == at("2026-03-09", "09:00")


def test_fractions_of_a_day_and_a_weekend_through_the_hand_overs(cal: Calendar) -> None:
    """Handed over Friday 15:00, the 0,25-day officer step is due 17:00; the 01-day step
    that starts Friday 16:30 has half an hour on Friday and runs into Monday afternoon."""
    w = Walk(cal, "3.000527.H61", at("2026-03-06", "14:00"))
    w.hand_over(at("2026-03-06", "15:00"), actor="clerk-1", receiver="cong-an-1")
    assert (w.open.step, w.open.giver, w.open.receiver) == (1, "clerk-1", "cong-an-1")
    assert w.open.due_at == at("2026-03-06", "17:00")
    w.hand_over(at("2026-03-06", "16:30"), actor="cong-an-1")
    # 8 h: Fri 16:30-17:00 (0.5), Mon 07:30-11:30 (4), 13:30-17:00 (3.5).
    assert w.open.due_at == at("2026-03-09", "17:00")
    handed = [e for e in w.events if isinstance(e, ev.StepHandedOver)]
    assert [(e.from_step, e.to_step, e.giver, e.unit_code) for e in handed] == [
        (0, 1, "clerk-1", UNIT), (1, 2, "cong-an-1", UNIT)]
    verdicts = [walk.verdict(r) for r in w.d.step_runs]
    assert verdicts == [Timeliness.ON_TIME, Timeliness.ON_TIME, None]


def test_a_step_finished_hours_late_the_same_day_is_late(cal: Calendar) -> None:
    """A 2-hour step due 10:00 and handed over at 16:00 the same day is late (by instant),
    though the dossier's date rule would call a same-day finish on time."""
    w = Walk(cal, "3.000527.H61", at("2026-03-02", "08:00"))
    assert w.open.due_at == at("2026-03-02", "10:00")
    w.hand_over(at("2026-03-02", "16:00"))
    assert walk.verdict(w.d.step_runs[0]) == Timeliness.LATE
    # The dossier's own due time is untouched by the steps.
    assert w.d.due_at is None and w.d.legal_due_at is None


def test_send_back_loops_repeat_the_step_with_a_fresh_allowance(cal: Calendar) -> None:
    """Nghệ An 3854 (2.002755): the department leader sends the officer's draft back twice;
    each time the officer's step (20 h) starts again from the send-back, and the trail keeps
    every run with its reason."""
    w = Walk(cal, "2.002755", at("2026-03-02", "08:00"))
    w.hand_over(at("2026-03-02", "10:00"), actor="clerk-1")  # to the leader who assigns
    w.run(cmd.AssignOfficer(officer="cv-1", actor="lanh-dao"), at("2026-03-02", "11:00"))
    assert (w.open.step, w.open.receiver) == (2, "cv-1")  # the assignment is the hand-over
    w.hand_over(at("2026-03-04", "09:00"), actor="cv-1")  # step 4 (4 h): due 15:00
    assert w.open.due_at == at("2026-03-04", "15:00")
    w.run(cmd.SendBackStep(reason="Sai mẫu", actor="lanh-dao"), at("2026-03-04", "10:00"))
    assert w.open.step == 2 and w.open.started_at == at("2026-03-04", "10:00")
    # A fresh 20 h from Wednesday 10:00: 5 (Wed), 7.5 (Thu), 7.5 (Fri).
    assert w.open.due_at == at("2026-03-06", "17:00")
    w.hand_over(at("2026-03-09", "08:00"), actor="cv-1")  # Monday: late
    w.run(cmd.SendBackStep(reason="Thiếu chữ ký", actor="lanh-dao"), at("2026-03-09", "09:00"))
    # 20 h from Monday 09:00: 6 (Mon: 2.5 + 3.5), 7.5 (Tue), 6.5 on Wednesday.
    assert w.open.due_at == at("2026-03-11", "16:00")
    runs = [(r.step, r.outcome, r.sent_back_reason) for r in w.d.step_runs]
    assert runs == [(0, "handed_over", ""), (1, "handed_over", ""), (2, "handed_over", ""),
                    (3, "sent_back", "Sai mẫu"), (2, "handed_over", ""),
                    (3, "sent_back", "Thiếu chữ ký"), (2, None, "")]
    assert [walk.verdict(r) for r in w.d.step_runs if r.step == 2][:2] == [
        Timeliness.EARLY, Timeliness.LATE]
    sent = [e for e in w.events if isinstance(e, ev.StepSentBack)]
    assert [(e.from_step, e.to_step, e.by) for e in sent] == [(3, 2, "lanh-dao")] * 2
    with pytest.raises(InvalidCommand):  # not forward, not to itself
        decide(w.d, cmd.SendBackStep(reason="x", to_step=2), at("2026-03-09", "10:00"))


def test_a_pause_moves_the_open_step_and_its_alerts(cal: Calendar) -> None:
    """The officer asks for a supplement: the step's clock stops with the dossier's, and its
    due instant moves by the office time the wait lasted; no step alert while paused."""
    w = Walk(cal, "1.004944", at("2026-03-02", "07:30"))  # step 1: 0,5 day = 4 h, due 11:30
    assert w.open.due_at == at("2026-03-02", "11:30")
    w.run(cmd.RequestSupplement(reason="thiếu"), at("2026-03-02", "09:30"))
    assert w.d.pending_step_alert() is None
    w.run(cmd.ProvideSupplement(), at("2026-03-03", "09:30"))  # 7.5 h of office time later
    assert w.open.due_at == at("2026-03-03", "11:30")
    assert w.d.pending_step_alert() == (AlertKind.DUE_SOON, at("2026-03-03", "10:30"))


def test_step_alerts_fire_once_each_to_the_steps_actor(cal: Calendar) -> None:
    """Due soon, then overdue, each once per run, naming the step's role and unit; a new run
    has its own."""
    w = Walk(cal, "1.004944", at("2026-03-02", "07:30"))
    assert w.d.pending_step_alert() == (AlertKind.DUE_SOON, at("2026-03-02", "10:30"))
    assert w.run(cmd.RaiseStepAlert(kind=AlertKind.OVERDUE, step=0),
                 at("2026-03-02", "12:00")) == []  # not the pending one
    fired = w.run(cmd.RaiseStepAlert(kind=AlertKind.DUE_SOON, step=0), at("2026-03-02", "10:30"))
    assert [(type(e).__name__, getattr(e, "role", "")) for e in fired] == [
        ("StepAlertRaised", "clerk")]
    assert w.d.pending_step_alert() == (AlertKind.OVERDUE, at("2026-03-02", "11:30"))
    fired = w.run(cmd.RaiseStepAlert(kind=AlertKind.OVERDUE, step=0), at("2026-03-02", "11:30"))
    assert isinstance(fired[0], ev.StepAlertRaised) and fired[0].unit_code == UNIT
    assert w.d.pending_step_alert() is None
    w.hand_over(at("2026-03-02", "14:00"))
    assert w.d.pending_step_alert() is not None


def test_unused_time_passes_on_only_under_the_setting(cal: Calendar) -> None:
    """Carry-over on (read at receipt): the 2-hour first step handed over an hour early gives
    the officer's 2-hour step 3 hours; off, 2."""
    on = Walk(cal, "3.000527.H61", at("2026-03-02", "08:00"), carry_over=True)
    off = Walk(cal, "3.000527.H61", at("2026-03-02", "08:00"))
    for w in (on, off):
        w.hand_over(at("2026-03-02", "09:00"))
    assert on.d.step_plan is not None and on.d.step_plan.carry_over
    # 3 h from 09:00: 2.5 h before lunch, half an hour after.
    assert on.open.due_at == at("2026-03-02", "14:00") and on.open.credit_seconds == 3600
    assert off.open.due_at == at("2026-03-02", "11:00") and off.open.credit_seconds == 0


def test_the_return_ends_the_last_step_and_hand_over_cannot(cal: Calendar) -> None:
    """The last step (return at the counter) ends with `return`; a procedure without steps
    records no step event at all."""
    w = Walk(cal, "1.004944", at("2026-03-02", "08:00"))
    for clock_time in ("09:00", "10:00"):
        w.hand_over(at("2026-03-02", clock_time))
    w.run(cmd.AssignOfficer(officer="cv-1"), at("2026-03-02", "10:30"))
    w.run(cmd.StartProcessing(), at("2026-03-02", "10:31"))
    for clock_time in ("11:00", "14:00", "15:00"):
        w.hand_over(at("2026-03-02", clock_time))
    w.run(cmd.CompleteProcessing(summary="xong"), at("2026-03-02", "15:30"))
    w.hand_over(at("2026-03-02", "16:00"))
    assert w.d.current_step == 6 and w.d.state is DossierState.READY
    with pytest.raises(InvalidTransition):
        decide(w.d, cmd.HandOverStep(), at("2026-03-02", "16:10"))
    w.run(cmd.ReturnResult(), at("2026-03-02", "16:30"))
    assert w.d.current_step is None and w.d.step_runs[-1].outcome == "handed_over"
    assert walk.verdict(w.d.step_runs[-1]) is None  # "Không tính thời gian"

    plain = Dossier()
    plain = fold(decide(plain, dataclasses.replace(
        cmd.ReceiveDossier(code=f"{UNIT}-260302-0002", unit_code=UNIT, procedure_code="1.004222",
                           channel=Channel.COUNTER, applicant_name="B")),
        at("2026-03-02", "08:00")), plain)
    assert steps.due_request(plain, []) is None and plain.step_plan is None
    with pytest.raises(InvalidTransition):
        decide(plain, cmd.HandOverStep(), at("2026-03-02", "09:00"))


def test_assigning_hands_over_only_from_a_leaders_step_to_an_officers(cal: Calendar) -> None:
    """At the counter's step, assigning an officer hands nothing over."""
    w = Walk(cal, "1.004944", at("2026-03-02", "08:00"))
    events = w.run(cmd.AssignOfficer(officer="cv-1"), at("2026-03-02", "08:30"))
    assert [type(e) for e in events] == [ev.OfficerAssigned]
    assert w.d.current_step == 0
    assert w.d.step_runs[0].due_at == at("2026-03-02", "14:00")  # 0,5 day from 08:00


def test_a_stepped_dossier_is_completed_only_after_its_last_leaders_step(
        cal: Calendar) -> None:
    """Issue 23's office day: an officer completed 1.004944 at step 3 and the result was
    returned with the approvals, the signature and the seal never done. `permits` now refuses
    a completion until the walk has passed the last leader's step (step 5, the signature: our
    reading), as the API and the console do; `decide` itself is unchanged (replay)."""
    from types import SimpleNamespace

    from domain import permits

    officer = SimpleNamespace(name="cv-1", roles=frozenset({"officer"}), unit_code=UNIT)
    w = Walk(cal, "1.004944", at("2026-03-02", "08:00"))
    for clock_time in ("09:00", "10:00"):
        w.hand_over(at("2026-03-02", clock_time))
    w.run(cmd.AssignOfficer(officer="cv-1"), at("2026-03-02", "10:30"))
    w.run(cmd.StartProcessing(), at("2026-03-02", "10:31"))
    refused = permits.step_refusal(w.d, cmd.CompleteProcessing, officer)
    assert isinstance(refused, InvalidTransition) and "after step 5" in refused.message
    for clock_time in ("11:00", "14:00"):  # the department's leader, then the commune's
        w.hand_over(at("2026-03-02", clock_time))
        assert permits.step_refusal(w.d, cmd.CompleteProcessing, officer) is not None
    w.hand_over(at("2026-03-02", "15:00"))  # signed: at the records clerk's step
    assert w.d.current_step == 5
    assert permits.step_refusal(w.d, cmd.CompleteProcessing, officer) is None
