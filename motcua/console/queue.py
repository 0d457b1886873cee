"""`/`: where each role starts; `/ho-so`: the unit's work queue (from the `dossiers` read
model, through the API's own listing); `/cap-nhat`: what the page polls to stay live."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.clock import add_working_time
from domain.states import DossierState, SlaStatus
from motcua.access.tokens import Role
from motcua.access.users import Session, list_users
from motcua.console.web import (
    SECURITY_HEADERS,
    ConsoleError,
    now,
    optional_session,
    page,
    redirect,
    resources,
    staff,
    time_left,
)
from motcua.problems import Problem
from motcua.services import listing
from motcua.services.text import in_range

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
PAGE_SIZE = 25
OPEN_STATES = [s.value for s in DossierState if not s.is_terminal]


@router.get("/")
async def home(request: Request) -> Response:
    current = await optional_session(request)
    if current is None:
        return redirect("/login")
    roles = current.user.roles
    if roles == {Role.KIOSK}:
        return redirect("/danh-gia")
    if roles == {Role.OPS}:
        return redirect("/bao-cao")
    return redirect("/ho-so")


async def names(request: Request) -> dict[str, str]:
    """Username -> the name to show, for every console user."""
    return {u.username: u.display for u in await list_users(resources(request).db())}


def rows(request: Request, items: list[Any], shown: dict[str, str]) -> list[dict[str, Any]]:
    """Queue rows with the time left in working days and hours."""
    res = resources(request)
    at = now()
    out = []
    for item in items:
        left, css = time_left(res.calendar, item.due_at, at)
        closed = item.sla_status == SlaStatus.CLOSED
        procedure = res.catalog.procedures.get(item.procedure_code)
        out.append({
            "code": item.code, "state": item.state, "status_code": item.status_code,
            "sla": item.sla_status, "procedure": procedure.name if procedure else "",
            "procedure_code": item.procedure_code,
            "assignee": shown.get(item.assignee, item.assignee) if item.assignee else "",
            "due_at": item.due_at, "left": "" if closed else left,
            "css": "sla-" + item.sla_status + (" " + css if css and not closed else "")})
    return out


# Decree 297/2025/NĐ-CP art. 6(4)(a) (docs/legal-sources.md §3): an incomplete online dossier
# gets the official receipt notice with the request to complete it "no later than 08 working
# hours" after the portal received it. The console shows each submission awaiting acceptance
# first, with the time left to that limit (issue 23 item 13); counted from the submission, or
# from the intake supplement that completed it (a new check of a new arrival: our reading).
INTAKE_CHECK_LIMIT = timedelta(hours=8)


async def awaiting_intake(request: Request, unit: str | None) -> list[dict[str, Any]]:
    """The unit's online submissions awaiting acceptance, the longest waiting first, each with
    the time left to check it."""
    res = resources(request)
    found = await res.db().fetch(
        "SELECT d.code, d.procedure_code, max(e.recorded_at) AS arrived FROM dossiers d "
        "JOIN events e ON e.stream = d.code AND e.event_type IN "
        "('DossierSubmitted', 'IntakeSupplementReceived') "
        "WHERE d.state = 'submitted' AND ($1::text IS NULL OR d.unit_code = $1) "
        "GROUP BY d.code, d.procedure_code ORDER BY arrived LIMIT 100", unit)
    out = []
    for row in found:
        limit = add_working_time(res.calendar, row["arrived"], INTAKE_CHECK_LIMIT)
        left, css = time_left(res.calendar, limit, now())
        procedure = res.catalog.procedures.get(row["procedure_code"])
        out.append({"code": row["code"], "procedure_code": row["procedure_code"],
                    "procedure": procedure.name if procedure else "",
                    "arrived": row["arrived"], "limit": limit, "left": left,
                    "css": "sla-overdue" if css else ("sla-due_soon" if limit - now()
                                                      < timedelta(hours=2) else "")})
    return out


async def waiting_steps(request: Request, current: Session,
                        shown: dict[str, str]) -> list[dict[str, Any]]:
    """The steps waiting on the user (`listing.waiting_on`), each with its dossier, the step's
    name and due time, and the time left to it."""
    res = resources(request)
    at = now()
    out = []
    for w in await listing.waiting_on(res.db(), current.user.username,
                                      frozenset(r.value for r in current.user.roles),
                                      current.user.unit_code):
        left, late = time_left(res.calendar, w.due_at, at)
        procedure = res.catalog.procedures.get(w.procedure_code)
        out.append({"code": w.code, "state": w.state, "step": w.step + 1, "name": w.name,
                    "unit_code": w.unit_code, "procedure_code": w.procedure_code,
                    "procedure": procedure.name if procedure else "",
                    "holder": shown.get(w.holder, w.holder) if w.holder else "",
                    "started_at": w.started_at, "due_at": w.due_at, "left": left,
                    "css": "sla-overdue" if late else ""})
    return out


@router.get("/ho-so", response_class=HTMLResponse)
async def work_queue(
        request: Request, current: Staff,
        trang_thai: Annotated[list[str] | None, Query()] = None,
        sla: Annotated[list[str] | None, Query()] = None,
        thu_tuc: Annotated[str | None, Query(max_length=64)] = None,
        can_bo: Annotated[str | None, Query(max_length=64)] = None,
        cua_toi: Annotated[str | None, Query(max_length=1)] = None,
        sau: Annotated[str | None, Query(max_length=512)] = None,
) -> HTMLResponse:
    """The unit's dossiers by due time, with filters and paging."""
    states = [s for s in trang_thai or [] if s in {d.value for d in DossierState} | {"*"}]
    chosen = [s for s in states if s != "*"]
    if not states:
        chosen = OPEN_STATES
    slas = [s for s in sla or [] if s in {v.value for v in SlaStatus}]
    mine = cua_toi == "1"
    assignee = current.user.username if mine else (can_bo or None)
    # Submissions awaiting acceptance are listed apart, first (`awaiting_intake`).
    apart = not mine and "submitted" in chosen
    listed = [s for s in chosen if s != "submitted"] if apart and len(chosen) > 1 else chosen
    filters = listing.Filters(states=listed, sla=slas, unit=current.user.unit_code,
                              procedure=thu_tuc or None, assignee=assignee)
    try:
        found = await listing.page(resources(request).db(), filters, limit=PAGE_SIZE,
                                   cursor=sau or None)
    except Problem as problem:
        raise ConsoleError(422, "Liên kết trang không hợp lệ; hãy mở lại hàng đợi.") from problem
    everyone = await list_users(resources(request).db())
    shown = {u.username: u.display for u in everyone}
    listed_rows = rows(request, found.items, shown)
    steps: list[dict[str, Any]] = []
    if mine:
        # Issue 22 item 6: "my dossiers" is the steps waiting on me; a dossier walking an
        # internal procedure shows there (at its current step), not as merely assigned.
        steps = await waiting_steps(request, current, shown)
        stepped = await listing.with_steps(resources(request).db(),
                                           [r["code"] for r in listed_rows])
        listed_rows = [r for r in listed_rows if r["code"] not in stepped]
    officers = sorted(((u.username, u.display) for u in everyone if Role.OFFICER in u.roles
                       and current.user.unit_code in (None, u.unit_code)),
                      key=lambda kv: kv[1])
    params = [("trang_thai", s) for s in states] + [("sla", s) for s in slas]
    params += [(k, v) for k, v in (("thu_tuc", thu_tuc), ("can_bo", can_bo),
                                   ("cua_toi", cua_toi)) if v]
    # Online submissions first (issue 23 item 13), on the first page of the unit's queue.
    intake = await awaiting_intake(request, current.user.unit_code) \
        if sau is None and apart else []
    return page(request, "queue.html", rows=listed_rows, intake=intake, steps=steps,
                next_cursor=found.next_cursor, params=params, states=states, slas=slas,
                procedure=thu_tuc or "", assignee=can_bo or "", mine=mine,
                officers=officers,
                procedures=sorted(resources(request).catalog.procedures.values(),
                                  key=lambda p: p.code),
                all_states=[s.value for s in DossierState],
                all_slas=[s.value for s in SlaStatus], first_page=sau is None)


@router.get("/cap-nhat")
async def changes(request: Request, current: Staff,
                  since: Annotated[str | None, Query(max_length=64)] = None) -> JSONResponse:
    """A fingerprint of the user's dossiers (the page reloads its list when it changes) and
    the deadline alerts raised since `since` (ISO time), for the live banner."""
    pool = resources(request).db()
    unit = current.user.unit_code
    row = await pool.fetchrow(
        "SELECT count(*) AS n, max(updated_at) AS at FROM dossiers "
        "WHERE $1::text IS NULL OR unit_code = $1 OR holding_unit_code = $1", unit)
    assert row is not None
    try:
        after = datetime.fromisoformat(since) if since else now() - timedelta(minutes=5)
        if after.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        after = now() - timedelta(minutes=5)
    try:  # a far year with an offset is past what PostgreSQL (or UTC itself) can hold
        in_range(after)
    except ValueError:
        raise ConsoleError(422, "Thời điểm `since` phải nằm trong 2000–2100.") from None
    alerts = await pool.fetch(
        "SELECT stream, payload->>'kind' AS kind, recorded_at FROM events "
        "WHERE event_type = 'DeadlineAlertRaised' AND recorded_at > $1 "
        # The unit's dossiers by the read model (received or held now), not by the code's
        # prefix: a transferred dossier keeps its code (issue 22 item 3).
        "AND ($2::text IS NULL OR stream IN (SELECT code FROM dossiers "
        "WHERE unit_code = $2 OR holding_unit_code = $2)) "
        "ORDER BY recorded_at DESC LIMIT 10", after, unit)
    # The papers a citizen brought to the counter for a dossier assigned to this user, recorded
    # by someone else (the clerk: issue 23 item 7): the assignee is told, the clock resumed.
    supplied = await pool.fetch(
        "SELECT e.stream, 'supplement_received' AS kind, e.recorded_at FROM events e "
        "JOIN dossiers d ON d.code = e.stream "
        "WHERE e.event_type = 'SupplementReceived' AND e.recorded_at > $1 "
        "AND d.assignee = $2 AND e.metadata->>'actor' IS DISTINCT FROM $2 "
        "ORDER BY e.recorded_at DESC LIMIT 10", after, current.user.username)
    stamp = f"{row['n']}:{row['at'].isoformat() if row['at'] else ''}"
    return JSONResponse(
        {"version": stamp, "now": now().isoformat(),
         "alerts": [{"code": a["stream"], "kind": a["kind"],
                     "at": a["recorded_at"].isoformat()} for a in [*supplied, *alerts]]},
        headers=SECURITY_HEADERS)
