"""The step activities (issue 22 item 2): which internal procedure a dossier just received
walks, and each step's due instant, worked out with the catalog and the office calendar this
worker holds (`domain.steps`).

Run as local activities, like the deadline: their results are recorded in the workflow's
history, so a dossier keeps the plan and the due instants it was given whatever catalog or
holiday table a newer worker carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import steps
from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog, UnknownProcedure
from domain.contracts import (
    PLAN_STEPS,
    STEP_DUE,
    PlanStepsRequest,
    PlanStepsResult,
    StepDueRequest,
    StepDueResult,
)


class StepActivities:
    def __init__(self, calendar: Calendar, catalog: Catalog,
                 active_catalog: Callable[[], Awaitable[Catalog]] | None = None, *,
                 carry_over: bool = False) -> None:
        self._calendar = calendar
        self._catalog = catalog
        self._active_catalog = active_catalog
        # Whether an early step's unused time passes to later steps (no rule found: a
        # setting, `MOTCUA_STEPS_CARRY_OVER`); copied into each dossier's plan at receipt.
        self._carry_over = carry_over

    @activity.defn(name=PLAN_STEPS)
    async def plan_steps(self, request: PlanStepsRequest) -> PlanStepsResult:
        """The procedure's internal procedure as the dossier's plan, or none."""
        catalog = await self._active_catalog() if self._active_catalog else self._catalog
        try:
            procedure = catalog.procedure(request.procedure_code)
        except UnknownProcedure as err:
            raise ApplicationError(str(err), type="UnknownProcedure",
                                   non_retryable=True) from err
        if procedure.steps is None:
            return PlanStepsResult()
        return PlanStepsResult(plan=steps.plan_for(procedure.steps, request.unit_code,
                                                   carry_over=self._carry_over))

    @activity.defn(name=STEP_DUE)
    async def step_due(self, request: StepDueRequest) -> StepDueResult:
        """A run's due and due-soon instants (`domain.steps.run_due`)."""
        try:
            return steps.run_due(self._calendar, request)
        except DateOutsideCalendar as err:
            raise ApplicationError(str(err), type="DateOutsideCalendar",
                                   non_retryable=True) from err
