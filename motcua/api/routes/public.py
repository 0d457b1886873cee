"""`/v1/public/dossiers/{code}`: the citizen's lookup. No token; the code and the secret
printed on the receipt (`X-Lookup-Secret`); no personal data. See `motcua.lookup`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from motcua.api import problems
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.api.routes.dossiers import DossierCode
from motcua.services import dossiers, engine
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
