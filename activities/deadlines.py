"""The deadline activity: the domain's deadline rule (`domain.deadlines.compute`) run with the
calendar and catalog this worker holds, its refusals turned into Temporal errors.

Run as a local activity: its result is recorded in the workflow's history, so a deadline once
given never changes on replay, whatever holiday table a newer worker carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import deadlines
from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog, NoVerificationMaximum, UnknownProcedure
from domain.contracts import COMPUTE_DEADLINE, DeadlineRequest, DeadlineResult


class DeadlineActivities:
    def __init__(self, calendar: Calendar, catalog: Catalog,
                 active_catalog: Callable[[], Awaitable[Catalog]] | None = None) -> None:
        self._calendar = calendar
        self._catalog = catalog
        # The active catalog version from PostgreSQL (motcua.catalog.store), re-read without a
        # restart; without it, the catalog given here.
        self._active_catalog = active_catalog

    @activity.defn(name=COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> DeadlineResult:
        """Due time and due-soon instant under the calendar and catalog this worker holds; a
        refusal is a non-retryable `ApplicationError` whose type the workflow hands on to the
        caller (the command is refused, nothing is stored)."""
        catalog = await self._active_catalog() if self._active_catalog else self._catalog
        try:
            return deadlines.compute(self._calendar, catalog, request)
        except UnknownProcedure as err:
            raise ApplicationError(str(err), type="UnknownProcedure",
                                   non_retryable=True) from err
        except NoVerificationMaximum as err:
            raise ApplicationError(str(err), type="NoVerificationMaximum",
                                   non_retryable=True) from err
        except DateOutsideCalendar as err:
            # Retrying cannot help: the calendar does not cover the date (refuse the command).
            raise ApplicationError(str(err), type="DateOutsideCalendar",
                                   non_retryable=True) from err
