"""`/v1/public/dossiers/{code}`: the citizen's lookup, and `.../rating`, the citizen's rating
(issue 23 item 12). No token; the code and the secret printed on the receipt
(`X-Lookup-Secret`); no personal data. See `motcua.lookup`, `motcua.services.ratings`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from motcua import lookup
from motcua.api import problems
from motcua.api.context import correlation_id
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.api.routes.dossiers import DossierCode
from motcua.services import dossiers, engine, ratings
from motcua.services.requests import RateBody
from motcua.services.views import PublicDossierView

router = APIRouter(prefix="/v1/public", tags=["public"])

SECRET_HEADER = "X-Lookup-Secret"


@router.get("/dossiers/{code}", response_model=PublicDossierView,
            operation_id="publicDossier", summary="Look up a dossier (citizens)",
            responses=problems.responses(404, 429, 503))
async def public_dossier(
        code: DossierCode, request: Request, pool: PoolDep, resources: ResourcesDep,
        secret: Annotated[str | None, Header(
            alias=SECRET_HEADER,  # any length: a wrong secret is a 404 like any other
            description="The secret printed on the receipt (`XXXX-XXXX-XXXX`; case, spaces "
            "and dashes do not matter). A header, so it never reaches access logs.",
            examples=["7KQ2-M9PA-3DXF"])] = None,
) -> PublicDossierView:
    """State, national status code, receipt date, due time and the next step; never the
    applicant, the officer, reasons or the timeline. An unknown code and a wrong or missing
    secret are the same 404. Each client may try about 20 times a minute (429 beyond, with
    Retry-After)."""
    client = request.client.host if request.client else "unknown"
    view = await dossiers.look_up(resources, client, code, secret or "")
    if view is None:
        raise engine.not_found()
    return view


@router.post("/dossiers/{code}/rating", response_model=PublicDossierView,
             operation_id="publicRating", summary="Rate a returned dossier (citizens)",
             responses=problems.responses(400, 404, 409, 413, 415, 422, 429, 503))
async def public_rating(
        code: DossierCode, body: RateBody, request: Request, resources: ResourcesDep,
        secret: Annotated[str | None, Header(
            alias=SECRET_HEADER, description="The secret printed on the receipt.",
            examples=["7KQ2-M9PA-3DXF"])] = None,
) -> PublicDossierView:
    """The citizen's satisfaction with a returned dossier, once (Decision 766's satisfaction
    indicator), by the same command as the counter's rating. An unknown code and a wrong or
    missing secret are the same 404, checked before the body; `comment` (the reason) is
    required with `not_satisfied` (422, field `comment`); a dossier not returned yet or already
    rated is 409 (`invalid-transition`, `already-rated`). Rate-limited like the lookup."""
    client = request.client.host if request.client else "unknown"
    await ratings.rate_with_secret(resources, client, code, secret or "", body,
                                   correlation_id(request))
    view = await lookup.find(resources.db(), code, (secret or "")[:64], resources.catalog,
                             resources.calendar.tz)
    if view is None:  # the secret was reissued meanwhile
        raise engine.not_found()
    return view
