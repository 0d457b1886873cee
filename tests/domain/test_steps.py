"""Known-date tests of step due instants and verdicts (issue 22 item 2, `domain.steps`).

Office hours are the shipped ones (07:30-11:30, 13:30-17:00, Asia/Ho_Chi_Minh); Tết 2026 is
Mon 16 to Fri 20 Feb in the shipped calendar (checked below, not assumed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain import clock
from domain import steps as st
from domain.calendar import Calendar
from domain.catalog import Allowance, InternalProcedure, Step, StepRole, TimeUnit
from domain.errors import InvalidCommand, InvalidTransition
from domain.states import Timeliness
from motcua.catalog.source import load_catalog

ICT = timezone(timedelta(hours=7))


def at(day: str, clock_time: str) -> datetime:
    """A local office instant, e.g. at("2026-03-02", "08:00")."""
    return datetime.fromisoformat(f"{day}T{clock_time}:00+07:00")


def hours(n: int) -> Allowance:
    return Allowance(amount=n, unit=TimeUnit.WORKING_HOURS)


def days(n: int) -> Allowance:
    return Allowance(amount=n, unit=TimeUnit.WORKING_DAYS)


def procedure(*allowances: Allowance | None) -> InternalProcedure:
    """Steps with these allowances (None: untimed), the middle ones led by a leader."""
    return InternalProcedure(version="test", steps=tuple(
        Step(name=f"step {i + 1}", role=StepRole.OFFICER, actor="Chuyên viên", allowance=a,
             untimed="" if a else "Không tính thời gian", source="test")
        for i, a in enumerate(allowances)))


def test_fractions_of_a_day_are_hours_of_office_time(cal: Calendar) -> None:
    """Vĩnh Long 2682: 0,25 ngày is 2 hours and 01 ngày 8 hours of office time, each counted
    from the moment the step starts (the previous step's hand-over), lunch skipped."""
    steps = load_catalog().procedure("3.000527.H61").steps
    assert steps is not None
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))  # Monday
    assert trail.runs[0].due_at == at("2026-03-02", "10:00")  # 0,25 ngày = 2 h
    trail = st.hand_over(trail, steps, cal, at("2026-03-02", "09:00"))
    assert trail.runs[1].started_at == at("2026-03-02", "09:00")
    assert trail.runs[1].due_at == at("2026-03-02", "11:00")  # 0,25 ngày from 09:00
    trail = st.hand_over(trail, steps, cal, at("2026-03-02", "11:00"))
    # 01 ngày = 8 h: 11:00-11:30, 13:30-17:00 (4 h), Tuesday 07:30-11:30 (4 h).
    assert trail.runs[2].due_at == at("2026-03-03", "11:30")
    assert trail.current_step == 2
    assert st.step_due_at(cal, at("2026-03-02", "08:00"), Allowance(
        amount=4, unit=TimeUnit.WORKING_HOURS), 8) == at("2026-03-02", "14:00")  # 0,5 ngày


def test_a_start_after_hours_counts_from_the_next_opening(cal: Calendar) -> None:
    """Received Friday 17:30: the 2-hour first step counts from Monday 07:30."""
    trail = st.begin(procedure(hours(2), hours(4)), cal, at("2026-03-06", "17:30"))
    assert trail.runs[0].started_at == at("2026-03-06", "17:30")
    assert trail.runs[0].due_at == at("2026-03-09", "09:30")


def test_a_weekend_is_skipped(cal: Calendar) -> None:
    """A 4-hour step started Friday 15:00: two hours on Friday, two on Monday morning."""
    steps = procedure(hours(1), hours(4))
    trail = st.hand_over(st.begin(steps, cal, at("2026-03-06", "14:00")), steps, cal,
                         at("2026-03-06", "15:00"))
    assert trail.runs[1].due_at == at("2026-03-09", "09:30")


def test_tet_is_skipped(cal: Calendar) -> None:
    """A one-day step started on the last afternoon before Tết 2026 ends on the first Monday
    after it (the calendar's holidays, not a hand-made list)."""
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(16, 21))
    assert cal.is_working_day(date(2026, 2, 13)) and cal.is_working_day(date(2026, 2, 23))
    due = st.step_due_at(cal, at("2026-02-13", "13:30"), days(1), 8)
    # Friday 13:30-17:00 (3.5 h), Monday 23 Feb 07:30-11:30 (4 h) and 13:30-14:00.
    assert due == at("2026-02-23", "14:00")


def test_a_step_is_judged_by_instant_not_by_date(cal: Calendar) -> None:
    """A 4-hour step due 11:30 and finished at 17:30 the same day is late, though the date
    rule the dossier uses would call it on time; finished on an earlier date it is early."""
    steps = procedure(hours(4), hours(8))
    trail = st.begin(steps, cal, at("2026-03-02", "07:30"))
    assert trail.runs[0].due_at == at("2026-03-02", "11:30")
    late = st.hand_over(trail, steps, cal, at("2026-03-02", "17:30"))
    assert st.verdict(cal, late.runs[0]) == Timeliness.LATE
    assert clock.timeliness(cal, at("2026-03-02", "17:30"), at("2026-03-02", "11:30")) == (
        Timeliness.ON_TIME)
    on_time = st.hand_over(trail, steps, cal, at("2026-03-02", "11:30"))
    assert st.verdict(cal, on_time.runs[0]) == Timeliness.ON_TIME
    assert st.verdict(cal, on_time.runs[1]) is None  # still open
    # The 8-hour second step started Monday 11:30: 3.5 h Monday afternoon, 4 h Tuesday
    # morning, half an hour after lunch; done on Monday: early.
    assert on_time.runs[1].due_at == at("2026-03-03", "14:00")
    early = st.hand_over(on_time, steps, cal, at("2026-03-02", "16:00"))
    assert st.verdict(cal, early.runs[1]) == Timeliness.EARLY
    assert early.done(steps) and early.current is None
    assert st.overdue(trail.runs[0], at("2026-03-02", "11:31"))
    assert not st.overdue(trail.runs[0], at("2026-03-02", "11:30"))


def test_send_back_repeats_the_step_with_a_fresh_allowance(cal: Calendar) -> None:
    """Nghệ An 3854: the department leader (step 4, 4 h) sends the dossier back to the officer
    (step 3, 20 h); step 3 runs again with 20 h from the send-back, then step 4 again; the
    trail keeps both runs of each."""
    steps = load_catalog().procedure("2.002755").steps
    assert steps is not None
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))
    trail = st.hand_over(trail, steps, cal, at("2026-03-02", "10:00"))  # step 2 starts
    trail = st.hand_over(trail, steps, cal, at("2026-03-02", "11:00"))  # step 3 (20 h)
    # 20 h from Monday 11:00: 0.5 + 3.5 (Mon), 7.5 (Tue), 7.5 (Wed), 1 h Thursday.
    assert trail.runs[2].due_at == at("2026-03-05", "08:30")
    trail = st.hand_over(trail, steps, cal, at("2026-03-04", "09:00"))  # step 4 (4 h)
    assert trail.runs[3].due_at == at("2026-03-04", "15:00")  # 2.5 h + 1.5 h
    trail = st.send_back(trail, steps, cal, at("2026-03-04", "10:00"))
    assert [(r.step, r.outcome) for r in trail.runs] == [
        (0, st.RunOutcome.HANDED_OVER), (1, st.RunOutcome.HANDED_OVER),
        (2, st.RunOutcome.HANDED_OVER), (3, st.RunOutcome.SENT_BACK), (2, None)]
    again = trail.runs[-1]
    assert again.started_at == at("2026-03-04", "10:00")
    # A fresh 20 h from Wednesday 10:00: 1.5 + 3.5 (Wed), 7.5 (Thu), 7.5 (Fri) = 20.
    assert again.due_at == at("2026-03-06", "17:00")
    trail = st.hand_over(trail, steps, cal, at("2026-03-09", "08:00"))  # Monday: late
    assert st.verdict(cal, trail.runs[4]) == Timeliness.LATE
    assert st.verdict(cal, trail.runs[3]) == Timeliness.ON_TIME  # sent back in time
    assert trail.current_step == 3 and trail.runs[-1].due_at == at("2026-03-09", "14:00")
    with pytest.raises(InvalidCommand):
        st.send_back(trail, steps, cal, at("2026-03-09", "09:00"), to_step=3)
    assert st.step_unit(steps, 3, "000.21.39.H39") == "000.21.39.H39"  # the commune's share
    assert st.step_unit(steps, 8, "000.21.39.H39") == "000.00.30.H40"  # Sở Nội vụ's


def test_a_send_back_may_skip_steps_but_not_go_forward(cal: Calendar) -> None:
    """The People's Committee leader (step 5) may send the dossier back to the officer
    (step 3); the first step cannot be sent back."""
    steps = procedure(hours(4), hours(4), hours(8), hours(4), hours(4))
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))
    with pytest.raises(InvalidCommand):
        st.send_back(trail, steps, cal, at("2026-03-02", "09:00"))
    for clock_time in ("09:00", "10:00", "11:00", "14:00"):
        trail = st.hand_over(trail, steps, cal, at("2026-03-02", clock_time))
    trail = st.send_back(trail, steps, cal, at("2026-03-02", "15:00"), to_step=2)
    assert trail.current_step == 2 and trail.runs[-1].due_at == at("2026-03-03", "15:30")


def test_an_untimed_step_has_no_due_instant_and_no_verdict(cal: Calendar) -> None:
    """Hà Tĩnh 2904 B1 "Giờ hành chính": no due instant, no verdict; B2 (0,25 ngày) counts
    from B1's hand-over."""
    steps = load_catalog().procedure("1.014464").steps
    assert steps is not None and steps.steps[0].allowance is None
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))
    assert trail.runs[0].due_at is None and not st.overdue(trail.runs[0], at("2026-03-09",
                                                                              "08:00"))
    trail = st.hand_over(trail, steps, cal, at("2026-03-02", "16:00"))
    assert st.verdict(cal, trail.runs[0]) is None
    assert trail.runs[1].due_at == at("2026-03-03", "08:30")  # 1 h Mon, 1 h Tue


def test_unused_time_passes_on_only_when_the_setting_says_so(cal: Calendar) -> None:
    """Off (the default): each step has its own allowance. On: a step handed over an hour
    early gives the next step an hour more; an untimed step passes the credit through."""
    steps = procedure(hours(2), None, hours(2))
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))  # due 10:00
    plain = st.hand_over(trail, steps, cal, at("2026-03-02", "09:00"))
    plain = st.hand_over(plain, steps, cal, at("2026-03-02", "09:00"))
    assert plain.runs[2].due_at == at("2026-03-02", "11:00")
    carried = st.hand_over(trail, steps, cal, at("2026-03-02", "09:00"), carry_over=True)
    assert carried.runs[1].credit == timedelta(hours=1) and carried.runs[1].due_at is None
    carried = st.hand_over(carried, steps, cal, at("2026-03-02", "09:00"), carry_over=True)
    assert carried.runs[2].due_at == at("2026-03-02", "14:00")  # 3 h, lunch skipped
    late = st.hand_over(trail, steps, cal, at("2026-03-02", "11:00"), carry_over=True)
    assert late.runs[1].credit == timedelta(0)


def test_a_pause_moves_the_open_step(cal: Calendar) -> None:
    """While the clock stops (waiting for the citizen), the open step's due instant moves by
    the office time the pause lasted."""
    trail = st.begin(procedure(hours(4), hours(2)), cal, at("2026-03-02", "07:30"))
    moved = st.shift_current(trail, cal, at("2026-03-02", "09:00"), at("2026-03-03", "09:00"))
    assert moved.runs[0].due_at == at("2026-03-03", "11:30")  # 7.5 h later


def test_moves_outside_the_steps_are_refused(cal: Calendar) -> None:
    """No hand-over after the last step, and none before the step started."""
    steps = procedure(hours(2))
    trail = st.begin(steps, cal, at("2026-03-02", "08:00"))
    with pytest.raises(InvalidCommand):
        st.hand_over(trail, steps, cal, at("2026-03-02", "07:00"))
    done = st.hand_over(trail, steps, cal, at("2026-03-02", "09:00"))
    assert done.done(steps)
    with pytest.raises(InvalidTransition):
        st.hand_over(done, steps, cal, at("2026-03-02", "10:00"))
    with pytest.raises(InvalidTransition):
        st.hand_over(st.StepTrail(), steps, cal, at("2026-03-02", "10:00"))


def test_steps_never_move_the_dossier_due_time(cal: Calendar) -> None:
    """The legal due time is `clock.due_at` of the applied time, whatever the steps; steps
    that each take their allowance from a morning receipt finish before it."""
    catalog = load_catalog()
    received = at("2026-03-02", "08:00")
    for code in ("3.000527.H61", "1.004944", "1.014464", "2.002755"):
        proc = catalog.procedure(code)
        assert proc.steps is not None
        legal = clock.due_at(cal, received, proc.reduced_amount, proc.reduced_unit)
        trail = st.begin(proc.steps, cal, received)
        while trail.current is not None:
            run = trail.current
            trail = st.hand_over(trail, proc.steps, cal, run.due_at or run.started_at)
        assert all(r.due_at is None or r.due_at <= legal for r in trail.runs), code
        assert clock.due_at(cal, received, proc.reduced_amount, proc.reduced_unit) == legal
