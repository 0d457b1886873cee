"""Process set-up shared by every entry point: the worker, the projector, the API, the CLI and
the bench build their database pool, office calendar and catalog here, from `Settings`.

The office time zone has one source: `OfficeHours.tz_name` of the calendar `calendar_for`
builds, set from `MOTCUA_OFFICE_TZ`. Code that needs office dates (dossier codes, report
dates, documents) takes the zone from that calendar (`calendar.tz`) as a parameter.
"""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
import structlog

from domain.calendar import Calendar, OfficeHours
from domain.catalog import Catalog
from motcua.catalog.calendar import load_calendar, parse_office_hours, parse_period_end
from motcua.catalog.source import CatalogError, load_catalog
from motcua.config import Settings

log = structlog.get_logger("motcua.runtime")

CONNECT_TIMEOUT = 5.0


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A pool `reset` that sends nothing: asyncpg still rolls back an open transaction and
    drops the connection's Python-side listeners before this runs."""


async def create_pool(settings: Settings, *, attempts: int = 30, delay: float = 1.0,
                      command_timeout: float = 30, reset_session: bool = True) -> asyncpg.Pool:
    """The process's one asyncpg pool, retried `attempts` times `delay` seconds apart so a
    process may start before its database (the API retries for ever, in the background).

    `reset_session=False` skips asyncpg's reset query on every release (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL: one more round trip per pool use, about 5 % of the API's CPU in
    the lifecycle profile and PostgreSQL work besides). Only for processes whose code leaves
    no session state on a pooled connection: no LISTEN, no session-level SET or advisory
    lock, no cursor outside a transaction (the API and the worker; checked by
    tests/test_runtime.py). The projector and the dispatcher LISTEN on a pooled connection
    and keep the full reset."""
    for attempt in range(attempts):
        try:
            pool: asyncpg.Pool = await asyncio.wait_for(asyncpg.create_pool(
                settings.database_url, min_size=settings.db_pool_min,
                max_size=settings.db_pool_max, timeout=CONNECT_TIMEOUT,
                command_timeout=command_timeout,
                reset=None if reset_session else _keep_session), CONNECT_TIMEOUT * 2)
            return pool
        except (OSError, asyncpg.CannotConnectNowError, TimeoutError) as err:
            error = str(err) or type(err).__name__
            if attempt + 1 == attempts:
                raise ConnectionError(f"PostgreSQL unreachable at DATABASE_URL after "
                                      f"{attempts} attempt(s): {error}") from err
            log.warning("database.unreachable", attempt=attempt + 1, error=error)
            await asyncio.sleep(delay)
    raise ValueError("attempts must be at least 1")


def office_hours(settings: Settings) -> OfficeHours:
    """The office sessions and time zone these settings describe."""
    hours = parse_office_hours(settings.office_hours) if settings.office_hours \
        else OfficeHours()
    return dataclasses.replace(hours, tz_name=settings.office_tz,
                               period_end=parse_period_end(settings.period_end))


def calendar_for(settings: Settings) -> Calendar:
    """The office calendar these settings describe (holidays, overrides, office hours and
    time zone)."""
    return load_calendar(overrides_path=settings.calendar_overrides,
                         hours=office_hours(settings))


def catalog_for(settings: Settings) -> Catalog:
    """The procedure and unit catalog these settings name (the packaged one by default)."""
    return load_catalog(settings.procedures_file, settings.units_file,
                        day_hours=settings.working_day_hours)


def unknown_unit(unit: str | None, settings: Settings) -> str | None:
    """Why `unit` cannot be used with these settings' catalog (None: it can, or no unit);
    the token and user CLIs refuse such a unit before touching the database."""
    if unit is None:
        return None
    try:
        units = catalog_for(settings).units
    except CatalogError as err:
        return f"cannot check the unit: {err}"
    return None if unit in units else f"unknown unit {unit!r} (see GET /v1/units)"
