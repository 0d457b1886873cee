"""The calendar loader: holidays VN plus validated operator overrides, with a version hash."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from domain.calendar import OfficeHours
from motcua.calendar_source import CalendarOverridesError, load_calendar


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
