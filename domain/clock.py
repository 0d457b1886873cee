"""The legal clock: due times, due-soon times, paused time and timeliness.

Pure functions over a `Calendar`: aware datetimes in (any zone), aware datetimes out, expressed
in the calendar's office time zone. Naive datetimes are refused.

Counting rules as implemented (legal notes in DOMAIN.md §1.2):

* Effective receipt: a dossier received on a day off, or at/after the close of office hours
  (17:00), counts as received on the next working day (an online dossier sent on Sunday is
  received on Monday).
* working_days, civil_code: counting starts the day after the effective receipt day; due at the
  close of office hours on the N-th working day after it.
* working_days, same_time_of_day: a receipt outside office sessions (night, lunch, day off)
  first moves to the next opening; due at that clock time N working days later.
* calendar_days: the last day is the effective receipt day + N; if it is not a working day the
  period ends on the next working day (Civil Code art. 148); due at close of office hours.
  With same_time_of_day the due time is the (moved) receipt clock time on that day instead.
* months: as calendar days, with the corresponding day of the N-th month (clamped to the
  month's last day, Civil Code art. 147).
* working_hours: N hours of office time counted from receipt (time outside sessions skipped).
* same_day: close of office hours on the day of receipt; the next working day's close when
  received at/after the 15:00 cut-off or on a day off. The counting rule does not apply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from domain.calendar import ONE_DAY, Calendar
from domain.catalog import CountingRule, TimeUnit, check_amount

ZERO = timedelta(0)


class Timeliness(StrEnum):
    """Biểu 06 classification of a finished dossier (compares dates, not instants)."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


def _span(start: datetime, end: datetime) -> timedelta:
    # Subtract in UTC: aware datetimes sharing one tzinfo subtract as wall-clock times, which
    # is wrong across a DST change (none in Vietnam, but the zone is configurable).
    return end.astimezone(UTC) - start.astimezone(UTC)


def _plus(instant: datetime, delta: timedelta, cal: Calendar) -> datetime:
    return (instant.astimezone(UTC) + delta).astimezone(cal.tz)


def effective_receipt_day(cal: Calendar, received_at: datetime) -> date:
    """The day a dossier legally counts as received (next working day if after hours/off)."""
    local = cal.local(received_at)
    day = local.date()
    if cal.is_working_day(day) and local < cal.closing_at(day):
        return day
    return cal.next_working_day(day)


def next_office_instant(cal: Calendar, instant: datetime) -> datetime:
    """`instant` if it falls inside an office session, else the start of the next session."""
    local = cal.local(instant)
    day = local.date()
    while True:
        for start, end in cal.sessions_on(day):
            if local < end:
                return max(start, local)
        day += ONE_DAY
        local = cal.at(day, cal.hours.opening)


def _add_months(day: date, months: int) -> date:
    # The corresponding day of the month `months` later, or that month's last day if it has
    # no such day (31 Jan + 1 month = 28/29 Feb), as Civil Code art. 147 counts months.
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_first = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_first - ONE_DAY).day))


def due_at(cal: Calendar, received_at: datetime, amount: int, unit: TimeUnit,
           rule: CountingRule = CountingRule.CIVIL_CODE) -> datetime:
    """The due instant of a dossier received at `received_at` with `amount` `unit`s to process.

    Raises `ValueError` for a bad amount or a naive datetime, `DateOutsideCalendar` when the
    count leaves the calendar's years.
    """
    unit, rule = TimeUnit(unit), CountingRule(rule)
    check_amount(amount, unit)
    local = cal.local(received_at)

    if unit == TimeUnit.WORKING_HOURS:
        return add_working_time(cal, local, timedelta(hours=amount))

    if unit == TimeUnit.SAME_DAY:
        day = local.date()
        if cal.is_working_day(day) and local < cal.at(day, cal.hours.same_day_cutoff):
            return cal.closing_at(day)
        return cal.closing_at(cal.next_working_day(day))

    # `same_time_of_day` is a provincial convention for working-day counts. Calendar-day and
    # month limits always end at the close of office hours (Civil Code art. 147-148): keeping a
    # clock time there breaks monotonicity wherever a last day off rolls forward (a later
    # receipt, or one more day, could fall due earlier; found by the property tests).
    if rule == CountingRule.SAME_TIME_OF_DAY and unit == TimeUnit.WORKING_DAYS:
        start = next_office_instant(cal, local)
        start_day, clock = start.date(), start.time()
    else:
        start_day, clock = effective_receipt_day(cal, local), cal.hours.closing

    if unit == TimeUnit.WORKING_DAYS:
        return cal.at(cal.nth_working_day_after(start_day, amount), clock)
    if unit == TimeUnit.CALENDAR_DAYS:
        nominal = start_day + timedelta(days=amount)
    else:  # TimeUnit.MONTHS
        nominal = _add_months(start_day, amount)
    # Civil Code art. 148: a last day that is a day off rolls to the end of the next working day.
    return cal.at(cal.working_day_on_or_after(nominal), clock)


def due_soon_at(cal: Calendar, due: datetime, working_days_before: int = 1) -> datetime:
    """The same clock time `working_days_before` working days before `due`.

    This is when the due-soon warning fires and the last moment for the apology letter
    ("chậm nhất 01 ngày trước ngày hết hạn"): for a 17:00 deadline on Thursday, Wednesday 17:00.
    """
    if working_days_before < 0:
        raise ValueError("working_days_before must be >= 0")
    local = cal.local(due)
    if working_days_before == 0:
        return local
    day = cal.nth_working_day_before(local.date(), working_days_before)
    return cal.at(day, local.time())


def working_time_between(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """Office time elapsed between two instants (zero if `end` is not after `start`).

    Used to add back the time a dossier waited for the citizen's supplement.
    """
    start, end = cal.local(start), cal.local(end)
    if end <= start:
        return ZERO
    total = ZERO
    day = start.date()
    while day <= end.date():
        for s, e in cal.sessions_on(day):
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                total += _span(lo, hi)
        day += ONE_DAY
    return total


def add_working_time(cal: Calendar, instant: datetime, duration: timedelta) -> datetime:
    """The earliest instant at which `duration` of office time has passed since `instant`.

    Never earlier than `instant`. New deadline after a pause:
    ``add_working_time(cal, old_due, working_time_between(cal, paused_at, resumed_at))``.
    """
    if duration < ZERO:
        raise ValueError("duration must not be negative")
    local = cal.local(instant)
    if duration == ZERO:
        return local
    remaining, day = duration, local.date()
    while True:
        for s, e in cal.sessions_on(day):
            if e <= local:
                continue
            lo = max(s, local)
            available = _span(lo, e)
            if remaining <= available:
                return _plus(lo, remaining, cal)
            remaining -= available
        day += ONE_DAY


def timeliness(cal: Calendar, finished_at: datetime, due: datetime) -> Timeliness:
    """Early / on time / late by comparing the office-time-zone DATES (Biểu 06)."""
    finished_day, due_day = cal.local(finished_at).date(), cal.local(due).date()
    if finished_day < due_day:
        return Timeliness.EARLY
    if finished_day == due_day:
        return Timeliness.ON_TIME
    return Timeliness.LATE
