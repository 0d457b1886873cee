"""`/v1/public/dossiers/{code}`: the citizen's lookup. No token; no personal data."""

from __future__ import annotations

from fastapi import APIRouter

from motcua.api import engine, problems
from motcua.api.auth import unit_of
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.api.routes.dossiers import DossierCode
from motcua.api.views import PublicDossierView, folded, public_view
from motcua.eventstore.store import read_stream

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/dossiers/{code}", response_model=PublicDossierView,
            operation_id="publicDossier", summary="Look up a dossier by its code (citizens)",
            responses=problems.responses(404, 503))
async def public_dossier(code: DossierCode, pool: PoolDep,
                         resources: ResourcesDep) -> PublicDossierView:
    """State, national status code, due time and the next step; never the applicant, the
    officer, reasons or the timeline."""
    unit_of(code)  # 404 for anything not shaped like a dossier code
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    return public_view(folded(events), resources.catalog)
