"""The what-if and the forecast use the steps where they exist (issue 22 item 5), pure, on
known dates: a cut shares the new time between the steps in whole hours (largest remainder,
our reading), and an open dossier whose published steps can no longer end by its due date is
forecast late (basis `steps`, our reading). Office hours are the shipped ones (07:30-11:30,
13:30-17:00, Asia/Ho_Chi_Minh); March 2025 has no holiday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from domain.calendar import Calendar
from domain.catalog import Allowance, InternalProcedure, Step, StepRole, TimeUnit
from domain.clock import due_at
from domain.steps import scaled_hours
from motcua.catalog.calendar import load_calendar
from motcua.catalog.source import load_catalog
from motcua.whatif import forecast
from motcua.whatif.simulate import Clock, WorkdayIndex, cut_policy, describe_policy, in_force

UNIT, PROC = "000.21.39.H39", "1.004944"  # Cao Bằng 2022: 5 working days in 7 steps


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return load_calendar()


def _step(hours: int | None) -> Step:
    allowance = None if hours is None else Allowance(amount=hours,
                                                      unit=TimeUnit.WORKING_HOURS)
    return Step(name=f"{hours} h", role=StepRole.OFFICER, actor="Chuyên viên",
                allowance=allowance, untimed="" if hours else "Không tính thời gian",
                source="test")


def test_a_cut_shares_the_new_time_by_the_largest_remainder() -> None:
    """4 + 4 + 8 + 16 = 32 h cut to 22 h: exact shares 2,75 2,75 5,5 11; whole hours 2 2 5
    11 = 20, and the 2 hours left go to the largest fractions, the earlier step first."""
    steps = InternalProcedure(version="test", steps=tuple(
        _step(h) for h in (4, 4, 8, 16, None)))
    assert scaled_hours(steps, 22) == (3, 3, 5, 11, None)
    assert scaled_hours(steps, 32) == (4, 4, 8, 16, None)  # no cut: as published
    assert scaled_hours(steps, 0) == (0, 0, 0, 0, None)


def test_the_what_if_policy_shows_each_step_s_share_under_a_cut() -> None:
    """1.004944 (4 4 16 4 8 4 h and an untimed return) cut by 40 %: 5 -> 3 working days =
    24 h; exact shares 2,4 2,4 9,6 2,4 4,8 2,4, whole hours 21, the 3 left to 4,8, 9,6 and
    the first 2,4."""
    catalog = load_catalog()
    baseline = in_force(catalog)
    proposed = cut_policy(baseline, 40, [PROC])
    [row] = describe_policy(baseline, proposed, [PROC], catalog)
    assert (row["baseline"], row["proposed"]) == ("5 working_days", "3 working_days")
    assert [s["baseline_hours"] for s in row["steps"]] == [4, 4, 16, 4, 8, 4, None]
    assert [s["proposed_hours"] for s in row["steps"]] == [3, 2, 10, 2, 5, 2, None]
    # A time in calendar days cannot be divided into steps: none shown.
    odd = {PROC: Clock(10, TimeUnit.CALENDAR_DAYS)}
    [row] = describe_policy(baseline, {**baseline, **odd}, [PROC], catalog)
    assert row["steps"] == []
    # Procedures without steps are described as before.
    plain = next(c for c, p in catalog.procedures.items() if p.steps is None)
    [row] = describe_policy(baseline, cut_policy(baseline, 40, [plain]), [plain], catalog)
    assert "steps" not in row


def test_the_forecast_judges_a_stepped_dossier_on_its_steps(cal: Calendar) -> None:
    received = cal.at(date(2025, 3, 3), time(9))  # Monday
    due = due_at(cal, received, 7, TimeUnit.WORKING_DAYS)
    assert cal.local(due).date() == date(2025, 3, 12)  # Wednesday
    model = forecast.Model([(PROC, UNIT, 1.0, 100)])  # history: all just on time
    index = WorkdayIndex(cal)
    now = cal.at(date(2025, 3, 11), time(10))  # Tuesday 10:00
    step_due = cal.at(date(2025, 3, 10), time(17))  # the open step overran since Monday
    behind = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                           received_at=received, due_at=due, step_due_at=step_due,
                           steps_left_hours=16)
    # From now, 16 office hours: Tuesday 5 h, Wednesday 7,5 h, Thursday 3,5 h -> Thursday.
    assert forecast.steps_finish(cal, behind, now) == cal.at(date(2025, 3, 13), time(11))
    assert forecast.score(model, index, cal, behind, now) == forecast.Risk(1.0, "steps", 0)
    # 8 hours left end on Wednesday 10:30, the due date: the history decides.
    fits = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                         received_at=received, due_at=due, step_due_at=step_due,
                         steps_left_hours=8)
    assert forecast.steps_finish(cal, fits, now) == cal.at(date(2025, 3, 12), time(10, 30))
    assert forecast.score(model, index, cal, fits, now) == \
        forecast.Risk(0.0, "procedure_unit", 100)
    # The open step not yet due: counted from its due instant (Tuesday 16:00), not from now:
    # 1 h on Tuesday, then 4 h in the morning and 3 h after 13:30 on Wednesday.
    ahead = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                          received_at=received, due_at=due,
                          step_due_at=cal.at(date(2025, 3, 11), time(16)),
                          steps_left_hours=8)
    assert forecast.steps_finish(cal, ahead, now) == cal.at(date(2025, 3, 12), time(16, 30))
    # Without steps, or paused: as before.
    plain = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                          received_at=received, due_at=due)
    assert forecast.steps_finish(cal, plain, now) is None
    paused = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC,
                           state="awaiting_supplement", received_at=received, due_at=due,
                           paused_at=now - timedelta(hours=1), step_due_at=step_due,
                           steps_left_hours=16)
    assert forecast.steps_finish(cal, paused, now) is None


def test_the_steps_left_come_from_the_dossier_s_plan_or_the_catalog() -> None:
    from tests.notify.test_step_alert_routing import _walked

    walked = _walked(f"{UNIT}-250303-0000001", receiver=None).d
    opened = forecast.open_of(walked)
    # At step 2 (8 h, due 3 Mar 2026 11:10); step 3 is untimed: nothing left to add.
    assert opened.step_due_at == datetime.fromisoformat("2026-03-03T11:10:00+07:00")
    assert opened.steps_left_hours == 0
    catalog = load_catalog()
    assert forecast.steps_left(catalog, PROC, 0) == 4 + 16 + 4 + 8 + 4
    assert forecast.steps_left(catalog, PROC, None) is None
    assert forecast.steps_left(None, PROC, 0) is None
