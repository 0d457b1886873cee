"""`/dong-bo`: what the national portal (Cổng DVCQG) has not acknowledged, for leaders and
operations (issue 25): per destination the backlog, the oldest waiting change and the rows
finally failed; then the portal's unacknowledged changes one line per dossier (the oldest
first): how many wait, since when, how many attempts the head has had and its last error.
A leader of a unit sees that unit's dossiers; no applicant data appears here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console.web import page, require_role, resources, staff
from motcua.eventstore import outbox

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
SHOWN = 200

# One line per dossier with portal rows not delivered: pending (waiting or being retried) or
# failed for good; the head row (the oldest) says why it waits.
_WAITING = """
SELECT stream, unit_code,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       min(raised_at) AS since,
       (array_agg(attempts ORDER BY id))[1] AS attempts,
       (array_agg(last_error ORDER BY id))[1] AS last_error,
       (array_agg(next_attempt_at ORDER BY id))[1] AS next_attempt_at
FROM deliveries
WHERE destination = 'portal' AND status IN ('pending', 'failed')
  AND ($1::text IS NULL OR unit_code = $1)
GROUP BY stream, unit_code
ORDER BY min(raised_at)
LIMIT $2
"""


@router.get("/dong-bo", response_class=HTMLResponse)
async def portal_backlog(request: Request, current: Staff) -> HTMLResponse:
    """The page (read-only)."""
    require_role(current, Role.LEADER, Role.OPS, what="xem tình trạng đồng bộ Cổng DVCQG")
    pool = resources(request).db()
    unit = current.user.unit_code
    backlog = await outbox.backlog(pool)
    rows = await pool.fetch(_WAITING, unit, SHOWN)
    return page(request, "portal.html", backlog=backlog, rows=rows, unit=unit, shown=SHOWN,
                configured=bool(resources(request).settings.portal_url))
