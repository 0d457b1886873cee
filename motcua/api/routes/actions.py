"""`POST /v1/dossiers/{code}/{action}`: each action is a workflow update; the answer is the
dossier after it. One route per action of the action table (`motcua.actions`) that has roles,
so each has its own body schema in OpenAPI, all through `motcua.services.dossiers.act`, which
holds the rules: unit scope, assignee, idempotency, error mapping.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from motcua.access.tokens import Principal
from motcua.actions import HTTP_ACTIONS, Action
from motcua.api import problems
from motcua.api.auth import require
from motcua.api.context import PostContext, PostCtx, respond
from motcua.api.routes.dossiers import DossierCode
from motcua.services import dossiers
from motcua.services.requests import ActionBody, body_for
from motcua.services.views import DossierView

router = APIRouter(prefix="/v1/dossiers/{code}", tags=["actions"])
_RESPONSES = problems.responses(400, 401, 403, 404, 409, 413, 415, 422, 503)


def _endpoint(action: Action) -> Callable[..., Awaitable[JSONResponse]]:
    """The route handler of `action`. FastAPI reads the parameters from the signature, so it
    is given the action's own body type and permission."""

    async def endpoint(code: str, body: ActionBody, ctx: PostContext,
                       who: Principal) -> JSONResponse:
        return respond(await dossiers.act(ctx.resources, ctx.caller(who), action, code, body))

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
