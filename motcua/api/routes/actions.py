"""`POST /v1/dossiers/{code}/{action}`: each action is a workflow update; the answer is the
dossier after it. One route per action (so each has its own body schema in OpenAPI), all
through `perform`, which holds the rules: unit scope, idempotency, error mapping.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from motcua.api import engine, idempotency, problems
from motcua.api.auth import check_visible, require
from motcua.api.checks import check_due_time
from motcua.api.context import PostContext, PostCtx, replay
from motcua.api.problems import INVALID_TRANSITION, Problem
from motcua.api.routes.dossiers import DossierCode
from motcua.api.schemas import (
    ActionBody,
    AssignBody,
    CompleteBody,
    ExtendBody,
    RateBody,
    RefuseBody,
    RequestSupplementBody,
    ReturnBody,
    StartBody,
    StopBody,
    SupplementBody,
    WithdrawBody,
)
from motcua.api.tokens import Principal
from motcua.api.views import DossierView, dossier_view, folded
from motcua.eventstore.store import read_stream

router = APIRouter(prefix="/v1/dossiers/{code}", tags=["actions"])
_RESPONSES = problems.responses(400, 401, 403, 404, 409, 413, 415, 422, 503)


async def perform(action: str, code: str, body: ActionBody, principal: Principal,
                  ctx: PostContext) -> JSONResponse:
    """Run `action` on dossier `code` for `principal` (whose role and unit `require` checked);
    the Temporal update id is derived from the Idempotency-Key, so Temporal itself
    deduplicates a retried update."""
    client = ctx.resources.temporal()
    pool, key = ctx.pool, ctx.idempotency_key
    if key is not None:
        async def same_code() -> str:
            return code

        claim = await idempotency.claim(
            pool, principal=principal.name, key=key, operation=action,
            fingerprint=idempotency.request_hash(action, code, body.model_dump(mode="json")),
            code=same_code)
        if claim.is_replay:
            return replay(claim)
    command = body.command(actor=principal.name, correlation_id=ctx.correlation_id)
    try:
        dossier = await engine.act(client, code, action, command,
                                   update_id=f"{principal.name}:{key}" if key else None)
    except (Problem, engine.WorkflowNotFound) as err:
        refused = isinstance(err, engine.WorkflowNotFound) or err.kind.status in (409, 422)
        if key is not None and refused:
            await idempotency.release(pool, principal=principal.name, key=key)
        if isinstance(err, Problem):
            raise
        events = await read_stream(pool, code)
        if not events:
            raise engine.not_found() from None
        closed = folded(events)
        check_visible(principal, closed.unit_code)
        raise Problem(INVALID_TRANSITION, f"the dossier is {closed.state_name}; it accepts no "
                      "more commands", state=closed.state_name) from None
    view = dossier_view(dossier, await read_stream(pool, code)).model_dump(mode="json")
    if key is not None:
        await idempotency.complete(pool, principal=principal.name, key=key, status_code=200,
                                   response=view)
    return JSONResponse(view)


@router.post("/assign", response_model=DossierView, responses=_RESPONSES,
             summary="Assign or reassign an officer", operation_id="assignOfficer")
async def assign(code: DossierCode, body: AssignBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("assign"))]) -> JSONResponse:
    """Leader. Allowed while received, assigned, processing or awaiting supplement."""
    return await perform("assign", code, body, who, ctx)


@router.post("/start", response_model=DossierView, responses=_RESPONSES,
             summary="Start processing", operation_id="startProcessing")
async def start(code: DossierCode, body: StartBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("start"))]) -> JSONResponse:
    """Officer. Allowed once assigned; the officer defaults to the assignee."""
    return await perform("start", code, body, who, ctx)


@router.post("/request-supplement", response_model=DossierView, responses=_RESPONSES,
             summary="Ask for missing papers", operation_id="requestSupplement")
async def request_supplement(code: DossierCode, body: RequestSupplementBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("request-supplement"))]) -> JSONResponse:
    """Officer. The clock pauses; a second request during processing counts as late."""
    return await perform("request-supplement", code, body, who, ctx)


@router.post("/supplement", response_model=DossierView, responses=_RESPONSES,
             summary="Missing papers received", operation_id="provideSupplement")
async def supplement(code: DossierCode, body: SupplementBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("supplement"))]) -> JSONResponse:
    """Officer. The clock resumes and the due time moves by the time waited."""
    return await perform("supplement", code, body, who, ctx)


@router.post("/complete", response_model=DossierView, responses=_RESPONSES,
             summary="Result ready", operation_id="completeProcessing")
async def complete(code: DossierCode, body: CompleteBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("complete"))]) -> JSONResponse:
    """Officer. Records timeliness (early / on time / late)."""
    return await perform("complete", code, body, who, ctx)


@router.post("/return", response_model=DossierView, responses=_RESPONSES,
             summary="Result handed back", operation_id="returnResult")
async def return_result(code: DossierCode, body: ReturnBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("return"))]) -> JSONResponse:
    """Clerk. Allowed once the result is ready."""
    return await perform("return", code, body, who, ctx)


@router.post("/refuse", response_model=DossierView, responses=_RESPONSES,
             summary="Refuse the dossier", operation_id="refuseDossier")
async def refuse(code: DossierCode, body: RefuseBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("refuse"))]) -> JSONResponse:
    """Leader. Closes the dossier with the reason."""
    return await perform("refuse", code, body, who, ctx)


@router.post("/withdraw", response_model=DossierView, responses=_RESPONSES,
             summary="Citizen withdraws", operation_id="withdrawDossier")
async def withdraw(code: DossierCode, body: WithdrawBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("withdraw"))]) -> JSONResponse:
    """Clerk or leader. Counted as resolved on time."""
    return await perform("withdraw", code, body, who, ctx)


@router.post("/stop", response_model=DossierView, responses=_RESPONSES,
             summary="Stop processing", operation_id="stopProcessing")
async def stop(code: DossierCode, body: StopBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("stop"))]) -> JSONResponse:
    """Leader. Closes the dossier with the reason."""
    return await perform("stop", code, body, who, ctx)


@router.post("/extend", response_model=DossierView, responses=_RESPONSES,
             summary="Apologise and extend (once)", operation_id="extendDeadline")
async def extend(code: DossierCode, body: ExtendBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("extend"))]) -> JSONResponse:
    """Leader. At most once; `new_due_at` must be later than the due time."""
    check_due_time(ctx.resources.calendar, body.new_due_at, "new_due_at")
    return await perform("extend", code, body, who, ctx)


@router.post("/rate", response_model=DossierView, responses=_RESPONSES,
             summary="Record the citizen's rating", operation_id="rateService")
async def rate(code: DossierCode, body: RateBody, ctx: PostCtx,
        who: Annotated[Principal, Depends(require("rate"))]) -> JSONResponse:
    """Clerk. Once, on a returned dossier."""
    return await perform("rate", code, body, who, ctx)
