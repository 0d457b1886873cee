"""The legal clock: due times, due-soon times, paused time and timeliness.

Pure functions over a `Calendar`: aware datetimes in (any zone), aware datetimes out, expressed
in the calendar's office time zone. Naive datetimes are refused.

Counting rules, version 2 (since the Nov 2026 correction, issue 11 point 1). One principle for
every unit: **day one is the first working day after the calendar date of receipt (office time
zone), whatever the hour**; the hour of receipt never costs the citizen a whole extra day.
Each rule's texts are in `RULE_SOURCES` (shown on the receipt, the public page and the API):

* working_days, civil_code: due at the end of the N-th working day after the date of receipt.
  Civil Code 2015 art. 147(2)-(3) ("ngày đầu tiên của thời hạn không được tính mà tính từ ngày
  tiếp theo liền kề"), art. 148(1); Decree 297/2025/NĐ-CP art. 3(5) (received after 17:00 or on
  a day off: "được tính từ 08 giờ 00 ngày làm việc kế tiếp").
* working_days, same_time_of_day (a provincial practice, our reading of how to apply the same
  principle): the receipt's clock time on the N-th working day after the date of receipt; a
  receipt in the lunch break or before opening takes the next session's start that day, one
  after the close of office or on a day off takes the close of office.
* calendar_days: the last day is the date of receipt + N; a last day off rolls to the next
  working day (Civil Code art. 147(2), 148(1), 148(5)); due at the end of that day.
* months: the corresponding day of the N-th month after the date of receipt, or that month's
  last day (Civil Code art. 148(3)); a last day off rolls as above (art. 148(5)).
* working_hours: N hours of office time from the instant of receipt (Civil Code art. 147(1):
  hours run from the instant; time outside sessions is skipped, our practice).
* same_day: the end of the day of receipt; the next working day's end when received after
  15:00 ("sau 15 giờ": 15:00:00 itself is still the same day; Luật Hộ tịch 2014 art. 5(3),
  Decree 23/2015/NĐ-CP art. 7) or on a day off. The day-one rule does not apply.

"The end of the day" is the close of office (17:00), not 24:00 as Civil Code art. 148(6) says:
results are handed over in office hours (our practice; see README, "Stated choices").

Version 3 (Dec 2026, issue 23 item 8) changes only how a supplement pause moves the due time
(`pause_extension`); receipts count as in version 2. Before it, the paused office time was
added back to the minute, so a pause of seconds during office hours moved a 17:00 due time to
the next morning (07:30 + the seconds), a whole day for Biểu 06, which compares dates. Now the
paused office time is counted in whole minutes, and for a period counted in days (working days,
calendar days, months, same day) in whole working days: each full office day's worth of paused
time (`OfficeHours.day_length`, 7 h 30 min by default) moves the due date one working day, at
the same clock time; the rest, less than a working day, moves nothing. A period in working
hours adds the whole minutes back. Decision 766 item 2.1 subtracts "the supplement time"
without fixing its unit (id 70311388051); counting it in the unit of the period, rounded down,
is OUR READING: the citizen's time never makes the due date later than the office time the
dossier actually waited, and a pause wholly outside office hours moves nothing. Dossiers
received under version 2 keep adding the minutes back (their recomputations use their version).

Version 1 (before the correction) moved an after-hours or day-off receipt to the next working
day and then skipped that day too, one working day more than the law allows. Due times already
given under it stay as given: a dossier keeps the rule version of its receipt deadline
(`DeadlineSet.rule_version`), and recomputations (supplement, calendar correction) use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from domain.calendar import ONE_DAY, Calendar
from domain.catalog import CountingRule, TimeUnit, check_amount
from domain.states import Timeliness as Timeliness

ZERO = timedelta(0)


def _span(start: datetime, end: datetime) -> timedelta:
    # Subtract in UTC: aware datetimes sharing one tzinfo subtract as wall-clock times, which
    # is wrong across a DST change (none in Vietnam, but the zone is configurable).
    return end.astimezone(UTC) - start.astimezone(UTC)


def _plus(instant: datetime, delta: timedelta, cal: Calendar) -> datetime:
    return (instant.astimezone(UTC) + delta).astimezone(cal.tz)


# The counting rule in force for new receipts. 1 = before the Nov 2026 correction; 2 = day one
# after the date of receipt; 3 = v2 with supplement pauses counted in whole working days for
# day-based periods (Dec 2026, `pause_extension`).
RULE_VERSION = 3
# From this version on, pauses move day-based due times by whole working days.
PAUSE_IN_WORKING_DAYS = 3

# The texts each rule follows, by (counting rule, unit), as shown to citizens and inspectors.
_DAY_ONE = ("Bộ luật Dân sự 2015 Điều 147 khoản 2; Nghị định 297/2025/NĐ-CP Điều 3 khoản 5 "
            "(ngày thứ nhất là ngày làm việc kế tiếp ngày tiếp nhận)")
RULE_SOURCES: dict[tuple[str, str], str] = {
    ("civil_code", "working_days"):
        f"{_DAY_ONE}; Điều 148 khoản 1 (hết ngày làm việc thứ N)",
    ("same_time_of_day", "working_days"):
        f"{_DAY_ONE}; cùng giờ tiếp nhận của ngày làm việc thứ N (thông lệ cấp tỉnh, "
        "cách hiểu của motcua)",
    ("civil_code", "calendar_days"): f"{_DAY_ONE}; Điều 148 khoản 1 và 5",
    ("civil_code", "months"): f"{_DAY_ONE}; Điều 148 khoản 3 và 5",
    ("civil_code", "working_hours"):
        "Bộ luật Dân sự 2015 Điều 147 khoản 1 (tính từ thời điểm tiếp nhận; chỉ tính giờ "
        "hành chính)",
    ("civil_code", "same_day"):
        "Luật Hộ tịch 2014 Điều 5 khoản 3; Nghị định 23/2015/NĐ-CP Điều 7 (nhận sau 15 giờ: "
        "trả trong ngày làm việc tiếp theo)",
}
RULE_V1_SOURCE = ("motcua quy tắc v1 (trước đính chính 11/2026): hồ sơ nhận ngoài giờ/ngày nghỉ "
                  "được dời sang ngày làm việc kế tiếp rồi bỏ qua ngày đó; giữ nguyên cho hạn đã "
                  "hẹn")


def rule_name(rule: str, unit: str, version: int = RULE_VERSION) -> str:
    """The rule's stable name as printed, e.g. `civil_code/working_days@v2`."""
    # calendar days and months always end at the end of the day, whatever the catalog says.
    if unit not in (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_DAYS.value):
        rule = CountingRule.CIVIL_CODE.value
    return f"{CountingRule(rule).value}/{TimeUnit(unit).value}@v{version}"


def rule_source(rule: str, unit: str, version: int = RULE_VERSION) -> str:
    """The legal texts the rule follows (article and clause), or the legacy note for v1."""
    if version < 2:
        return RULE_V1_SOURCE
    if unit != TimeUnit.WORKING_DAYS.value:
        rule = CountingRule.CIVIL_CODE.value
    return RULE_SOURCES[(CountingRule(rule).value, TimeUnit(unit).value)]


def receipt_day(cal: Calendar, received_at: datetime) -> date:
    """The calendar date of receipt in the office time zone (the day not counted)."""
    return cal.local(received_at).date()


def first_counted_day(cal: Calendar, received_at: datetime) -> date:
    """Day one of a day-based period: the first working day after the date of receipt."""
    return cal.next_working_day(receipt_day(cal, received_at))


def effective_receipt_day(cal: Calendar, received_at: datetime) -> date:
    """Rule v1 only: the next working day if received after hours or on a day off."""
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


def _clock_of_receipt(cal: Calendar, local: datetime) -> time:
    """same_time_of_day: the clock time carried to the last day. Inside a session, the receipt
    time; before opening or at lunch, the next session's start that day; after the close of
    office or on a day off, the close (no office time separates it from the next opening, and
    moving to the next opening would push the due date a whole day: rule v2)."""
    for start, end in cal.sessions_on(local.date()):
        if local < end:
            return max(start, local).time()
    return cal.hours.day_end


def _add_months(day: date, months: int) -> date:
    # The corresponding day of the month `months` later, or that month's last day if it has
    # no such day (31 Jan + 1 month = 28/29 Feb), as Civil Code art. 148(3) counts months.
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_first = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_first - ONE_DAY).day))


def due_at(cal: Calendar, received_at: datetime, amount: int, unit: TimeUnit,
           rule: CountingRule = CountingRule.CIVIL_CODE, *,
           rule_version: int = RULE_VERSION) -> datetime:
    """The due instant of a dossier received at `received_at` with `amount` `unit`s to process.

    `rule_version` 1 reproduces due times given before the Nov 2026 correction (for dossiers
    received under it); new receipts use `RULE_VERSION`. Raises `ValueError` for a bad amount
    or a naive datetime, `DateOutsideCalendar` when the count leaves the calendar's years.
    """
    unit, rule = TimeUnit(unit), CountingRule(rule)
    check_amount(amount, unit)
    local = cal.local(received_at)

    if unit == TimeUnit.WORKING_HOURS:
        return add_working_time(cal, local, timedelta(hours=amount))

    if unit == TimeUnit.SAME_DAY:
        day = local.date()
        if rule_version < 2:  # v1 treated 15:00:00 itself as after the cut-off
            same_day = local < cal.at(day, cal.hours.same_day_cutoff)
        else:  # "sau 15 giờ": strictly after 15:00:00
            same_day = local <= cal.at(day, cal.hours.same_day_cutoff)
        if cal.is_working_day(day) and same_day:
            return cal.period_end_at(day)
        return cal.period_end_at(cal.next_working_day(day))

    # `same_time_of_day` is a provincial convention for working-day counts. Calendar-day and
    # month limits always end at the close of office hours (Civil Code art. 147-148): keeping a
    # clock time there breaks monotonicity wherever a last day off rolls forward (a later
    # receipt, or one more day, could fall due earlier; found by the property tests).
    if rule_version < 2:
        return _due_at_v1(cal, local, amount, unit, rule)
    day = local.date()  # the date of receipt: not counted (Civil Code art. 147(2))
    clock = (_clock_of_receipt(cal, local)
             if rule == CountingRule.SAME_TIME_OF_DAY and unit == TimeUnit.WORKING_DAYS
             else cal.hours.day_end)
    if unit == TimeUnit.WORKING_DAYS:
        return cal.at(cal.nth_working_day_after(day, amount), clock)
    if unit == TimeUnit.CALENDAR_DAYS:
        nominal = day + timedelta(days=amount)
    else:  # TimeUnit.MONTHS
        nominal = _add_months(day, amount)
    # Civil Code art. 148(5): a last day that is a day off rolls to the next working day's end.
    return cal.at(cal.working_day_on_or_after(nominal), clock)


def _due_at_v1(cal: Calendar, local: datetime, amount: int, unit: TimeUnit,
               rule: CountingRule) -> datetime:
    # Rule v1, kept only so that due times given before the correction are reproduced when a
    # supplement or calendar correction recomputes them. Do not use for new receipts.
    if rule == CountingRule.SAME_TIME_OF_DAY and unit == TimeUnit.WORKING_DAYS:
        start = next_office_instant(cal, local)
        start_day, clock = start.date(), start.time()
    else:
        start_day, clock = effective_receipt_day(cal, local), cal.hours.day_end
    if unit == TimeUnit.WORKING_DAYS:
        return cal.at(cal.nth_working_day_after(start_day, amount), clock)
    if unit == TimeUnit.CALENDAR_DAYS:
        nominal = start_day + timedelta(days=amount)
    else:
        nominal = _add_months(start_day, amount)
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


def counted_pause(cal: Calendar, paused: timedelta, unit: TimeUnit | str,
                  version: int = RULE_VERSION) -> tuple[timedelta, int]:
    """How much of `paused` office time a pause adds back, as (office time, whole working
    days): under rule v3, whole minutes, and for a day-based unit the number of whole working
    days in them (the office time is then those days' office time); before v3, the office time
    as it is (to the microsecond) and no day count."""
    if version < PAUSE_IN_WORKING_DAYS:
        return paused, 0
    minutes = timedelta(minutes=paused // timedelta(minutes=1))
    if TimeUnit(unit) == TimeUnit.WORKING_HOURS:
        return minutes, 0
    days = minutes // cal.hours.day_length
    return days * cal.hours.day_length, days


def pause_extension(cal: Calendar, due: datetime, paused: timedelta, unit: TimeUnit | str,
                    version: int = RULE_VERSION) -> datetime:
    """The due time after a pause of `paused` office time (`working_time_between`) under rule
    `version` (module doc, version 3): day-based periods move by whole working days at the same
    clock time, working-hour periods by whole minutes; before v3, by the office time itself
    (`add_working_time`)."""
    if version < PAUSE_IN_WORKING_DAYS:
        return add_working_time(cal, due, paused)
    counted, days = counted_pause(cal, paused, unit, version)
    if TimeUnit(unit) == TimeUnit.WORKING_HOURS:
        return add_working_time(cal, due, counted)
    if days == 0:
        return cal.local(due)
    local = cal.local(due)
    return cal.at(cal.nth_working_day_after(local.date(), days), local.time())


def timeliness(office: Calendar | tzinfo, finished_at: datetime, due: datetime) -> Timeliness:
    """Biểu 06's early / on time / late: the DATE `finished_at` falls on against the date of
    `due`, both in the office's time zone (`office` is the calendar, whose zone it is, or the
    zone itself). A dossier finished at 23:59 on its due date is on time; one minute past
    midnight it is late. The only place this rule is written: the decision, the documents and
    the reports all call it (Decision 766's extra rules for a dossier are `decide.timeliness_at`).
    """
    zone = office.tz if isinstance(office, Calendar) else office
    if finished_at.utcoffset() is None or due.utcoffset() is None:
        raise ValueError("timeliness needs aware datetimes (with a UTC offset)")
    finished_day, due_day = finished_at.astimezone(zone).date(), due.astimezone(zone).date()
    if finished_day < due_day:
        return Timeliness.EARLY
    if finished_day == due_day:
        return Timeliness.ON_TIME
    return Timeliness.LATE
