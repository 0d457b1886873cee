"""`/v1/dossiers/{code}/documents/{kind}`: the citizen documents, rendered from the events, and
`POST /v1/dossiers/{code}/lookup-secret`: a new lookup secret for a lost receipt."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, JSONResponse

from domain.dossier import folded
from motcua.access import privacy
from motcua.access.permissions import check_visible
from motcua.access.tokens import Principal
from motcua.api import problems
from motcua.api.auth import Reader, require
from motcua.api.context import PostCtx, respond
from motcua.api.headers import document_headers
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.documents import KINDS, DocumentUnavailable, render
from motcua.documents.people import people_of
from motcua.eventstore.store import read_stream
from motcua.problems import DOCUMENT_UNAVAILABLE, Problem
from motcua.services import engine, lookups
from motcua.services.requests import ReissueLookupRequest
from motcua.services.views import CODE_EXAMPLE, LookupSecretView

router = APIRouter(prefix="/v1/dossiers", tags=["documents"])

DocumentKind = StrEnum("DocumentKind", {k.replace("-", "_"): k for k in KINDS})  # type: ignore[misc]


@router.get("/{code}/documents/{kind}", response_class=HTMLResponse,
            operation_id="getDossierDocument", summary="A citizen document (HTML)",
            responses={200: {"content": {"text/html": {}}},
                       **problems.responses(401, 403, 404, 409, 422, 503)})
async def get_document(
        code: Annotated[str, Path(examples=[CODE_EXAMPLE])],
        kind: Annotated[DocumentKind, Path(description="Which document.")],
        principal: Reader, pool: PoolDep, resources: ResourcesDep) -> HTMLResponse:
    """The receipt and appointment slip, supplement request, refusal, apology with the new
    appointment, or the process-control slip, in Vietnamese, as printed for the citizen.
    409 when the dossier has no such document (e.g. a refusal slip for a dossier not refused).
    Reading changes nothing: the receipt shows no lookup secret (it was answered at intake,
    `lookup_secret`; a new one is `POST .../lookup-secret`)."""
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    check_visible(principal, folded(events))
    await privacy.check_document(pool, principal, code, kind.value)
    try:
        html = render(kind.value, events, resources.catalog, resources.calendar.tz,
                      people=await people_of(pool, events))
    except DocumentUnavailable as err:
        raise Problem(DOCUMENT_UNAVAILABLE, err.reason) from err
    return HTMLResponse(html, headers=document_headers())


@router.post("/{code}/lookup-secret", response_model=LookupSecretView,
             operation_id="reissueLookupSecret", summary="A new lookup secret (lost receipt)",
             responses=problems.responses(400, 401, 403, 404, 409, 413, 415, 422, 503))
async def reissue_lookup_secret(
        code: Annotated[str, Path(examples=[CODE_EXAMPLE])], body: ReissueLookupRequest,
        ctx: PostCtx,
        principal: Annotated[Principal, Depends(require("lookup-secret"))]) -> JSONResponse:
    """Clerk or leader. Issues a new secret for the citizen's lookup and answers it (print it
    on a new receipt): the earlier secret, and the QR code printed with it, stop working. The
    reason is recorded with who asked (`lookup_reissues`). Viewing the receipt never does
    this."""
    return respond(await lookups.reissue(ctx.resources, ctx.caller(principal), code, body))
