"""Dossier views for the citizen pages, as the public API gives them
(`motcua.services.dossiers.look_up`, `motcua.services.views.public_view`): state, appointment
and next step, never personal data."""

from __future__ import annotations

from fastapi import Request

from domain.dossier import folded
from motcua.access.permissions import check_code
from motcua.console.web import ConsoleError, resources
from motcua.eventstore.store import read_stream
from motcua.problems import TOO_MANY_REQUESTS, Problem
from motcua.services import dossiers
from motcua.services.views import PublicDossierView, public_view


async def find(request: Request, code: str, secret: str) -> PublicDossierView | None:
    """The citizen's lookup: the public API's, with its rate limit per client; None for an
    unknown code and a wrong secret alike."""
    client = request.client.host if request.client else "unknown"
    try:
        return await dossiers.look_up(resources(request), client, code, secret)
    except Problem as problem:
        if problem.kind is not TOO_MANY_REQUESTS:
            raise
        wait = problem.headers.get("Retry-After", "")
        raise ConsoleError(429, f"Quý khách tra cứu quá nhiều lần; vui lòng thử lại sau {wait} "
                           "giây.") from None


async def for_kiosk(request: Request, code: str) -> tuple[PublicDossierView, bool] | None:
    """The public view of `code` for the kiosk (a signed-in credential of the unit: no secret
    needed, and no personal data shown on a screen the citizen faces), and whether it was
    rated already."""
    try:
        check_code(code)
    except Problem:
        return None
    res = resources(request)
    events = await read_stream(res.db(), code)
    if not events:
        return None
    dossier = folded(events)
    return public_view(dossier, res.catalog, None, res.calendar.tz), \
        dossier.satisfaction is not None
