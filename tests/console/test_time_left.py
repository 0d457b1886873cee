"""The queue's "time left" in working days and hours, on the real office calendar."""

from __future__ import annotations

from datetime import date, datetime, time

from motcua.config import Settings
from motcua.console.web import time_left
from motcua.runtime import calendar_for

CAL = calendar_for(Settings())
MONDAY = date(2026, 3, 9)  # a plain working week: no holiday 9-13 March 2026


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date(2026, 3, day), time(hour, minute), CAL.tz)


def test_a_whole_office_day_is_one_day() -> None:
    assert CAL.is_working_day(MONDAY)
    assert time_left(CAL, at(9, 17), at(9, 7, 30)) == ("Còn 1 ngày làm việc", "")


def test_days_hours_and_minutes_skip_the_lunch_break() -> None:
    # Mon 13:30-17:00 (3 h 30) + Tue and Wed (2 office days) = 2 days 3 h 30.
    assert time_left(CAL, at(11, 17), at(9, 13, 30)) == ("Còn 2 ngày 3 giờ 30 phút làm việc", "")
    # 11:00 -> 14:00 is 30 min before lunch and 30 after.
    assert time_left(CAL, at(9, 14), at(9, 11)) == ("Còn 1 giờ làm việc", "")


def test_overdue_counts_office_time_since_the_due_time() -> None:
    assert time_left(CAL, at(11, 17), at(12, 9, 30)) == ("Quá hạn 2 giờ làm việc", "overdue")


def test_no_due_time() -> None:
    assert time_left(CAL, None, at(9, 8)) == ("—", "")
