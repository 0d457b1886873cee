"""Builds the office `Calendar` from the `holidays` package plus operator overrides (I/O side).

The `holidays` package (country VN) knows Vietnam's public holidays, lunar Tết and Hùng Kings
included, observed days and announced swaps, and lists the make-up working Saturdays in
`weekend_workdays`. Announcements newer than the pinned package version come from an operator
overrides YAML file (default: `motcua/data/calendar_overrides.yaml`), whose format is
documented in that file's header:

    years:
      2027:
        days_off:
          - {date: 2027-02-05, source: "Thông báo .../TB-BNV", note: "Tết, nghỉ bù"}
        working_days:
          - {date: 2027-02-20, source: "Thông báo .../TB-BNV", note: "làm bù"}

Overrides win over the package. `version` is a short sha256 over every input (holiday dates,
working days, the overrides with their sources, office hours, years, package version), so a
deadline records exactly which calendar produced it, and any change yields a new version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, time, tzinfo
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

from domain.calendar import Calendar, OfficeHours

ENTRY_KEYS = {"date", "source", "note"}
KINDS = ("days_off", "working_days")


class CalendarOverridesError(ValueError):
    """The overrides file is malformed; the message names the file and the bad entry."""


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date is reported with its entry
    (PyYAML would raise a bare ValueError for 2025-13-02 while parsing)."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def default_overrides_path() -> Path:
    """The overrides file shipped with motcua."""
    return Path(str(resources.files("motcua") / "data" / "calendar_overrides.yaml"))


def _entry(where: str, raw: object, year: int) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise CalendarOverridesError(f"{where}: expected a mapping with date and source")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise CalendarOverridesError(f"{where}: unknown key(s) {names}")
    day = raw.get("date")
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            raise CalendarOverridesError(f"{where}: date {day!r} is not YYYY-MM-DD") from None
    if not isinstance(day, date):
        raise CalendarOverridesError(f"{where}: date is missing or not YYYY-MM-DD")
    if day.year != year:
        raise CalendarOverridesError(f"{where}: date {day} is not in year {year}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CalendarOverridesError(f"{where}: source is required (announcement number or URL)")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise CalendarOverridesError(f"{where}: note must be text")
    return {"date": day.isoformat(), "source": source.strip(), "note": note.strip()}


def read_overrides(path: Path, first_year: int, last_year: int) -> dict[str, list[dict[str, str]]]:
    """Validated overrides: {"days_off": [...], "working_days": [...]}, sorted by date."""
    name = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader)
    except OSError as exc:
        raise CalendarOverridesError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CalendarOverridesError(f"{name}: not valid YAML: {exc}") from None
    out: dict[str, list[dict[str, str]]] = {kind: [] for kind in KINDS}
    if data is None:
        return out
    if not isinstance(data, dict) or set(data) - {"years"}:
        raise CalendarOverridesError(f"{name}: top level must be a mapping with a 'years' key")
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise CalendarOverridesError(f"{name}: 'years' must map a year to its entries")
    for year, body in years.items():
        if isinstance(year, bool) or not isinstance(year, int):
            raise CalendarOverridesError(f"{name}: year {year!r} must be a number like 2026")
        if not first_year <= year <= last_year:
            raise CalendarOverridesError(
                f"{name}: year {year} is outside the calendar's years {first_year}-{last_year}")
        body = body or {}
        if not isinstance(body, dict) or set(body) - set(KINDS):
            raise CalendarOverridesError(f"{name}: year {year} may only have {' and '.join(KINDS)}")
        for kind in KINDS:
            entries = body.get(kind) or []
            if not isinstance(entries, list):
                raise CalendarOverridesError(f"{name}: {year}.{kind} must be a list")
            for i, raw in enumerate(entries, start=1):
                out[kind].append(_entry(f"{name}: {year}.{kind} entry {i}", raw, year))
    for kind in KINDS:
        out[kind].sort(key=lambda e: e["date"])
    clash = {e["date"] for e in out["days_off"]} & {e["date"] for e in out["working_days"]}
    if clash:
        raise CalendarOverridesError(
            f"{name}: {min(clash)} is listed both as a day off and as a working day")
    return out


def _version(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def office_zone(name: str = OfficeHours.tz_name) -> tzinfo:
    """The `tzinfo` of an office time zone name (default: the domain's `OfficeHours.tz_name`).
    Processes take theirs from `motcua.runtime.calendar_for(settings).tz`; the default is for
    callers given none (tests, one-off tools)."""
    try:
        return ZoneInfo(name)  # built here, outside any workflow sandbox
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def load_calendar(*, overrides_path: Path | None = None, hours: OfficeHours | None = None,
                  first_year: int = 2020, last_year: int = 2035) -> Calendar:
    """The office calendar for `first_year..last_year` (holidays VN + overrides)."""
    hours = hours or OfficeHours()
    tz = office_zone(hours.tz_name)
    path = overrides_path or default_overrides_path()
    overrides = read_overrides(path, first_year, last_year)

    years = range(first_year, last_year + 1)
    vn = holidays.country_holidays("VN", years=years)
    lib_off = {d for d in vn if first_year <= d.year <= last_year}
    # weekend_workdays accumulates across instances in holidays 0.109, so filter by year.
    lib_work = {d for d in vn.weekend_workdays if first_year <= d.year <= last_year}

    op_off = {date.fromisoformat(e["date"]) for e in overrides["days_off"]}
    op_work = {date.fromisoformat(e["date"]) for e in overrides["working_days"]}
    days_off = frozenset((lib_off - op_work) | op_off)
    extra_workdays = frozenset((lib_work - op_off) | op_work)

    version = _version({
        "holidays_package": metadata.version("holidays"),
        "years": [first_year, last_year],
        "days_off": sorted(d.isoformat() for d in days_off),
        "extra_workdays": sorted(d.isoformat() for d in extra_workdays),
        "overrides": overrides,
        "hours": {
            "tz": hours.tz_name,
            "sessions": [[s.isoformat(), e.isoformat()] for s, e in hours.sessions],
            "same_day_cutoff": hours.same_day_cutoff.isoformat(),
            # Only when set, so the default calendar keeps its version.
            **({"period_end": hours.period_end.isoformat()} if hours.period_end else {}),
        },
    })
    return Calendar(days_off=days_off, extra_workdays=extra_workdays, tz=tz, hours=hours,
                    version=version, first_year=first_year, last_year=last_year)


def parse_period_end(text: str | None) -> time | None:
    """`MOTCUA_PERIOD_END`: "17:00"-style local time, or "24:00" for the Civil Code's end of
    day (art. 148(6)), read as 23:59:59.999999; empty or None: the close of office."""
    if text is None or not text.strip():
        return None
    if text.strip() in ("24:00", "24:00:00"):
        return time.max
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise CalendarOverridesError(f"period end {text!r} is not HH:MM or 24:00") from None


def parse_office_hours(text: str) -> OfficeHours:
    """`"07:30-11:30,13:30-17:00"` as office sessions (same-day cut-off kept at 15:00 when it
    falls inside them, else the close of the last session)."""
    try:
        sessions = tuple(
            (time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))
            for a, b in (part.split("-") for part in text.split(","))
        )
        default = OfficeHours().same_day_cutoff
        cutoff = default if sessions[0][0] <= default <= sessions[-1][1] else sessions[-1][1]
        return OfficeHours(sessions=sessions, same_day_cutoff=cutoff)
    except ValueError as err:
        raise CalendarOverridesError(f"office hours {text!r}: {err}") from None
