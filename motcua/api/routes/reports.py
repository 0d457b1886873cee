"""`GET /v1/reports/sla`: the SLA report (Biểu 06 columns, Decision 766 rates) as JSON or CSV;
`GET /v1/reports/steps`: internal-procedure steps ended early / on time / late and open overdue,
per officer or per unit (who made it late, issue 22 item 5);
`GET /v1/reports/register`: the dossier register (Sổ theo dõi hồ sơ) as a printable page, CSV or
JSON. All for the roles `leader` and `ops`; a unit-scoped token sees only its unit."""

from __future__ import annotations

import io
from datetime import date, datetime, tzinfo
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from motcua import exports
from motcua.access.permissions import check_unit_allowed
from motcua.access.privacy import REDACTED, sees_personal_data
from motcua.access.tokens import Principal
from motcua.api import problems
from motcua.api.auth import require
from motcua.api.headers import document_headers
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.documents.render import render_register
from motcua.documents.timefmt import vn_date
from motcua.problems import invalid_input, unavailable
from motcua.reports import register
from motcua.reports import sla as reports
from motcua.reports import steps as step_reports
from motcua.services.checks import check_known
from motcua.services.text import FIRST_DAY, LAST_DAY, Short

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
    # Decision 766 group 4 (issue 26; definition "qd766-4"): dossiers received in the period.
    electronic_results: int = Field(description="With a signed electronic result (4.1)")
    digitised_components: int = Field(description="With a component on file (4.2)")
    digitised_reused: int = Field(description="With a component reused (4.3)")
    digitised_national_store: int = Field(
        description="With a component from the national data store (4.4)")
    electronic_result_rate: float | None = Field(description="Decision 766 index 4.1, 0..1")
    digitised_rate: float | None = Field(description="Decision 766 index 4.2 part (1), 0..1")
    reuse_rate: float | None = Field(description="Decision 766 index 4.3, 0..1")
    national_store_rate: float | None = Field(description="Decision 766 index 4.4, 0..1")


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
    _check_period(period_from, period_to)
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
    await check_known(pool, resources.catalog, unit=unit,
                      procedures=[procedure] if procedure else [])
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


class StepsRow(BaseModel):
    """The step runs of one officer in one unit, of one unit, or the totals."""

    unit_code: str | None = Field(examples=["000.21.39.H39"],
                                  description="The unit answering for the steps.")
    officer: str | None = Field(examples=["officer-1"], description="The person who held the "
                                "runs (grouped by officer); null: handed to nobody by name.")
    role: str | None = Field(description="The step's role, for runs held by no named person.")
    ended_early: int
    ended_on_time: int
    ended_late: int
    ended_untimed: int = Field(description="Runs of steps without an allowance (no verdict).")
    open_overdue: int = Field(description="Runs open at the period's end (or now) past their "
                              "own due instant.")
    ended_total: int
    late_rate: float | None = Field(description="ended_late / runs ended with a verdict, 0..1.")


class StepsReport(BaseModel):
    """Who made it late: steps judged by instant against their own due instant."""

    report: Literal["steps"]
    period: Period
    as_of: datetime = Field(description="The instant open runs are judged at.")
    filters: dict[str, str | None]
    group_by: Literal["officer", "unit"]
    definition: Definition
    rows: list[StepsRow]
    totals: StepsRow


@router.get("/steps", response_model=StepsReport, operation_id="stepsReport",
            summary="Steps report: late steps by officer and by unit",
            responses={200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
                             "description": "The report (JSON, or CSV with `format=csv`)"},
                       **problems.responses(401, 403, 422, 503)})
async def steps_report(
        principal: Annotated[Principal, Depends(require("report"))], pool: PoolDep,
        resources: ResourcesDep,
        period_from: Annotated[date, Query(alias="from", description="First day (office date).",
                                           examples=["2025-01-01"])],
        period_to: Annotated[date, Query(alias="to", description="Last day, inclusive.",
                                         examples=["2025-01-31"])],
        unit: Annotated[Short | None, Query(examples=["000.21.39.H39"])] = None,
        by: Annotated[Literal["officer", "unit"], Query(
            description="One row per `officer` (in each unit) or per `unit`.")] = "unit",
        format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Runs of internal-procedure steps ended in the period, early / on time / late by instant
    against each step's own due instant (the control slip's verdicts), and runs open past
    their due instant at the period's end (or now), per officer or per unit; a unit-scoped
    token sees its unit's steps. Definition "steps" of the report definition version."""
    _check_period(period_from, period_to)
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
        await check_known(pool, resources.catalog, unit=unit)
    try:
        report = await step_reports.steps_report(
            pool, period_start=period_from, period_end=period_to,
            unit=unit if unit is not None else principal.unit_code, group_by=by,
            tz=resources.calendar.tz)
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError) as err:
        raise unavailable("postgresql", f"the report could not be read: {type(err).__name__}"
                          ) from err
    if format == "csv":
        name = f"steps-{by}-{period_from}-{period_to}.csv"
        return Response(step_reports.to_csv(report),
                        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONResponse(report.as_dict())


# The register report covers at most this many days (one printed book per day).
MAX_REGISTER_DAYS = 366
# The machine-readable CSV's columns (snake_case, for programs; the console's files carry the
# form's Vietnamese headers: `motcua.reports.register.to_csv`).
REGISTER_COLUMNS = ("day", "seq", "dossier_code", "status", "state", "void_reason",
                    "allocated_by", "allocated_at", "received_at", "received_by",
                    "appointment_at", "due_at", "returned_at", "ended_at", "backdate_reason")
PERSONAL_COLUMNS = ("procedure_code", "procedure_name", "applicant_name", "applicant_contact")


def _check_period(period_from: date, period_to: date, longest: int | None = None) -> None:
    """422 for a day outside the supported range, `to` before `from`, or a longer period."""
    for name, day in (("from", period_from), ("to", period_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise invalid_input(name, f"must be between {FIRST_DAY} and {LAST_DAY}")
    if period_to < period_from:
        raise invalid_input("to", "must not be before from")
    if longest is not None and (period_to - period_from).days >= longest:
        raise invalid_input("to", f"the period may cover at most {longest} days")


def _iso(at: datetime | None, tz: tzinfo) -> str | None:
    return None if at is None else at.astimezone(tz).isoformat()


def _register_line(line: register.RegisterLine, tz: tzinfo, personal: bool) -> dict[str, Any]:
    """One register line as plain values (`motcua.reports.register.lines` built it)."""
    out: dict[str, Any] = {
        "day": line.day.isoformat(), "seq": line.seq, "dossier_code": line.dossier_code,
        "status": line.status, "state": line.state, "state_label": line.state_label,
        # The engine's refusal may quote what was sent (a name): free text, not for ops.
        "void_reason": (line.void_reason if personal else REDACTED)
        if line.status == "void" else None,
        "allocated_by": line.allocated_by, "allocated_at": _iso(line.entered_at, tz),
        "received_at": _iso(line.received_at, tz), "received_by": line.received_by,
        "appointment_at": _iso(line.appointment, tz), "due_at": _iso(line.due_at, tz),
        "returned_at": _iso(line.returned_at, tz), "ended_at": _iso(line.ended_at, tz),
        "backdate_reason": (line.backdate_reason if personal else REDACTED)
        if line.backdate_reason is not None else None}
    if personal:
        out |= {"procedure_code": line.procedure_code, "procedure_name": line.procedure_name,
                "applicant_name": line.applicant_name,
                "applicant_contact": line.applicant_contact}
    return out


def _register_csv(lines: list[dict[str, Any]], personal: bool) -> str:
    out = io.StringIO()
    columns = REGISTER_COLUMNS + (PERSONAL_COLUMNS if personal else ())
    writer = exports.csv_writer(out)
    writer.writerow(columns)
    for line in lines:
        writer.writerow(["" if line.get(c) is None else line[c] for c in columns])
    return out.getvalue()


@router.get("/register", operation_id="registerReport",
            summary="Dossier register (Sổ theo dõi hồ sơ): printable page, CSV or JSON",
            responses={200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                                         "text/html": {"schema": {"type": "string"}}},
                             "description": "The register lines by day and number (JSON; "
                                            "`format=csv` or `format=html` for a printable "
                                            "page)"},
                       **problems.responses(401, 403, 422, 503)})
async def register_report(
        principal: Annotated[Principal, Depends(require("report"))], pool: PoolDep,
        resources: ResourcesDep,
        period_from: Annotated[date, Query(alias="from", description="First day (office date).",
                                           examples=["2025-01-01"])],
        period_to: Annotated[date, Query(alias="to", description="Last day, inclusive.",
                                         examples=["2025-01-31"])],
        unit: Annotated[Short | None, Query(
            description="The unit; default: the token's unit (required without one).",
            examples=["000.21.39.H39"])] = None,
        format: Annotated[Literal["json", "csv", "html"], Query()] = "json",
) -> Any:
    """Every daily number the unit handed out, by day and number: number, dossier code, status
    (received; void, struck through, with the reason; allocated and not confirmed yet), who
    took the dossier in and when. The procedure and applicant name only for roles that may see
    personal data (each dossier shown with them is recorded as a read)."""
    _check_period(period_from, period_to, MAX_REGISTER_DAYS)
    if unit is None:
        unit = principal.unit_code
    if unit is None:
        raise invalid_input("unit", "required for a token not limited to a unit")
    check_unit_allowed(principal, unit, "unit")
    await check_known(pool, resources.catalog, unit=unit)
    personal = sees_personal_data(principal)
    tz = resources.calendar.tz
    try:
        found = await register.book(pool, unit, period_from, period_to,
                                    catalog=resources.catalog)
        if personal:
            await register.record_reads(pool, principal, found, "report:register")
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError) as err:
        raise unavailable("postgresql", f"the register could not be read: {type(err).__name__}"
                          ) from err
    lines = [_register_line(line, tz, personal) for line in found]
    name = f"register-{unit}-{period_from}-{period_to}"
    if format == "csv":
        return Response(_register_csv(lines, personal),
                        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "html":
        unit_name = resources.catalog.units[unit].name if unit in resources.catalog.units \
            else unit
        return HTMLResponse(render_register(register.page_context(
            found, personal=personal, tz=tz, unit_name=unit_name, first=period_from,
            last=period_to, issued=vn_date(datetime.now(tz)))), headers=document_headers())
    return JSONResponse({"report": "register", "unit_code": unit,
                         "period": {"from": period_from.isoformat(),
                                    "to": period_to.isoformat()},
                         "personal_data": personal, "lines": lines})
