"""`GET /v1/reports/whatif`: the policy what-if for leaders (`motcua whatif --cut`), and
`GET /v1/reports/likely-late`: open dossiers forecast to finish late. Roles leader and ops; a
unit-scoped token sees only its unit. Read-only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from motcua.access.permissions import check_unit_allowed
from motcua.access.tokens import Principal
from motcua.api import problems
from motcua.api.auth import require
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.problems import TOO_MANY_REQUESTS, Problem, invalid_input, unavailable
from motcua.services.checks import check_known
from motcua.services.text import Short
from motcua.services.whatif import DB_ERRORS, Busy, run_cut
from motcua.whatif import forecast
from motcua.whatif import simulate as whatif
from motcua.whatif.render import render_csv

router = APIRouter(prefix="/v1/reports", tags=["reports"])

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
Reporter = Annotated[Principal, Depends(require("report"))]



class StepShare(BaseModel):
    """One internal-procedure step's allowance in office hours now and under the proposal
    (issue 22 item 5; `motcua.whatif.simulate.steps_under`, our reading of the rounding)."""

    name: str
    baseline_hours: int | None = Field(description="None: the step is untimed.")
    proposed_hours: int | None = Field(description="None: the step is untimed.")


class PolicyRow(BaseModel):
    """A procedure whose time the proposal changes: both clocks, and its steps' shares when
    it has an internal procedure."""

    procedure_code: str
    baseline: str
    proposed: str
    steps: list[StepShare] | None = None


class WhatIfReport(BaseModel):
    """Baseline against simulation per procedure and unit (see `definition`)."""

    report: Literal["whatif"]
    period: dict[str, str]
    as_of: date
    filters: dict[str, str | None]
    calendar_version: str
    proposed_calendar_version: str
    policy: list[PolicyRow] = Field(description="Procedures whose time changes.")
    definition: dict[str, str]
    rows: list[dict[str, Any]] = Field(description="Per procedure and unit: received, "
                                       "baseline and simulated on-time rates and counts, "
                                       "flips, slack change, recorded verdicts differing.")
    totals: dict[str, Any]
    flips: dict[str, Any]
    recorded_verdict_differs: dict[str, Any]
    skipped: dict[str, Any]
    memo: dict[str, int]


class LikelyLate(BaseModel):
    """Open dossiers with P(late) at or above the threshold, riskiest first."""

    threshold: float
    model_samples: int = Field(description="Finished dossiers the forecast learnt from.")
    taken_at: datetime | None
    items: list[dict[str, Any]]


@router.get("/whatif", response_model=WhatIfReport, operation_id="whatIfReport",
            summary="Policy what-if: replay a period under a cut",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The what-if (JSON, or CSV with `format=csv`)"},
                       **problems.responses(401, 403, 422, 429, 503)})
async def whatif_report(
        principal: Reporter, pool: PoolDep, resources: ResourcesDep,
        period_from: Annotated[date, Query(alias="from", description="First day of receipt.",
                                           examples=["2025-01-01"])],
        period_to: Annotated[date, Query(alias="to", description="Last day, inclusive.",
                                         examples=["2025-06-30"])],
        cut: Annotated[float, Query(ge=0, lt=100, description="Percent cut of the reduced "
                                    "times, rounded down to whole units.")],
        procedure: Annotated[list[Short] | None, Query(
            description="Cut (and report) only these procedures; repeat.")] = None,
        unit: Annotated[Short | None, Query(examples=["000.21.39.H39"])] = None,
        as_of: Annotated[date | None, Query(description="Report date for dossiers still in "
                                            "progress (default today).")] = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """For every dossier received in the period, the due time recomputed under the catalog in
    force (baseline) and under the cut (same counting rules, pauses and extension), judged
    against when it was completed (Biểu 06, Decision 766 index 2.1). Nothing is written."""
    for name, day in (("from", period_from), ("to", period_to), ("as_of", as_of)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise invalid_input(name, f"must be between {EARLIEST} and {LATEST}")
    if period_to < period_from:
        raise invalid_input("to", "must not be before from")
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
    await check_known(pool, resources.catalog, unit=unit, procedures=procedure or [])
    try:
        result = await run_cut(resources, pool, start=period_from, end=period_to, cut=cut,
                               procedures=procedure or [],
                               unit=unit if unit is not None else principal.unit_code,
                               as_of=as_of)
    except Busy as err:
        raise Problem(TOO_MANY_REQUESTS, "a what-if is already running in this process; "
                      "retry when it is done", headers={"Retry-After": "30"}) from err
    except whatif.WhatIfError as err:
        raise invalid_input("procedure" if "procedure" in str(err) else "from", str(err)
                            ) from err
    except DB_ERRORS as err:
        raise unavailable("postgresql", f"the what-if could not be read: {type(err).__name__}"
                          ) from err
    doc = result.as_dict()
    if format == "csv":
        return Response(render_csv(doc), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="whatif-'
                                 f'{period_from}-{period_to}.csv"'})
    return JSONResponse(jsonable_encoder(doc))


@router.get("/likely-late", response_model=LikelyLate, operation_id="likelyLate",
            summary="Open dossiers likely to finish late",
            responses=problems.responses(401, 403, 422, 503))
async def likely_late(
        principal: Reporter, pool: PoolDep, resources: ResourcesDep,
        unit: Annotated[Short | None, Query(examples=["000.21.39.H39"])] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Open dossiers whose forecast P(late) is at least 0.8, riskiest first: the empirical
    distribution of working time used by finished dossiers of the same procedure and unit
    (else procedure, else all), given the time already spent and the state. Refreshed every
    few minutes (`taken_at`)."""
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
    await check_known(pool, resources.catalog, unit=unit)
    scope = unit if unit is not None else principal.unit_code
    snap = forecast.FORECAST.snapshot
    if not snap.taken_at:
        try:
            snap = await forecast.FORECAST.refresh(pool, resources.calendar,
                                                   resources.catalog)
        except DB_ERRORS as err:
            raise unavailable("postgresql", f"the forecast could not be read: "
                              f"{type(err).__name__}") from err
    items = [i for i in snap.likely_late if scope is None or i["unit_code"] == scope][:limit]
    return JSONResponse(jsonable_encoder({
        "threshold": forecast.AT_RISK, "model_samples": snap.model_size,
        "taken_at": datetime.fromtimestamp(snap.taken_at, resources.calendar.tz),
        "items": items}))
