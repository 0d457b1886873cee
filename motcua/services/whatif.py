"""The policy what-if of a cut (issue 15) as a service: the same computation for
`GET /v1/reports/whatif` and the console's board (`/bao-cao/gia-dinh`), against the catalog in
force and the process's calendar, one at a time per process. Read-only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from motcua.services.resources import Resources
from motcua.whatif import catalogs as whatif_catalog
from motcua.whatif import simulate as whatif

DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
# A what-if over a year of a province is a minute of CPU: one at a time per process.
_RUNNING = asyncio.Lock()


class Busy(Exception):
    """Another what-if is running in this process (`run_cut` runs one at a time)."""


async def run_cut(resources: Resources, pool: asyncpg.Pool, *, start: date, end: date,
                  cut: float, procedures: Sequence[str], unit: str | None,
                  as_of: date | None = None) -> whatif.Result:
    """The what-if of a cut of `cut` percent (of `procedures`, default all) over the dossiers
    of `unit` (None: all) received in `[start, end]`, against the catalog in force and the
    process's calendar; `as_of` defaults to today in the office time zone. Shared by
    `GET /v1/reports/whatif` and the console's SLA board (`/bao-cao/gia-dinh`). One at a time
    per process (`Busy`); bad input raises `whatif.WhatIfError`; an unreachable database one
    of `DB_ERRORS`. Read-only."""
    cal = resources.calendar
    if _RUNNING.locked():
        raise Busy
    async with _RUNNING, pool.acquire() as conn:
        catalog = await whatif_catalog.in_force(conn, resources.settings, resources.catalog)
        baseline = whatif.in_force(catalog)
        proposed = whatif.cut_policy(baseline, cut, procedures)
        return await whatif.run(
            conn, start=start, end=end, calendar=cal, baseline=baseline, proposed=proposed,
            as_of=as_of or datetime.now(cal.tz).date(), unit=unit, procedures=procedures,
            verification=whatif.verification_maxima(catalog), catalog=catalog)
