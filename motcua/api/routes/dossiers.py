"""`/v1/dossiers`: receive, look up one dossier (event store: always current), list (read
model: ordered by due time, keyset-paged). Receipt and lookup are `motcua.services.dossiers`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from domain.states import DossierState, SlaStatus
from motcua.access.permissions import check_unit_allowed
from motcua.access.tokens import Principal
from motcua.api import problems
from motcua.api.auth import Reader, require
from motcua.api.context import PostCtx, respond
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.services import dossiers, listing, payments
from motcua.services.requests import PortalPaymentRequest, ReceiveRequest, SubmitOnlineRequest
from motcua.services.text import Instant, Short
from motcua.services.views import CODE_EXAMPLE, DossierPage, DossierView, ReceiptView

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])

DossierCode = Annotated[str, Path(description="The dossier code printed on the receipt.",
                                  examples=[CODE_EXAMPLE])]


@router.post("", status_code=201, response_model=ReceiptView, operation_id="receiveDossier",
             summary="Receive a dossier",
             responses=problems.responses(400, 401, 403, 409, 413, 415, 422, 503))
async def receive_dossier(
        body: ReceiveRequest, ctx: PostCtx,
        principal: Annotated[Principal, Depends(require("receive"))]) -> JSONResponse:
    """Receive a dossier: allocates its code, starts its workflow and answers with the dossier
    and its due time (201), and the citizen's lookup secret (`lookup_secret`, issued here
    once: print it on the receipt). `original_received_at` imports a dossier already in
    progress."""
    return respond(await dossiers.receive(ctx.resources, ctx.caller(principal), body))


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
    return respond(await dossiers.submit_online(ctx.resources, ctx.caller(principal), body))


@router.post("/{code}/payment", response_model=DossierView, operation_id="portalPayment",
             summary="A payment the national portal reports",
             responses=problems.responses(400, 401, 403, 404, 409, 413, 415, 422, 503))
async def portal_payment(
        code: DossierCode, body: PortalPaymentRequest, ctx: PostCtx,
        principal: Annotated[Principal, Depends(require("payment-received"))]) -> JSONResponse:
    """For the portal integration (its clerk token, as for `POST /v1/dossiers/online`): the
    citizen paid the fees or taxes of a dossier waiting for them (national code 6) on the
    national portal. The dossier resumes and its due time moves by the office time waited
    (Đồng Tháp 138/2025/QĐ-UBND art. 5(3): the second appointment counts from proof of
    payment; Hà Nội 1610/QĐ-TTPVHCC). `reference`, the portal's transaction number, keys the
    payment: reported again, it answers the dossier as it is (200, `Idempotent-Replayed`)
    and records nothing twice. 409 when the dossier is not waiting for payment, 404 when
    there is no such dossier (or not in the token's unit)."""
    return respond(await payments.portal_payment(ctx.resources, ctx.caller(principal), code,
                                                 body))


@router.get("/{code}", response_model=DossierView, operation_id="getDossier",
            summary="One dossier with its timeline",
            responses=problems.responses(401, 403, 404, 503))
async def get_dossier(code: DossierCode, principal: Reader,
                      resources: ResourcesDep) -> DossierView:
    """State, national status code, due time, SLA status, assignee and the timeline of events
    (actor and time of each). Read from the event store, so it is current at once."""
    return await dossiers.view(resources, principal, code)


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
