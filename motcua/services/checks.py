"""Checks made before a command reaches the engine, for input that the engine
could only refuse by getting stuck: a date outside the years the office calendar covers makes
the deadline computation fail (retried for ever) instead of refusing the command.

The deadline is computed here with the same pure clock and the same calendar and catalog files
as the worker; this only validates — the worker's own computation is the one recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog, Procedure
from domain.clock import due_at, due_soon_at
from motcua.problems import invalid_input


def _outside(cal: Calendar) -> str:
    return f"outside the office calendar's years {cal.first_year}-{cal.last_year}"


def check_receipt_time(cal: Calendar, procedure: Procedure, received_at: datetime,
                       field: str) -> None:
    """422 naming `field` when the deadline from `received_at` leaves the calendar."""
    try:
        due = due_at(cal, received_at, procedure.reduced_amount, procedure.reduced_unit,
                     procedure.counting_rule)
        due_soon_at(cal, due, procedure.due_soon_working_days)
    except DateOutsideCalendar:
        raise invalid_input(field, f"its deadline falls {_outside(cal)}") from None


def check_due_time(cal: Calendar, new_due_at: datetime, field: str) -> None:
    """422 naming `field` when a new appointment is on a day the calendar does not cover."""
    day = cal.local(new_due_at).date()
    if not cal.covers(day):
        raise invalid_input(field, f"the day is {_outside(cal)}")
    # The citizen comes back for the result at the appointment, so it must be a time the
    # office is open: a working day, within a session (the lunch break is not office time).
    if not cal.is_working_day(day):
        raise invalid_input(field, f"{day.isoformat()} is not a working day")
    if not any(start <= new_due_at <= end for start, end in cal.sessions_on(day)):
        hours = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in cal.hours.sessions)
        raise invalid_input(field, f"must be within office hours ({hours}, {cal.hours.tz_name})")


async def unknown_code(conn: asyncpg.Pool, catalog: Catalog, *, unit: str | None = None,
                       procedures: Sequence[str] = ()) -> str | None:
    """"unit" or "procedure" when that filter is neither a code of the catalog nor one the
    reports have counted dossiers under (test or historical data), else None. A report filter
    is echoed into the report and its CSV or XLSX, so only real codes pass (issue 24, point 4);
    the look-up uses report_counts' unit and procedure indexes."""
    if unit is not None and unit not in catalog.units and not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM report_counts WHERE unit_code = $1)", unit):
        return "unit"
    for code in procedures:
        if code not in catalog.procedures and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM report_counts WHERE procedure_code = $1)", code):
            return "procedure"
    return None


async def check_known(conn: asyncpg.Pool, catalog: Catalog, *, unit: str | None = None,
                      procedures: Sequence[str] = ()) -> None:
    """422 naming `unit` or `procedure` for a code `unknown_code` does not know."""
    field = await unknown_code(conn, catalog, unit=unit, procedures=procedures)
    if field is not None:
        raise invalid_input(field, f"not a {field} of the catalog "
                            f"(GET /v1/catalog/{field}s)")
