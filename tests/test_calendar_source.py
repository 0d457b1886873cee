"""The calendar loader: holidays VN plus validated operator overrides, with a version hash."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import OfficeHours
from domain.catalog import TimeUnit
from domain.clock import due_at
from motcua.catalog.calendar import (
    CalendarOverridesError,
    default_overrides_path,
    load_calendar,
    parse_period_end,
    read_overrides,
)


def _overrides(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar_overrides.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_calendar_covers_2020_2035_with_make_up_saturdays() -> None:
    """The default calendar spans 2020-2035 and knows the package's make-up Saturdays."""
    cal = load_calendar()
    assert (cal.first_year, cal.last_year) == (2020, 2035)
    assert {date(2024, 5, 4), date(2025, 4, 26), date(2026, 8, 22)} <= cal.extra_workdays
    assert all(2020 <= d.year <= 2035 for d in cal.extra_workdays | cal.days_off)
    assert date(2025, 1, 29) in cal.days_off
    assert len(cal.version) == 16


def test_overrides_win_and_change_the_version(tmp_path: Path) -> None:
    """Operator days off and working days override the package and yield a new version."""
    path = _overrides(tmp_path, """
years:
  2025:
    days_off:
      - {date: 2025-03-04, source: "QĐ test", note: "closed"}
    working_days:
      - {date: 2025-04-07, source: "QĐ test"}
      - {date: 2025-03-08, source: "QĐ test", note: "make-up Saturday"}
""")
    base, cal = load_calendar(), load_calendar(overrides_path=path)
    assert not cal.is_working_day(date(2025, 3, 4))
    assert cal.is_working_day(date(2025, 4, 7))   # Hùng Kings declared a working day
    assert cal.is_working_day(date(2025, 3, 8))
    assert cal.version != base.version


def test_version_depends_on_office_hours() -> None:
    """Different office hours give a different calendar version."""
    hours = OfficeHours(sessions=((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0))))
    assert load_calendar(hours=hours).version != load_calendar().version


@pytest.mark.parametrize(("text", "fragment"), [
    ("years:\n  2025:\n    days_off:\n      - {date: 2026-01-02, source: s}\n",
     "2025.days_off entry 1: date 2026-01-02 is not in year 2025"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-01-02}\n",
     "2025.days_off entry 1: source is required"),
    ("years:\n  2025:\n    working_days:\n      - {date: 2025-13-02, source: s}\n",
     "2025.working_days entry 1: date '2025-13-02' is not YYYY-MM-DD"),
    ("years:\n  2025:\n    holidays: []\n", "year 2025 may only have days_off and working_days"),
    ("years:\n  2040:\n    days_off: []\n", "year 2040 is outside the calendar's years"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-03-04, source: s, why: x}\n",
     "unknown key(s) why"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-03-04, source: s}\n"
     "    working_days:\n      - {date: 2025-03-04, source: s}\n",
     "2025-03-04 is listed both as a day off and as a working day"),
    ("days_off: []\n", "top level must be a mapping with a 'years' key"),
])
def test_bad_overrides_name_the_entry(tmp_path: Path, text: str, fragment: str) -> None:
    """A malformed overrides file is refused with the file, year, list and entry named."""
    with pytest.raises(CalendarOverridesError) as info:
        load_calendar(overrides_path=_overrides(tmp_path, text))
    assert str(info.value).startswith("calendar_overrides.yaml: ")
    assert fragment in str(info.value)


def test_unknown_time_zone_is_refused() -> None:
    """An office time zone the tz database does not know is a clear error."""
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        load_calendar(hours=OfficeHours(tz_name="Mars/Olympus"))


def test_period_end_is_a_setting() -> None:
    """The end of a day-based period is the close of office by default (our practice) and can
    be set to the Civil Code's 24:00 (art. 148(6)); the calendar version records the choice."""
    assert parse_period_end(None) is None and parse_period_end("") is None
    assert parse_period_end("24:00") == time.max
    assert parse_period_end("17:30") == time(17, 30)
    with pytest.raises(CalendarOverridesError, match="HH:MM or 24:00"):
        parse_period_end("late")
    with pytest.raises(ValueError, match="period_end"):
        OfficeHours(period_end=time(16, 0))
    default = load_calendar()
    midnight = load_calendar(hours=OfficeHours(period_end=time.max))
    assert default.version != midnight.version
    assert load_calendar(hours=OfficeHours()).version == default.version
    received = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert due_at(default, received, 1, TimeUnit.WORKING_DAYS).time() == time(17, 0)
    due = due_at(midnight, received, 1, TimeUnit.WORKING_DAYS)
    assert (due.date().isoformat(), due.time()) == ("2025-03-04", time.max)
    assert due_at(midnight, received, 1, TimeUnit.SAME_DAY).time() == time.max


def test_culture_day_is_a_working_day_until_a_law_says_otherwise() -> None:
    """holidays 0.109 makes 24 Nov a day off from 2026 on a Party resolution; the shipped
    overrides follow Labour Code 2019 art. 112(1) and keep it (and the package's observed
    Mondays) a working day, each entry naming that source (issue 11 point 10)."""
    cal = load_calendar()
    for day in (date(2026, 11, 24), date(2027, 11, 24), date(2029, 11, 26), date(2030, 11, 25)):
        assert cal.is_working_day(day), day
    assert not cal.is_working_day(date(2029, 11, 24))  # a Saturday stays a Saturday
    assert not cal.is_working_day(date(2026, 8, 31))   # the package's 2026 swap is kept
    assert cal.is_working_day(date(2026, 8, 22))
    shipped = read_overrides(default_overrides_path(), 2020, 2035)
    assert all("Điều 112" in e["source"] for e in shipped["working_days"])
