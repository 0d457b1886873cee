"""`/v1/dossiers/{code}/documents/{kind}`: the citizen documents, rendered from the events."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from domain.dossier import folded
from motcua import lookup
from motcua.access import privacy
from motcua.access.permissions import check_visible
from motcua.api import problems
from motcua.api.auth import Reader
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.documents import KINDS, DocumentUnavailable, render
from motcua.documents.people import people_of
from motcua.documents.render import Lookup
from motcua.eventstore.store import read_stream
from motcua.problems import DOCUMENT_UNAVAILABLE, Problem
from motcua.services import engine
from motcua.services.views import CODE_EXAMPLE

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
    409 when the dossier has no such document (e.g. a refusal slip for a dossier not refused)."""
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    check_visible(principal, folded(events))
    await privacy.check_document(pool, principal, code, kind.value)
    printed: Lookup | None = None
    if kind.value == "receipt":  # each print issues the secret it shows (motcua.lookup)
        secret = await lookup.issue(pool, code, issued_by=principal.name)
        printed = Lookup(secret, lookup.lookup_url(code, secret, resources.settings.public_url))
    try:
        html = render(kind.value, events, resources.catalog, resources.calendar.tz,
                      lookup=printed, people=await people_of(pool, events))
    except DocumentUnavailable as err:
        raise Problem(DOCUMENT_UNAVAILABLE, err.reason) from err
    return HTMLResponse(html)
