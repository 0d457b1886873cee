"""Hand-checked deadlines around Vietnam's 2025-2026 holidays, swaps and office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import CountingRule, TimeUnit
from domain.clock import (
    RULE_VERSION,
    Timeliness,
    add_working_time,
    due_at,
    due_soon_at,
    effective_receipt_day,
    first_counted_day,
    rule_name,
    rule_source,
    timeliness,
    working_time_between,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WD, CD, WH, SD, MO = (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS, TimeUnit.WORKING_HOURS,
                      TimeUnit.SAME_DAY, TimeUnit.MONTHS)
SAME_TIME = CountingRule.SAME_TIME_OF_DAY


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in Hà Nội local time."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@pytest.mark.parametrize(("received", "amount", "unit", "expected"), [
    # Tết 2025: Mon 27 Jan - Sat 1 Feb off; work resumes Mon 3 Feb.
    (vn(2025, 1, 24, 10, 0), 3, WD, vn(2025, 2, 5, 17, 0)),
    (vn(2025, 1, 23, 16, 0), 1, WD, vn(2025, 1, 24, 17, 0)),
    (vn(2025, 1, 23, 16, 0), 2, WD, vn(2025, 2, 3, 17, 0)),
    # Online during Tết: day one is Mon 3 Feb. (Pinned as 4 Feb before the Nov 2026
    # correction: that test was wrong, the receipt day was skipped twice.)
    (vn(2025, 1, 29, 9, 0), 1, WD, vn(2025, 2, 3, 17, 0)),
    # Tết 2026: Mon 16 - Fri 20 Feb off.
    (vn(2026, 2, 13, 14, 0), 1, WD, vn(2026, 2, 23, 17, 0)),
    # Make-up working Saturday 26 Apr 2025 (for the Fri 2 May swap).
    (vn(2025, 4, 25, 10, 0), 1, WD, vn(2025, 4, 26, 17, 0)),
    (vn(2025, 4, 26, 16, 0), 1, WD, vn(2025, 4, 28, 17, 0)),
    # 30 Apr, 1 May and swapped 2 May 2025 off, then the weekend.
    (vn(2025, 4, 29, 10, 0), 1, WD, vn(2025, 5, 5, 17, 0)),
    # National Day 1-2 Sep 2025 (Mon-Tue).
    (vn(2025, 8, 29, 11, 0), 1, WD, vn(2025, 9, 3, 17, 0)),
    # Hùng Kings 2025: Mon 7 Apr.
    (vn(2025, 4, 4, 9, 0), 1, WD, vn(2025, 4, 8, 17, 0)),
    # Hùng Kings 2026 on Sunday 26 Apr, observed Mon 27; then 30 Apr and 1 May.
    (vn(2026, 4, 24, 10, 0), 3, WD, vn(2026, 5, 4, 17, 0)),
    # 2026 swap: Sat 22 Aug worked, Mon 31 Aug off, then 1-2 Sep.
    (vn(2026, 8, 21, 10, 0), 1, WD, vn(2026, 8, 22, 17, 0)),
    (vn(2026, 8, 28, 10, 0), 1, WD, vn(2026, 9, 3, 17, 0)),
    # After office hours: day one is still the next working day. (17:00 and 17:30 were pinned
    # to Wed 5 Mar before the correction: wrong, one working day too many.)
    (vn(2025, 3, 3, 16, 59), 1, WD, vn(2025, 3, 4, 17, 0)),
    (vn(2025, 3, 3, 17, 0), 1, WD, vn(2025, 3, 4, 17, 0)),
    (vn(2025, 3, 3, 17, 30), 1, WD, vn(2025, 3, 4, 17, 0)),
    (vn(2025, 3, 3, 23, 59), 1, WD, vn(2025, 3, 4, 17, 0)),
    # Online on a Sunday evening: day one is Monday. (Pinned as Wed 12 Mar before: wrong.)
    (vn(2025, 3, 9, 20, 0), 2, WD, vn(2025, 3, 11, 17, 0)),
    # The two examples of issue 11: Saturday 28 Nov 2026 -> Wed 2 Dec (not Thu 3 Dec);
    # Sunday 27 Apr 2025 -> Tue 29 Apr (not Mon 5 May, which skipped the 30 Apr holidays).
    (vn(2026, 11, 28, 9, 0), 3, WD, vn(2026, 12, 2, 17, 0)),
    (vn(2025, 4, 27, 10, 0), 2, WD, vn(2025, 4, 29, 17, 0)),
    # Holiday eves, after hours: the holidays are skipped once, not the first working day too.
    (vn(2025, 4, 29, 20, 0), 1, WD, vn(2025, 5, 5, 17, 0)),    # eve of 30 Apr 2025
    (vn(2026, 2, 13, 18, 0), 1, WD, vn(2026, 2, 23, 17, 0)),   # eve of Tết 2026
    (vn(2025, 8, 29, 17, 30), 2, WD, vn(2025, 9, 4, 17, 0)),   # eve of National Day 2025
    (vn(2025, 1, 24, 17, 5), 1, WD, vn(2025, 2, 3, 17, 0)),    # eve of Tết 2025
    # Make-up Saturdays: a working day, so receipt on it is counted like any working day.
    (vn(2025, 4, 25, 17, 30), 1, WD, vn(2025, 4, 26, 17, 0)),  # Friday night -> the Saturday
    (vn(2025, 4, 26, 18, 0), 1, WD, vn(2025, 4, 28, 17, 0)),   # the Saturday, after hours
    (vn(2026, 8, 22, 9, 0), 1, WD, vn(2026, 8, 24, 17, 0)),    # make-up Saturday 2026
    # 24 Nov 2026 (Culture Day) is a working day: the shipped override follows Labour Code
    # 2019 art. 112(1) until an amendment is found (issue 11 point 10).
    (vn(2026, 11, 23, 10, 0), 1, WD, vn(2026, 11, 24, 17, 0)),
    (vn(2026, 11, 20, 18, 0), 3, WD, vn(2026, 11, 25, 17, 0)),
    # Weekend receipt with 5 working days.
    (vn(2025, 11, 30, 10, 0), 5, WD, vn(2025, 12, 5, 17, 0)),
    # Calendar days: last day in Tết rolls to the next working day (Civil Code art. 148(5)).
    (vn(2025, 1, 20, 10, 0), 10, CD, vn(2025, 2, 3, 17, 0)),
    (vn(2025, 1, 20, 10, 0), 15, CD, vn(2025, 2, 4, 17, 0)),
    # Calendar days count from the date of receipt, whatever the hour or day.
    (vn(2025, 3, 3, 18, 0), 10, CD, vn(2025, 3, 13, 17, 0)),
    (vn(2025, 3, 8, 10, 0), 3, CD, vn(2025, 3, 11, 17, 0)),    # Saturday
    (vn(2025, 3, 9, 10, 0), 7, CD, vn(2025, 3, 17, 17, 0)),    # Sunday; 16 Mar is a Sunday
    # Months: 15 Jun 2025 is a Sunday; 31 Mar + 1 month = 30 Apr (holiday) -> Mon 5 May.
    (vn(2025, 5, 15, 10, 0), 1, MO, vn(2025, 6, 16, 17, 0)),
    (vn(2025, 3, 31, 10, 0), 1, MO, vn(2025, 5, 5, 17, 0)),
    # Months after hours: 31 Jan 2025 (Friday) 17:30 + 1 month = 28 Feb (not 3 Mar).
    (vn(2025, 1, 31, 17, 30), 1, MO, vn(2025, 2, 28, 17, 0)),
])
def test_civil_code_due_at(cal: Calendar, received: datetime, amount: int, unit: TimeUnit,
                           expected: datetime) -> None:
    """Day one is the first working day after the date of receipt; due at 17:00."""
    assert due_at(cal, received, amount, unit) == expected


@pytest.mark.parametrize(("received", "amount", "unit", "expected"), [
    # The values pinned before the Nov 2026 correction: rule v1 keeps them for dossiers whose
    # receipt deadline was given under it (the receipt is a promise).
    (vn(2025, 1, 29, 9, 0), 1, WD, vn(2025, 2, 4, 17, 0)),
    (vn(2025, 3, 3, 17, 0), 1, WD, vn(2025, 3, 5, 17, 0)),
    (vn(2025, 3, 9, 20, 0), 2, WD, vn(2025, 3, 12, 17, 0)),
    (vn(2026, 11, 28, 9, 0), 3, WD, vn(2026, 12, 3, 17, 0)),
    (vn(2025, 4, 27, 10, 0), 2, WD, vn(2025, 5, 5, 17, 0)),
    (vn(2025, 1, 31, 17, 30), 1, MO, vn(2025, 3, 3, 17, 0)),
    (vn(2025, 4, 29, 15, 0), 1, SD, vn(2025, 5, 5, 17, 0)),
])
def test_rule_v1_reproduces_due_times_already_given(cal: Calendar, received: datetime,
                                                    amount: int, unit: TimeUnit,
                                                    expected: datetime) -> None:
    """Rule v1 (before the correction) gives the due times already printed on receipts."""
    assert due_at(cal, received, amount, unit, rule_version=1) == expected


@pytest.mark.parametrize(("received", "expected"), [
    (vn(2025, 4, 29, 14, 59), vn(2025, 4, 29, 17, 0)),
    # "Sau 15 giờ" means after 15:00: 15:00:00 exactly is still the same day. (Pinned as
    # Mon 5 May before the correction: wrong.)
    (vn(2025, 4, 29, 15, 0), vn(2025, 4, 29, 17, 0)),
    (datetime(2025, 4, 29, 15, 0, 1, tzinfo=VN), vn(2025, 5, 5, 17, 0)),  # then 30 Apr-4 May off
    (vn(2026, 2, 13, 15, 30), vn(2026, 2, 23, 17, 0)),  # Friday before Tết 2026
    (vn(2025, 3, 9, 10, 0), vn(2025, 3, 10, 17, 0)),    # Sunday
    (vn(2025, 4, 26, 9, 0), vn(2025, 4, 26, 17, 0)),    # make-up Saturday is a working day
    (vn(2025, 3, 3, 6, 45), vn(2025, 3, 3, 17, 0)),     # online before opening
    (vn(2025, 3, 3, 19, 0), vn(2025, 3, 4, 17, 0)),     # after hours
])
def test_same_day(cal: Calendar, received: datetime, expected: datetime) -> None:
    """Same-day results are due at 17:00, or the next working day's 17:00 after 15:00."""
    assert due_at(cal, received, 1, SD) == expected


@pytest.mark.parametrize(("received", "hours", "expected"), [
    (vn(2025, 3, 3, 10, 30), 2, vn(2025, 3, 3, 14, 30)),   # across lunch
    (vn(2025, 3, 3, 12, 0), 1, vn(2025, 3, 3, 14, 30)),    # received during lunch
    (vn(2025, 3, 3, 16, 0), 3, vn(2025, 3, 4, 9, 30)),     # across the night
    (vn(2025, 3, 3, 10, 0), 1, vn(2025, 3, 3, 11, 0)),
    (vn(2025, 3, 3, 10, 30), 1, vn(2025, 3, 3, 11, 30)),   # ends exactly at the break
    (vn(2025, 4, 25, 16, 30), 8, vn(2025, 4, 26, 17, 0)),  # into the make-up Saturday
    (vn(2025, 1, 24, 16, 0), 2, vn(2025, 2, 3, 8, 30)),    # across Tết 2025
])
def test_working_hours(cal: Calendar, received: datetime, hours: int,
                       expected: datetime) -> None:
    """Working hours count only time inside office sessions."""
    assert due_at(cal, received, hours, WH) == expected


@pytest.mark.parametrize(("received", "amount", "expected"), [
    (vn(2025, 1, 23, 10, 15), 2, vn(2025, 2, 3, 10, 15)),
    # After hours: the close of office on day N after the date of receipt. (Pinned as Wed 5 Mar
    # 07:30 before the correction: wrong, a whole date later.)
    (vn(2025, 3, 3, 18, 0), 1, vn(2025, 3, 4, 17, 0)),
    (vn(2025, 3, 3, 12, 0), 1, vn(2025, 3, 4, 13, 30)),  # lunch: from the afternoon session
    (vn(2025, 3, 3, 6, 0), 1, vn(2025, 3, 4, 7, 30)),    # before opening: from the opening
    (vn(2025, 3, 9, 10, 0), 1, vn(2025, 3, 10, 17, 0)),  # Sunday: day one is Monday
    (vn(2025, 4, 26, 10, 0), 1, vn(2025, 4, 28, 10, 0)),  # make-up Saturday, in session
])
def test_same_time_of_day_rule(cal: Calendar, received: datetime, amount: int,
                               expected: datetime) -> None:
    """The same_time_of_day rule keeps the receipt clock time N working days later."""
    assert due_at(cal, received, amount, WD, SAME_TIME) == expected


def test_instants_in_other_zones_are_converted(cal: Calendar) -> None:
    """A UTC receipt is read in office time and the due time comes back at +07:00."""
    due = due_at(cal, datetime(2025, 3, 3, 3, 0, tzinfo=UTC), 1, WD)
    assert due == vn(2025, 3, 4, 17, 0)
    assert due.utcoffset() == timedelta(hours=7)


def test_first_counted_day(cal: Calendar) -> None:
    """Day one is the first working day after the date of receipt, whatever the hour."""
    assert first_counted_day(cal, vn(2025, 1, 29, 9, 0)) == date(2025, 2, 3)   # in Tết
    assert first_counted_day(cal, vn(2025, 4, 26, 9, 0)) == date(2025, 4, 28)  # make-up Sat
    assert first_counted_day(cal, vn(2025, 3, 7, 17, 5)) == date(2025, 3, 10)  # Friday night
    assert first_counted_day(cal, vn(2025, 3, 7, 9, 0)) == date(2025, 3, 10)   # Friday morning
    # Rule v1 only: the old "effective receipt day" (next working day after hours / off).
    assert effective_receipt_day(cal, vn(2025, 3, 7, 17, 5)) == date(2025, 3, 10)


def test_rule_names_and_sources(cal: Calendar) -> None:
    """Every rule names its text; v1 says plainly that it is the superseded rule."""
    assert rule_name("civil_code", "working_days") == "civil_code/working_days@v3"
    assert rule_name("same_time_of_day", "calendar_days") == "civil_code/calendar_days@v3"
    assert "Điều 147 khoản 2" in rule_source("civil_code", "working_days")
    assert "297/2025/NĐ-CP Điều 3 khoản 5" in rule_source("civil_code", "working_days")
    assert "Điều 148 khoản 3" in rule_source("civil_code", "months")
    assert "Điều 147 khoản 1" in rule_source("civil_code", "working_hours")
    assert "15 giờ" in rule_source("civil_code", "same_day")
    assert "cách hiểu của motcua" in rule_source("same_time_of_day", "working_days")
    assert "v1" in rule_source("civil_code", "working_days", 1)
    assert "Điều 147 khoản 2" in rule_source("civil_code", "working_days", 2)
    assert RULE_VERSION == 3  # v3: pauses in whole working days (issue 23 item 8)


@pytest.mark.parametrize(("due", "expected"), [
    (vn(2025, 2, 5, 17, 0), vn(2025, 2, 4, 17, 0)),
    (vn(2025, 2, 3, 17, 0), vn(2025, 1, 24, 17, 0)),   # skips Tết
    (vn(2025, 5, 5, 17, 0), vn(2025, 4, 29, 17, 0)),   # skips 30 Apr - 4 May
    (vn(2025, 4, 28, 17, 0), vn(2025, 4, 26, 17, 0)),  # the make-up Saturday counts
    (vn(2025, 3, 7, 9, 30), vn(2025, 3, 6, 9, 30)),    # keeps the clock time
])
def test_due_soon_one_working_day_before(cal: Calendar, due: datetime,
                                         expected: datetime) -> None:
    """Due-soon (last moment for the apology) is the same time one working day earlier."""
    assert due_soon_at(cal, due) == expected


def test_due_soon_zero_days_is_the_due_time(cal: Calendar) -> None:
    """With zero working days' notice the warning coincides with the due time."""
    assert due_soon_at(cal, vn(2025, 2, 5, 17, 0), 0) == vn(2025, 2, 5, 17, 0)


def test_pause_adds_back_office_time(cal: Calendar) -> None:
    """Waiting for a supplement adds back only the office time waited, across holidays."""
    assert working_time_between(cal, vn(2025, 3, 3, 16, 0), vn(2025, 3, 4, 9, 0)) == \
        timedelta(hours=2, minutes=30)
    waited = working_time_between(cal, vn(2025, 1, 24, 16, 0), vn(2025, 2, 3, 8, 0))
    assert waited == timedelta(hours=1, minutes=30)
    assert add_working_time(cal, vn(2025, 2, 5, 17, 0), waited) == vn(2025, 2, 6, 9, 0)
    assert working_time_between(cal, vn(2025, 3, 4), vn(2025, 3, 3)) == timedelta(0)


def test_add_working_time_from_outside_hours(cal: Calendar) -> None:
    """Office time added from a night or holiday instant starts at the next opening."""
    assert add_working_time(cal, vn(2025, 4, 30, 12, 0), timedelta(hours=1)) == \
        vn(2025, 5, 5, 8, 30)
    assert add_working_time(cal, vn(2025, 4, 30, 12, 0), timedelta(0)) == vn(2025, 4, 30, 12, 0)


@pytest.mark.parametrize(("finished", "expected"), [
    (vn(2025, 2, 4, 16, 0), Timeliness.EARLY),
    (vn(2025, 2, 5, 8, 0), Timeliness.ON_TIME),
    (vn(2025, 2, 5, 23, 59), Timeliness.ON_TIME),  # later than 17:00 but the same date
    (datetime(2025, 2, 5, 18, 30, tzinfo=UTC), Timeliness.LATE),  # 6 Feb 01:30 in Hà Nội
])
def test_timeliness_compares_office_dates(cal: Calendar, finished: datetime,
                                          expected: Timeliness) -> None:
    """Biểu 06 timeliness compares dates in the office time zone, not instants."""
    assert timeliness(cal, finished, vn(2025, 2, 5, 17, 0)) == expected


def test_calendar_days_and_flags(cal: Calendar) -> None:
    """The loaded calendar knows 2025's holidays, swap and make-up Saturday."""
    assert not cal.is_working_day(date(2025, 4, 7))   # Hùng Kings
    assert not cal.is_working_day(date(2025, 5, 2))   # swapped day off
    assert cal.is_working_day(date(2025, 4, 26))      # make-up Saturday
    assert not cal.is_working_day(date(2026, 4, 27))  # Hùng Kings observed
    assert cal.nth_working_day_after(date(2025, 1, 24), 1) == date(2025, 2, 3)


def test_refuses_naive_and_out_of_range(cal: Calendar) -> None:
    """Naive datetimes, bad amounts and dates beyond the calendar's years are errors."""
    with pytest.raises(ValueError, match="no UTC offset"):
        due_at(cal, datetime(2025, 3, 3, 10, 0), 1, WD)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(DateOutsideCalendar, match="2036"):
        due_at(cal, vn(2035, 12, 30, 10, 0), 5, WD)
    with pytest.raises(ValueError, match=">= 1"):
        due_at(cal, vn(2025, 3, 3, 10, 0), 0, WD)
    with pytest.raises(ValueError, match="same_day"):
        due_at(cal, vn(2025, 3, 3, 10, 0), 2, SD)
    with pytest.raises(ValueError, match="negative"):
        add_working_time(cal, vn(2025, 3, 3, 10, 0), timedelta(hours=-1))
