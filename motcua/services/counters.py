"""Which dossier a satisfaction kiosk offers (issue 23 item 12): the one just returned at its
own counter, not a list of the unit's returned codes that anyone at the screen could rate.

A counter (quầy) is a console user's `counter` within its unit (migration 0020): the kiosk
user names the counter whose screen it is, the clerk the counter they serve at
(`motcua user create ... --counter 1`). When a clerk returns a result (`ResultReturned`, its
`actor` the clerk's login), the kiosk of the same unit and counter offers that dossier: the
last result returned there within `OFFER_WINDOW`, while it is not rated. A later return at the
counter replaces it (the earlier citizen has left the counter); a rating ends the offer.

Read from the event store (the `events_type_recorded` index), not from a read model, so the
offer stands the moment the return is stored (the projector may lag). A kiosk may rate only
the dossier it offers (`check_kiosk`, called by `motcua.services.dossiers.act`); the citizen who
left the counter rates from the lookup page with the receipt's lookup secret
(`motcua.services.ratings`).
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from domain import events as ev
from motcua.access.tokens import Principal, Role
from motcua.eventstore.store import Conn as _Conn
from motcua.problems import FORBIDDEN, Problem

# How long after the return the kiosk keeps offering the dossier. Our reading (no text sets
# it): the citizen rates while still at the counter; later, the lookup page is the way.
OFFER_WINDOW = timedelta(minutes=30)

Conn = _Conn | asyncpg.Pool


async def counter_of(conn: Conn, username: str) -> tuple[str, str] | None:
    """`(unit, counter)` of an active console user, or None when it names no counter."""
    row = await conn.fetchrow(
        "SELECT unit_code, counter FROM console_users "
        "WHERE username = $1 AND disabled_at IS NULL", username)
    if row is None or row["unit_code"] is None or row["counter"] is None:
        return None
    return row["unit_code"], row["counter"]


async def offered(conn: Conn, username: str) -> str | None:
    """The dossier code the kiosk `username` offers now: the last result returned by a user
    of its unit and counter within `OFFER_WINDOW`, unless already rated; None otherwise."""
    counter = await counter_of(conn, username)
    if counter is None:
        return None
    row = await conn.fetchrow(
        "SELECT e.stream, EXISTS (SELECT 1 FROM events r WHERE r.stream = e.stream "
        "                         AND r.event_type = $4) AS rated "
        "FROM events e JOIN console_users u ON u.username = e.metadata ->> 'actor' "
        "WHERE e.event_type = $3 AND e.recorded_at > now() - $5::interval "
        "AND u.unit_code = $1 AND u.counter = $2 "
        "ORDER BY e.recorded_at DESC, e.global_position DESC LIMIT 1",
        counter[0], counter[1], ev.ResultReturned.event_type, ev.ServiceRated.event_type,
        OFFER_WINDOW)
    if row is None or row["rated"]:
        return None
    code: str = row["stream"]
    return code


def is_kiosk(principal: Principal) -> bool:
    return Role.KIOSK in principal.roles


async def check_kiosk(conn: Conn, principal: Principal, code: str) -> None:
    """403 unless `code` is the dossier the kiosk `principal` offers now (`offered`)."""
    if await offered(conn, principal.name) != code:
        raise Problem(FORBIDDEN, "a kiosk rates only the dossier just returned at its counter")
