"""`motcua portal reconcile --date D`: the dossiers received (or submitted online) on day D
against those the national portal acknowledged, the input of Decision 766 indicator 1.4 (a
dossier not synchronised does not count), and the missing ones queued again.

Acknowledged: a dossier upsert the portal answered with success (a `delivered` portal row).
Pending: an upsert still queued or being retried (it will go; not resent). Missing: neither
(never queued, e.g. received before the portal was configured, or finally failed): with
`resend`, its current state is queued as a new upsert behind whatever else the dossier has in
the portal's queue, so order per dossier holds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from motcua.eventstore import store
from motcua.notify.portal import PORTAL, UPSERT, ZONE, upsert

__all__ = ["ZONE", "Reconciliation", "reconcile"]

# The dossiers whose first event (receipt or online submission) falls on the day, in the
# portal's zone, with the state of their portal upserts.
_DAY = """
SELECT e.stream,
       bool_or(d.status = 'delivered') AS acknowledged,
       bool_or(d.status = 'pending') AS pending
FROM events e
LEFT JOIN deliveries d ON d.stream = e.stream AND d.destination = 'portal'
     AND d.part LIKE 'DongBoHoSoMC%'
WHERE e.position = 1 AND e.event_type IN ('DossierReceived', 'DossierSubmitted')
  AND ((e.payload ->> 'at')::timestamptz AT TIME ZONE $2)::date = $1
GROUP BY e.stream ORDER BY e.stream
"""


@dataclass
class Reconciliation:
    day: date
    received: int = 0
    acknowledged: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "received": self.received,
                "acknowledged": len(self.acknowledged), "pending": self.pending,
                "missing": self.missing, "queued": self.queued}


async def reconcile(pool: asyncpg.Pool, day: date, *, resend: bool,
                    fields: dict[str, str] | None = None) -> Reconciliation:
    """Compare day `day`'s dossiers with the portal's acknowledgements; with `resend`, queue
    an upsert of each missing one."""
    result = Reconciliation(day)
    for r in await pool.fetch(_DAY, day, ZONE.key):
        result.received += 1
        if r["acknowledged"]:
            result.acknowledged.append(r["stream"])
        elif r["pending"]:
            result.pending.append(r["stream"])
        else:
            result.missing.append(r["stream"])
    if resend:
        for code in result.missing:
            if await _queue(pool, code, (fields or {})):
                result.queued.append(code)
    return result


async def _queue(pool: asyncpg.Pool, code: str, fields: dict[str, str]) -> bool:
    events = await store.read_stream(pool, code)
    if not events:
        return False
    last = events[-1]
    body = upsert(events, field_name=fields.get(events[0].payload.get("procedure_code", ""), ""),
                  updating=False)  # "already exists" turns it into an update
    if body is None:
        return False
    # A part of its own: the dossier's other rows keep theirs, and this one queues behind them.
    part = f"{UPSERT}#reconcile-{uuid.uuid4().hex[:12]}"
    await pool.execute(
        "INSERT INTO deliveries (event_id, destination, part, stream, position, "
        "global_position, kind, unit_code, body, raised_at) "
        "VALUES ($1::uuid, $2, $3, $4, $5, $6, 'dossier', $7, $8::jsonb, now())",
        last.event_id, PORTAL, part, code, last.position, last.global_position or 0,
        str(events[0].payload.get("unit_code", "")), json.dumps(body, ensure_ascii=False))
    return True
