"""The deadline activity: the working-day clock applied to a dossier's procedure.

Run as a local activity: its result is recorded in the workflow's history, so a deadline once
given never changes on replay, whatever holiday table a newer worker carries.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog, Procedure, UnknownProcedure
from domain.clock import add_working_time, due_at, due_soon_at, working_time_between
from domain.contracts import COMPUTE_DEADLINE, DeadlineRequest, DeadlineResult


class DeadlineActivities:
    def __init__(self, calendar: Calendar, catalog: Catalog) -> None:
        self._calendar = calendar
        self._catalog = catalog

    @activity.defn(name=COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> DeadlineResult:
        """Due time and due-soon instant under the calendar and catalog this worker holds."""
        return compute(self._calendar, self._catalog, request)


def compute(cal: Calendar, catalog: Catalog, request: DeadlineRequest) -> DeadlineResult:
    """Pure: the reduced time from the receipt, plus the office time of every pause."""
    try:
        proc = catalog.procedure(request.procedure_code)
        return _compute(cal, catalog, proc, request)
    except UnknownProcedure as err:
        raise ApplicationError(str(err), type="UnknownProcedure", non_retryable=True) from err
    except DateOutsideCalendar as err:
        # Retrying cannot help: the calendar does not cover the date (refuse the command).
        raise ApplicationError(str(err), type="DateOutsideCalendar", non_retryable=True) from err


def _compute(cal: Calendar, catalog: Catalog, proc: Procedure,
             request: DeadlineRequest) -> DeadlineResult:
    if request.extended_due_at is not None:
        due = request.extended_due_at
        since = request.extended_at
    else:
        due = due_at(cal, request.received_at, proc.reduced_amount, proc.reduced_unit,
                     proc.counting_rule)
        since = None
    for pause in request.pauses:
        if since is None or pause.start >= since:
            due = add_working_time(cal, due, working_time_between(cal, pause.start, pause.end))
    return DeadlineResult(
        due_at=due, due_soon_at=due_soon_at(cal, due, proc.due_soon_working_days),
        rule=proc.counting_rule.value, amount=proc.reduced_amount,
        unit=proc.reduced_unit.value, calendar_version=cal.version,
        catalog_version=catalog.version)
