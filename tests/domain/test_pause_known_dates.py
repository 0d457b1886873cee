"""Known dates for supplement pauses (issue 23 item 8, rule v3): a pause moves a day-based due
time by the whole working days of office time the dossier waited, at the same clock time, and a
working-hour due time by the whole minutes; a pause of seconds or minutes, or one wholly
outside office hours, moves nothing. Dec 2026: Mon 14, Tue 15, Wed 16, Thu 17, Fri 18,
weekend 19-20, Mon 21, Tue 22, Wed 23, Thu 24; 1 Jan 2027 is a holiday (Fri)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import Calendar
from domain.catalog import TimeUnit
from domain.clock import (
    RULE_VERSION,
    counted_pause,
    due_at,
    pause_extension,
    working_time_between,
)
from domain.contracts import DeadlineRequest, Pause
from domain.deadlines import compute
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = TimeUnit.WORKING_DAYS


def vn(month: int, day: int, hour: int, minute: int = 0, second: int = 0,
       year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


def moved(cal: Calendar, due: datetime, start: datetime, end: datetime,
          unit: TimeUnit = DAYS) -> datetime:
    return pause_extension(cal, due, working_time_between(cal, start, end), unit)


@pytest.mark.parametrize(("start", "end"), [
    (vn(12, 15, 9, 0), vn(12, 15, 9, 1)),            # one minute, during office hours
    (vn(12, 15, 9, 0), vn(12, 15, 9, 0, 40)),        # 40 seconds ("0 phút")
    (vn(12, 16, 16, 59), vn(12, 16, 17, 0)),         # the last minute before the due time
    (vn(12, 15, 8, 0), vn(12, 15, 15, 0)),           # 5 h 30 of office time: under a day
])
def test_a_short_pause_moves_nothing(cal: Calendar, start: datetime, end: datetime) -> None:
    """The reported case: due 17:00 Wed 16/12, a supplement asked and brought back a minute
    apart (or less) stays due 17:00 16/12, not 07:30 17/12."""
    due = vn(12, 16, 17, 0)
    assert moved(cal, due, start, end) == due
    _, days = counted_pause(cal, working_time_between(cal, start, end), DAYS)
    assert days == 0


def test_rule_v2_still_adds_the_minutes_back(cal: Calendar) -> None:
    """Dossiers received under v2 keep their rule: a minute past 17:00 is 07:31 next day."""
    due = vn(12, 16, 17, 0)
    paused = working_time_between(cal, vn(12, 15, 9, 0), vn(12, 15, 9, 1))
    assert pause_extension(cal, due, paused, DAYS, version=2) == vn(12, 17, 7, 31)


@pytest.mark.parametrize(("start", "end"), [
    (vn(12, 15, 17, 30), vn(12, 15, 20, 0)),        # an evening
    (vn(12, 15, 11, 40), vn(12, 15, 13, 20)),       # the lunch break
    (vn(12, 19, 9, 0), vn(12, 20, 16, 0)),          # Saturday to Sunday
    (vn(12, 15, 17, 0), vn(12, 16, 7, 30)),         # close of office to opening
    (vn(12, 31, 17, 5), vn(1, 1, 16, 0, year=2027)),  # New Year's Eve evening to the holiday
])
def test_a_pause_wholly_outside_office_hours_moves_nothing(
        cal: Calendar, start: datetime, end: datetime) -> None:
    """No office time passed, so neither a day-based nor an hour-based due time moves."""
    due = vn(12, 23, 17, 0)
    assert working_time_between(cal, start, end) == timedelta(0)
    assert moved(cal, due, start, end) == due
    assert moved(cal, due, start, end, TimeUnit.WORKING_HOURS) == due


def test_across_a_night(cal: Calendar) -> None:
    """Mon 14:00 to Tue 14:00 is 7 h 30 of office time, one working day: due Wed 16/12 17:00
    moves to Thu 17/12 17:00. Mon 16:00 to Tue 09:00 is 2 h 30: nothing moves."""
    due = vn(12, 16, 17, 0)
    assert working_time_between(cal, vn(12, 14, 14), vn(12, 15, 14)) == timedelta(hours=7.5)
    assert moved(cal, due, vn(12, 14, 14), vn(12, 15, 14)) == vn(12, 17, 17, 0)
    assert moved(cal, due, vn(12, 14, 16), vn(12, 15, 9)) == due
    # One minute short of a working day: still nothing.
    assert moved(cal, due, vn(12, 14, 14, 1), vn(12, 15, 14)) == due


def test_across_a_weekend(cal: Calendar) -> None:
    """Fri 10:00 to Mon 10:00 is one working day of office time (the weekend is not office
    time): due Wed 23/12 17:00 moves to Thu 24/12; to Tue 10:00 two days, Fri 25/12."""
    due = vn(12, 23, 17, 0)
    assert moved(cal, due, vn(12, 18, 10), vn(12, 21, 10)) == vn(12, 24, 17, 0)
    assert moved(cal, due, vn(12, 18, 10), vn(12, 22, 10)) == vn(12, 25, 17, 0)
    # The days added skip the weekend too: due Fri 18/12 + 1 working day = Mon 21/12.
    assert moved(cal, vn(12, 18, 17), vn(12, 14, 14), vn(12, 15, 14)) == vn(12, 21, 17, 0)


def test_working_hour_periods_count_whole_minutes(cal: Calendar) -> None:
    """A period in working hours adds the paused office time back to the minute, seconds
    dropped: 1 min 40 s adds one minute; 40 s nothing; across the close of office the rest
    runs into the next morning, as the period itself does."""
    due = vn(12, 16, 10, 0)
    hours = TimeUnit.WORKING_HOURS
    assert moved(cal, due, vn(12, 15, 9, 0), vn(12, 15, 9, 1, 40), hours) == vn(12, 16, 10, 1)
    assert moved(cal, due, vn(12, 15, 9, 0), vn(12, 15, 9, 0, 40), hours) == due
    assert moved(cal, vn(12, 16, 16, 30), vn(12, 15, 9), vn(12, 15, 10), hours) == \
        vn(12, 17, 8, 0)


def test_the_deadline_rule_and_the_slip_agree(cal: Calendar) -> None:
    """Through the worker's rule (`compute`, rule v3 for a new receipt): a one-minute pause
    gives the receipt's due time back, so the slip's appointment and due time are one; a
    pause of a working day moves both due times by one working day."""
    catalog = load_catalog()
    code = next(p.code for p in catalog.procedures.values()
                if p.reduced_unit == DAYS and p.reduced_amount >= 3)
    proc = catalog.procedure(code)
    received = vn(12, 7, 9, 0)
    plain = due_at(cal, received, proc.reduced_amount, DAYS, proc.counting_rule)
    minute = compute(cal, catalog, DeadlineRequest(
        procedure_code=code, received_at=received,
        pauses=[Pause(start=vn(12, 8, 10, 0), end=vn(12, 8, 10, 1))]))
    assert minute.rule_version == RULE_VERSION == 3
    assert minute.due_at == minute.legal_due_at == plain
    day = compute(cal, catalog, DeadlineRequest(
        procedure_code=code, received_at=received,
        pauses=[Pause(start=vn(12, 8, 10, 0), end=vn(12, 9, 10, 0))]))
    assert day.due_at == cal.at(cal.nth_working_day_after(plain.date(), 1), plain.timetz())
    # Two pauses of 4 h each add up to a working day (their total is counted).
    two = compute(cal, catalog, DeadlineRequest(
        procedure_code=code, received_at=received,
        pauses=[Pause(start=vn(12, 8, 7, 30), end=vn(12, 8, 11, 30)),
                Pause(start=vn(12, 9, 13, 30), end=vn(12, 9, 17, 0))]))
    assert two.due_at == day.due_at
