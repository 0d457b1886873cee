"""`/v1/dossiers`: receive, look up one dossier (event store: always current), list (read
model: ordered by due time, keyset-paged)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from domain import commands as cmd
from domain.catalog import Procedure
from domain.decide import check_original_receipt
from domain.dossier import Dossier, folded
from domain.errors import InvalidCommand
from domain.states import Channel, DossierState, SlaStatus
from motcua.access.tokens import Principal
from motcua.api import engine, idempotency, listing, privacy, problems
from motcua.api.auth import Reader, check_unit_allowed, check_visible, require
from motcua.api.checks import check_receipt_time
from motcua.api.context import PostContext, PostCtx
from motcua.api.problems import INVALID_TRANSITION, Problem, invalid_input
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.api.schemas import ReceiveRequest, SubmitOnlineRequest
from motcua.api.text import Instant, Short
from motcua.api.views import (
    CODE_EXAMPLE,
    DossierPage,
    DossierView,
    RiskView,
    dossier_view,
)
from motcua.eventstore import outbox
from motcua.eventstore.store import Conn, read_stream
from motcua.reports import register
from motcua.whatif import forecast

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])

DossierCode = Annotated[str, Path(description="The dossier code printed on the receipt.",
                                  examples=[CODE_EXAMPLE])]


@router.post("", status_code=201, response_model=DossierView, operation_id="receiveDossier",
             summary="Receive a dossier",
             responses=problems.responses(400, 401, 403, 409, 413, 415, 422, 503))
async def receive_dossier(
        body: ReceiveRequest, ctx: PostCtx,
        principal: Annotated[Principal, Depends(require("receive"))]) -> JSONResponse:
    """Receive a dossier: allocates its code, starts its workflow and answers with the dossier
    and its due time (201). `original_received_at` imports a dossier already in progress."""
    now = datetime.now(UTC)
    procedure, today = _check_intake(ctx, principal, body.unit_code, body.procedure_code, now)
    if body.original_received_at is not None:
        try:
            check_original_receipt(body.original_received_at, now)
        except InvalidCommand as err:
            raise invalid_input(err.details["field"], "must not be in the future") from None
        check_receipt_time(ctx.resources.calendar, procedure, body.original_received_at,
                           "original_received_at")
    return await _start_dossier(ctx, principal, body, today, "receive", engine.receive)


def _check_intake(ctx: PostContext, principal: Principal, unit_code: str, procedure_code: str,
                  now: datetime) -> tuple[Procedure, date]:
    """The checks a receipt and an online submission share (403/422 before a code is spent):
    the unit in the caller's scope and active today, the procedure known and not retired.
    Returns the procedure and the office date `now` falls on."""
    check_unit_allowed(principal, unit_code, "unit_code")
    catalog = ctx.resources.catalog
    unit = catalog.units.get(unit_code)
    if unit is None:
        raise invalid_input("unit_code", f"unknown unit (catalog version {catalog.version})")
    today = ctx.resources.calendar.local(now).date()  # the office date, in the calendar's zone
    if not unit.is_active_on(today):
        raise invalid_input("unit_code", "the unit does not accept dossiers today")
    procedure = catalog.procedures.get(procedure_code)
    if procedure is None:
        raise invalid_input("procedure_code",
                            f"unknown procedure (catalog version {catalog.version})")
    if procedure.is_retired:  # stays resolvable for old dossiers, takes no new receipt
        raise invalid_input("procedure_code", f"retired ({procedure.retired_source}); use "
                            f"{procedure.replaced_by}")
    return procedure, today


def _is_receipt_of(dossier: Dossier, command: cmd.ReceiveDossier | cmd.SubmitOnline) -> bool:
    """Whether `dossier` is the one `command` received or submitted (a retry included)."""
    channel = command.channel if isinstance(command, cmd.ReceiveDossier) else Channel.ONLINE
    return (dossier.unit_code, dossier.procedure_code, dossier.channel,
            dossier.applicant_name) == (command.unit_code, command.procedure_code,
                                        channel, command.applicant_name)


@router.post("/online", status_code=201, response_model=DossierView,
             operation_id="submitOnline", summary="Record a citizen's online submission",
             responses=problems.responses(400, 401, 403, 409, 413, 415, 422, 503))
async def submit_online(
        body: SubmitOnlineRequest, ctx: PostCtx,
        principal: Annotated[Principal, Depends(require("receive"))]) -> JSONResponse:
    """Record an online submission from the portal (the role that may receive): allocates its
    code and starts its workflow in state `submitted` (national code 1, awaiting acceptance).
    No due time runs until the intake clerk accepts it (`POST .../accept`); the time then
    counts from the complete submission (this one, or the intake supplement that completed
    it: Decree 297/2025 art. 3(5), 6(4)(a))."""
    now = datetime.now(UTC)
    _, today = _check_intake(ctx, principal, body.unit_code, body.procedure_code, now)
    # The number is in use from now on (its line is not void); the receipt itself is made
    # when the submission is accepted.
    return await _start_dossier(ctx, principal, body, today, "submit-online",
                                engine.submit_online)


async def _start_dossier(ctx: PostContext, principal: Principal,
                         body: ReceiveRequest | SubmitOnlineRequest, today: date,
                         operation: str, start: Any) -> JSONResponse:
    """Allocate the code in the idempotency key's claim, start the workflow with `start`
    (`engine.receive` or `engine.submit_online`) and answer 201 with the dossier; a refusal
    voids the register line (the number stays, struck through)."""
    client = ctx.resources.temporal()  # 503 before a code is spent
    pool, key = ctx.pool, ctx.idempotency_key

    async def allocate(conn: Conn) -> str:  # in the key's claim: see motcua.reports.register
        return await register.allocate(conn, body.unit_code, today,
                                       allocated_by=principal.name)

    async with idempotency.attempt(pool, principal=principal.name, key=key,
                                   operation=operation, allocate=allocate,
                                   body=body.model_dump(mode="json"),
                                   keyring=ctx.keyring) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        code = attempt.dossier_code
        command = body.command(code=code, actor=principal.name,
                               correlation_id=ctx.correlation_id)
        try:
            dossier = await start(client, command, task_queue=ctx.resources.settings.task_queue)
            if not _is_receipt_of(dossier, command):
                # The code already names another dossier (its workflow ignores this command
                # and answers with itself): e.g. a sequence restored from an older backup.
                raise Problem(INVALID_TRANSITION, f"the dossier {code} was already received "
                              "with other particulars; this "
                              f"{'receipt' if operation == 'receive' else 'submission'} was "
                              "not recorded", state=dossier.state_name)
        except Problem as problem:
            if problem.kind.status in (409, 422):  # refused: the number stays, struck through
                await register.void(pool, code, problem.detail)
                await attempt.refused(problem)
            raise
        await register.received(pool, code)
        view = await privacy.shown(pool, principal, dossier_view(dossier, await read_stream(
            pool, code)), what=operation)
        return await attempt.respond(view.model_dump(mode="json"), status_code=201)


@router.get("/{code}", response_model=DossierView, operation_id="getDossier",
            summary="One dossier with its timeline",
            responses=problems.responses(401, 403, 404, 503))
async def get_dossier(code: DossierCode, principal: Reader, pool: PoolDep,
                      resources: ResourcesDep) -> DossierView:
    """State, national status code, due time, SLA status, assignee and the timeline of events
    (actor and time of each). Read from the event store, so it is current at once."""
    events = await read_stream(pool, code)  # `Reader` checked the code's unit
    if not events:
        raise engine.not_found()
    dossier = folded(events)
    check_visible(principal, dossier.unit_code)
    # Notification outcomes live in the dispatcher's table, not in the stream.
    view = dossier_view(dossier, events, deliveries=await outbox.deliveries(pool, code))
    risk = forecast.dossier_risk(resources.calendar, dossier, datetime.now(UTC))
    view.sla.risk = RiskView(**risk.as_dict()) if risk is not None else None
    return await privacy.shown(pool, principal, view, what="detail")


@router.get("", response_model=DossierPage, operation_id="listDossiers",
            summary="List dossiers by due time",
            responses=problems.responses(401, 403, 422, 503))
async def list_dossiers(
        principal: Reader, pool: PoolDep,
        state: Annotated[list[DossierState] | None, Query(
            description="Repeat for several states.")] = None,
        sla: Annotated[list[SlaStatus] | None, Query(
            description="SLA status; repeat for several.")] = None,
        unit: Annotated[Short | None, Query(examples=["000.21.39.H39"])] = None,
        procedure: Annotated[Short | None, Query(examples=["1.001193"])] = None,
        assignee: Annotated[Short | None, Query(examples=["officer-7"])] = None,
        due_before: Annotated[Instant | None, Query()] = None,
        due_after: Annotated[Instant | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = listing.DEFAULT_LIMIT,
        cursor: Annotated[Short | None, Query(
            description="`next_cursor` of the previous page.")] = None,
) -> DossierPage:
    """Dossiers ordered by due time (then code), from the read model (updated within about a
    second of each event). A unit-scoped token lists only its unit."""
    if unit is not None:
        check_unit_allowed(principal, unit, "unit")
    filters = listing.Filters(
        states=[s.value for s in state or []], sla=[s.value for s in sla or []],
        unit=unit if unit is not None else principal.unit_code, procedure=procedure,
        assignee=assignee, due_before=due_before, due_after=due_after)
    return await listing.page(pool, filters, limit=limit, cursor=cursor)
