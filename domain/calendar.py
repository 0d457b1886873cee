"""The office calendar: which days are working days, and the office hours within them.

Pure: no I/O, standard library only. `motcua.catalog.calendar.load_calendar` builds a `Calendar`
from the `holidays` package plus operator overrides; tests may build one by hand.

Time zone choice (Temporal sandbox): this module never constructs a `ZoneInfo`. Building one
reads tz database files, which the workflow sandbox forbids. The loader, which runs outside the
sandbox (worker start-up, API, CLI, activities), resolves `OfficeHours.tz_name` once and hands
the resulting `tzinfo` in as `Calendar.tz`. Inside a workflow the calendar object, passed
through the sandbox, only calls `utcoffset()` on it, which reads nothing from disk.

Coverage: a calendar knows its holidays for `first_year..last_year` only. Asking about any
other date raises `DateOutsideCalendar` rather than silently treating an unknown year as
holiday-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

ONE_DAY = timedelta(days=1)


class DateOutsideCalendar(ValueError):
    """A date outside the years the calendar knows holidays for."""


@dataclass(frozen=True, kw_only=True)
class OfficeHours:
    """Opening sessions of a working day, in local time of `tz_name`."""

    tz_name: str = "Asia/Ho_Chi_Minh"
    # Morning and afternoon sessions; the lunch break is not office time.
    sessions: tuple[tuple[time, time], ...] = (
        (time(7, 30), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    # A same-day procedure received after this time is due the next working day.
    same_day_cutoff: time = time(15, 0)
    # When a day-based period ends on its last day. None: the close of office (`closing`), our
    # practice because results are handed over in office hours; Civil Code 2015 art. 148(6)
    # ends a day at 24:00, which `time.max` (23:59:59.999999) stands for. A setting
    # (MOTCUA_PERIOD_END); see README, "Stated choices".
    period_end: time | None = None

    def __post_init__(self) -> None:
        if not self.tz_name:
            raise ValueError("tz_name must not be empty")
        if not self.sessions:
            raise ValueError("office hours need at least one session")
        previous_end: time | None = None
        for start, end in self.sessions:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("session times are local wall-clock times, without tzinfo")
            if not start < end:
                raise ValueError(f"session {start}-{end} must end after it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("sessions must be sorted and must not overlap")
            previous_end = end
        if not self.opening <= self.same_day_cutoff <= self.closing:
            raise ValueError("same_day_cutoff must lie within office hours")
        if self.period_end is not None and (
                self.period_end.tzinfo is not None or self.period_end < self.closing):
            raise ValueError("period_end must be a local time at or after the close of office")

    @property
    def opening(self) -> time:
        """Start of the first session."""
        return self.sessions[0][0]

    @property
    def closing(self) -> time:
        """End of the last session: the close of office hours, when day-based periods end."""
        return self.sessions[-1][1]

    @property
    def day_end(self) -> time:
        """When a day-based period ends on its last day (see `period_end`)."""
        return self.period_end or self.closing

    @property
    def day_length(self) -> timedelta:
        """Office time in one working day (7 h 30 min with the default sessions)."""
        day = date(2000, 1, 3)
        return sum(
            (datetime.combine(day, e) - datetime.combine(day, s) for s, e in self.sessions),
            timedelta(0),
        )


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """Working days and office hours for a range of years, with a version for audit."""

    # Public holidays, observed and swapped days off, and operator extra days off.
    days_off: frozenset[date] = field(repr=False)
    # Make-up working Saturdays/Sundays, and operator extra working days.
    extra_workdays: frozenset[date] = field(repr=False)
    # The office time zone, resolved by the loader from `hours.tz_name` (see module docstring).
    tz: tzinfo = field(repr=False)
    hours: OfficeHours = field(default_factory=OfficeHours)
    # Short hash of every input; recorded with each deadline so it can be reproduced.
    version: str
    first_year: int
    last_year: int

    def __post_init__(self) -> None:
        if self.first_year > self.last_year:
            raise ValueError("first_year must not be after last_year")
        both = self.days_off & self.extra_workdays
        if both:
            raise ValueError(f"dates both off and working: {sorted(both)[:5]}")

    # -- days ---------------------------------------------------------------------------------

    def covers(self, day: date) -> bool:
        """Whether the calendar knows the holidays of `day`'s year."""
        return self.first_year <= day.year <= self.last_year

    def check_covered(self, day: date) -> None:
        """Raise `DateOutsideCalendar` unless `day` is within the covered years."""
        if not self.covers(day):
            raise DateOutsideCalendar(
                f"{day.isoformat()} is outside the calendar's years {self.first_year}-"
                f"{self.last_year} (calendar version {self.version}); load a calendar covering it"
            )

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday except days off, plus make-up working days."""
        self.check_covered(day)
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5

    def working_day_on_or_after(self, day: date) -> date:
        """`day` itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def working_day_on_or_before(self, day: date) -> date:
        """`day` itself if it is a working day, else the previous working day."""
        while not self.is_working_day(day):
            day -= ONE_DAY
        return day

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.working_day_on_or_after(day + ONE_DAY)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        return self.working_day_on_or_before(day - ONE_DAY)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n=0: `day` or the next working day).

        Same counting as `holidays.HolidayBase.get_nth_working_day(day, n)` for n >= 0.
        """
        if n < 0:
            raise ValueError("n must be >= 0; use nth_working_day_before")
        if n == 0:
            return self.working_day_on_or_after(day)
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def nth_working_day_before(self, day: date, n: int) -> date:
        """The n-th working day strictly before `day` (n=0: `day` or the previous one)."""
        if n < 0:
            raise ValueError("n must be >= 0; use nth_working_day_after")
        if n == 0:
            return self.working_day_on_or_before(day)
        for _ in range(n):
            day = self.previous_working_day(day)
        return day

    # -- instants -----------------------------------------------------------------------------

    def local(self, instant: datetime) -> datetime:
        """`instant` expressed in the office time zone; naive datetimes are refused."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{instant.isoformat()} has no UTC offset; pass an aware datetime")
        return instant.astimezone(self.tz)

    def at(self, day: date, clock: time) -> datetime:
        """The aware instant of local wall-clock time `clock` on `day`."""
        return datetime.combine(day, clock, tzinfo=self.tz)

    def opening_at(self, day: date) -> datetime:
        """When the office opens on `day`."""
        return self.at(day, self.hours.opening)

    def closing_at(self, day: date) -> datetime:
        """The close of office hours on `day`."""
        return self.at(day, self.hours.closing)

    def period_end_at(self, day: date) -> datetime:
        """When a day-based period whose last day is `day` ends (`OfficeHours.day_end`)."""
        return self.at(day, self.hours.day_end)

    def sessions_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The office sessions of `day` as aware instants; empty on a day off."""
        if not self.is_working_day(day):
            return ()
        return tuple((self.at(day, s), self.at(day, e)) for s, e in self.hours.sessions)
