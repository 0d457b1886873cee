"""`POST /v1/dossiers/{code}/{action}`: each action is a workflow update; the answer is the
dossier after it. One route per action of the action table (`motcua.actions`) that has roles,
so each has its own body schema in OpenAPI, all through `perform`, which holds the rules: unit
scope, idempotency, error mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from domain.decide import no_more_commands
from domain.dossier import folded
from domain.envelope import EventEnvelope
from motcua.access.tokens import Principal
from motcua.actions import HTTP_ACTIONS, Action
from motcua.api import engine, idempotency, privacy, problems
from motcua.api.auth import ASSIGNEE_STEPS, check_assignee, check_visible, require
from motcua.api.context import PostContext, PostCtx
from motcua.api.problems import INVALID_TRANSITION, Problem
from motcua.api.routes.dossiers import DossierCode
from motcua.api.schemas import ActionBody, body_for
from motcua.api.views import DossierView, dossier_view
from motcua.eventstore.store import read_stream
from workflows import Acted

router = APIRouter(prefix="/v1/dossiers/{code}", tags=["actions"])
_RESPONSES = problems.responses(400, 401, 403, 404, 409, 413, 415, 422, 503)


async def perform(action: Action, code: str, body: ActionBody, principal: Principal,
                  ctx: PostContext) -> JSONResponse:
    """Run `action` on dossier `code` for `principal` (whose role and unit `require` checked);
    the Temporal update id is derived from the Idempotency-Key, so Temporal itself
    deduplicates a retried update."""
    body.check(ctx.resources.calendar)
    client = ctx.resources.temporal()
    pool, key = ctx.pool, ctx.idempotency_key
    before: list[EventEnvelope] | None = None
    if action.name in ASSIGNEE_STEPS:
        before = await read_stream(pool, code)
        if before:  # else the engine answers 404
            check_assignee(principal, action.name, folded(before).assignee)
    async with idempotency.attempt(pool, principal=principal.name, key=key,
                                   operation=action.name, code=code,
                                   body=body.model_dump(mode="json"),
                                   keyring=ctx.keyring) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        command = body.command(actor=principal.name, correlation_id=ctx.correlation_id)
        # The stream so far is read while the update runs (unless read above): the update
        # answers with the events it stored, so the timeline needs no read after it.
        reading = asyncio.ensure_future(
            read_stream(pool, code) if before is None else _given(before))
        try:
            acted = await engine.act(client, code, action.name, command,
                                     update_id=f"{principal.name}:{key}" if key else None)
        except engine.WorkflowNotFound:
            events = await reading
            if not events:
                raise engine.not_found() from None
            closed = folded(events)
            check_visible(principal, closed.unit_code)
            refusal = no_more_commands(closed)  # its workflow has ended
            raise Problem(INVALID_TRANSITION, refusal.message, state=closed.state_name) from None
        except BaseException:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
            raise
        stream = stream_after(await reading, acted)
        if stream is None:  # an event stored meanwhile was not in the read: read it all now
            stream = await read_stream(pool, code)
        view = await privacy.shown(pool, principal, dossier_view(acted.state, stream),
                                   what=f"action:{action.name}")
        return await attempt.respond(view.model_dump(mode="json"))


async def _given(events: list[EventEnvelope]) -> list[EventEnvelope]:
    return events


def stream_after(read: list[EventEnvelope], acted: Acted) -> list[EventEnvelope] | None:
    """The stream after the update: `read` (taken before or while it ran) with the events it
    appended, or None when they do not make up positions 1..n through the update's own."""
    by_position = {e.position: e for e in read}
    by_position.update((e.position, e) for e in acted.appended)
    events = [by_position[p] for p in sorted(by_position)]
    complete = [e.position for e in events] == list(range(1, len(events) + 1))
    return events if complete and len(events) >= acted.state.version else None


def _endpoint(action: Action) -> Callable[..., Awaitable[JSONResponse]]:
    """The route handler of `action`. FastAPI reads the parameters from the signature, so it
    is given the action's own body type and permission."""

    async def endpoint(code: str, body: ActionBody, ctx: PostContext,
                       who: Principal) -> JSONResponse:
        return await perform(action, code, body, who, ctx)

    param = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("code", param, annotation=DossierCode),
        inspect.Parameter("body", param, annotation=body_for(action.command)),
        inspect.Parameter("ctx", param, annotation=PostCtx),
        inspect.Parameter("who", param,
                          annotation=Annotated[Principal, Depends(require(action.name))]),
    ], return_annotation=JSONResponse)
    return endpoint


for _action in HTTP_ACTIONS:
    router.add_api_route(
        f"/{_action.name}", _endpoint(_action), methods=["POST"], response_model=DossierView,
        responses=_RESPONSES, summary=_action.summary, operation_id=_action.operation_id,
        description=_action.description, name=_action.update.__name__)
