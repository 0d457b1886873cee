"""`GET /v1/reports/sla`: the SLA report (Biểu 06 columns, Decision 766 rates) as JSON or CSV,
for the roles `leader` and `ops`; a unit-scoped token sees only its unit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from motcua import reports
from motcua.api import problems
from motcua.api.auth import check_unit_allowed, require
from motcua.api.problems import invalid_input, unavailable
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.api.text import FIRST_DAY, LAST_DAY, Short
from motcua.api.tokens import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"])

CSV_MEDIA_TYPE = "text/csv"


class SlaRow(BaseModel):
    """Counts and rates of one group (or of the totals); see `definition` for each column."""

    unit_code: str | None = Field(examples=["000.21.39.H39"])
    procedure_code: str | None = Field(examples=[None])
    received_total: int = Field(description="online + direct_postal + carried_over")
    received_online: int
    received_direct_postal: int
    received_carried_over: int
    resolved_total: int
    resolved_early: int
    resolved_on_time: int
    resolved_late: int
    in_progress_total: int
    in_progress_within_time: int
    in_progress_overdue: int
    rated_total: int
    rated_very_satisfied: int
    rated_satisfied: int
    rated_not_satisfied: int
    on_time_rate: float | None = Field(description="Decision 766 index 2.1, 0..1")
    resolved_on_time_rate: float | None
    satisfaction_rate: float | None
    satisfaction_index: float | None


class Period(BaseModel):
    """Office dates (in the office time zone, `definition.timezone`), both inclusive."""

    from_: date = Field(alias="from")
    to: date


class Definition(BaseModel):
    """The versioned definitions the numbers follow."""

    version: str = Field(examples=[reports.DEFINITION_VERSION])
    timezone: str
    definitions: list[dict[str, str]]


class SlaReport(BaseModel):
    """An SLA report: one row per group, the totals, and the definitions used."""

    report: Literal["sla"]
    period: Period
    as_of: date = Field(description="Report date: a period not over yet is judged on it.")
    filters: dict[str, str | None]
    group_by: list[Literal["unit", "procedure"]]
    definition: Definition
    rows: list[SlaRow]
    totals: SlaRow


def _group_by(text: str | None) -> tuple[str, ...]:
    return tuple(g for g in (text or "").split(",") if g)


@router.get("/sla", response_model=SlaReport, operation_id="slaReport",
            summary="SLA report: Biểu 06 and Decision 766",
            responses={200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
                             "description": "The report (JSON, or CSV with `format=csv`)"},
                       **problems.responses(401, 403, 422, 503)})
async def sla_report(
        principal: Annotated[Principal, Depends(require("report"))], pool: PoolDep,
        resources: ResourcesDep,
        period_from: Annotated[date, Query(alias="from", description="First day (office date).",
                                           examples=["2025-01-01"])],
        period_to: Annotated[date, Query(alias="to", description="Last day, inclusive.",
                                         examples=["2025-01-31"])],
        unit: Annotated[Short | None, Query(examples=["000.21.39.H39"])] = None,
        procedure: Annotated[Short | None, Query(examples=["1.001193"])] = None,
        by: Annotated[str | None, Query(
            pattern=r"^((unit|procedure)(,(unit|procedure))?)?$",
            description="Group rows by `unit`, `procedure` or `unit,procedure`.")] = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Per unit, procedure and period: received (online, direct/postal, carried over),
    resolved (early, on time, late), in progress (within time, overdue), ratings, and the
    Decision 766 on-time and satisfaction rates, with the named, versioned definitions used.
    Read from aggregates kept by the projector (current within about a second)."""
    for name, day in (("from", period_from), ("to", period_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise invalid_input(name, f"must be between {FIRST_DAY} and {LAST_DAY}")
    if period_to < period_from:
        raise invalid_input("to", "must not be before from")
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
    try:
        report = await reports.sla_report(
            pool, period_start=period_from, period_end=period_to,
            unit=unit if unit is not None else principal.unit_code, procedure=procedure,
            group_by=_group_by(by), tz=resources.calendar.tz)
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError) as err:
        raise unavailable("postgresql", f"the report could not be read: {type(err).__name__}"
                          ) from err
    if format == "csv":
        name = f"sla-{period_from}-{period_to}.csv"
        return Response(reports.to_csv(report), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONResponse(report.as_dict())
