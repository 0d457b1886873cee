"""The delivery outbox (migrations 0009, 0012): committed events, read in commit order, become
delivery rows for one or more destinations (the operator's webhook, the national portal, the
citizens' SMS, Zalo and e-mail); the dispatcher claims due rows and records each attempt.

Which events become which deliveries is decided by *routers*: the deadline-alert router here
(webhook), the portal's (`motcua.notify.portal`) and the notices' (`motcua.notify.notices`). Each
batch of events, its routers' rows and the checkpoint are written in one transaction, so a crash
replays the batch and `(event_id, destination, part)` keeps each row once.

Only alerts whose envelope says `delivery: outbox` are taken for the webhook: the workflow marks
them so from the `notify-outbox-v1` patch on. Alerts of histories from before it are still
notified by the workflow's own activity, so no alert is delivered by both paths.

Order: a row is claimed only when no earlier row (smaller id: ingest order, which is commit
order, which for one dossier is stream order) of the same dossier and destination is pending,
so a later change never overtakes an earlier one that is still being tried.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from motcua.eventstore import projector, store
from motcua.eventstore.store import Conn

NAME = "notifications"  # the dispatcher's row in projection_checkpoints
ALERT = "DeadlineAlertRaised"
DELIVERY_KEY, OUTBOX = "delivery", "outbox"  # the envelope metadata that routes an alert here
WEBHOOK = "webhook"
DESTINATIONS = ("webhook", "portal", "sms", "zalo", "email")
NOTICES = ("sms", "zalo", "email")
# What a dossier's timeline shows: its alerts' webhook deliveries and its notices (the portal's
# synchronisation has its own console page).
TIMELINE = (WEBHOOK, *NOTICES)
BATCH = 500

# A step's own alert (issue 22 item 2): always delivered from here. It exists only since
# `internal-steps-v1`, after `notify-outbox-v1`, so no workflow ever notified one itself.
STEP_ALERT = "StepAlertRaised"
STEP_KINDS = {"due_soon": "step_due_soon", "overdue": "step_overdue"}

# Every committed event after the checkpoint (so the checkpoint moves past the rest too), with
# its dossier's unit and procedure (from the receipt, position 1) for the alerts the webhook
# owns, and for a step alert the step's name (from the plan the dossier was received under).
_FETCH = f"""
SELECT e.tx_id::text AS tx_text, {store.COLUMNS}, r.alert, r.receipt ->> 'unit_code' AS unit_code,
       r.receipt ->> 'procedure_code' AS procedure_code, r.step_name
FROM events e
LEFT JOIN LATERAL (
    SELECT e.payload::text AS alert, receipt.payload AS receipt,
           CASE WHEN e.event_type = '{STEP_ALERT}' THEN (
               SELECT plan.payload -> 'steps' -> ((e.payload ->> 'step')::int) ->> 'name'
               FROM events plan WHERE plan.stream = e.stream AND plan.event_type = 'StepsBegun'
               LIMIT 1) END AS step_name
    FROM events receipt
    WHERE ((e.event_type = '{ALERT}' AND e.metadata ->> '{DELIVERY_KEY}' = '{OUTBOX}')
           OR e.event_type = '{STEP_ALERT}')
      AND receipt.stream = e.stream AND receipt.position = 1) r ON true
WHERE {projector.COMMITTED_AFTER}
ORDER BY e.tx_id, e.global_position
LIMIT $3
"""

_INSERT = """
INSERT INTO deliveries (event_id, destination, part, stream, position, global_position, kind,
    unit_code, body, raised_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
                     $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[])
ON CONFLICT (event_id, destination, part) DO NOTHING
"""


@dataclass(frozen=True)
class NewDelivery:
    """One row a router asks for: `event` is the fetched event row it comes from."""

    event: asyncpg.Record
    destination: str
    kind: str
    body: dict[str, object]
    part: str = ""
    unit_code: str = ""


# A router reads a batch of committed events (with the connection, to read more if it must)
# and returns the deliveries they cause, in the batch's order.
Router = Callable[[Conn, Sequence[asyncpg.Record]], Awaitable[list[NewDelivery]]]


async def alerts_router(_conn: Conn, rows: Sequence[asyncpg.Record]) -> list[NewDelivery]:
    """Deadline alerts marked for the outbox go to the webhook, for the dossier's receiving
    unit; step alerts too, for the step's actor (`step_alert_body`)."""
    new = []
    for r in rows:
        if r["alert"] is None:
            continue
        if r["event_type"] == STEP_ALERT:
            body = step_alert_body(r)
            actor = body["actor"]
            assert isinstance(actor, dict)
            new.append(NewDelivery(r, WEBHOOK, str(body["kind"]), body,
                                   unit_code=str(actor["unit_code"])))
        else:
            body = _body(r)
            new.append(NewDelivery(r, WEBHOOK, str(body["kind"]), body,
                                   unit_code=r["unit_code"]))
    return new


async def ingest_batch(conn: Conn, limit: int = BATCH,
                       routers: Sequence[Router] = (alerts_router,)) -> int:
    """Turn the next committed events into pending deliveries and move the checkpoint, in one
    transaction (a crash replays the batch; the key keeps each row once). Returns how many
    events were read (0: caught up)."""
    async with conn.transaction():
        cp = await projector.checkpoint(conn, NAME)
        rows = await conn.fetch(_FETCH, cp["tx_text"], cp["global_position"], limit)
        if not rows:
            return 0
        new: list[NewDelivery] = []
        for router in routers:
            new += await router(conn, rows)
        # Rows in commit order whatever the router (their ids are the delivery order); one
        # event's rows keep the order their router gave (a stable sort).
        order = {r["event_id"]: i for i, r in enumerate(rows)}
        new.sort(key=lambda n: order[n.event["event_id"]])
        if new:
            await conn.execute(
                _INSERT, [n.event["event_id"] for n in new], [n.destination for n in new],
                [n.part for n in new], [n.event["stream"] for n in new],
                [n.event["position"] for n in new], [n.event["global_position"] for n in new],
                [n.kind for n in new], [n.unit_code or "" for n in new],
                [json.dumps(n.body, ensure_ascii=False) for n in new],
                [n.event["recorded_at"] for n in new])
        await projector.advance(conn, NAME, rows[-1])
    return len(rows)


def _body(row: asyncpg.Record) -> dict[str, object]:
    """The webhook body of an alert row: the same fields the workflow's activity sent
    (`NotificationRequest`), plus `event_id`, the alert's id, for the receiver to dedup on."""
    alert = json.loads(row["alert"])
    return {"event_id": row["event_id"], "kind": alert["kind"], "code": row["stream"],
            "unit_code": row["unit_code"], "procedure_code": row["procedure_code"],
            "alert_event_id": row["event_id"], "due_at": alert["due_at"],
            "raised_at": alert["at"], "deadline_version": alert["deadline_version"]}


def step_alert_body(row: asyncpg.Record) -> dict[str, object]:
    """The webhook body of a step alert (`StepAlertRaised`): kind `step_due_soon` or
    `step_overdue`, and `actor`, whom it is for: the person the step was handed to when the
    hand-over named one, else the step's role in the step's unit (for a step of another unit,
    liên thông, that unit; else the receiving unit). `unit_code` stays the receiving unit, as
    in a deadline alert; the delivery row's unit is the actor's (`alerts_router`). Whom to
    tell is OUR READING: no rule names the addressee of a step's warning (legal-rules.md)."""
    alert = json.loads(row["alert"])
    receiving = row["unit_code"] or ""
    return {"event_id": row["event_id"], "kind": STEP_KINDS[alert["kind"]],
            "code": row["stream"], "unit_code": receiving,
            "procedure_code": row["procedure_code"], "alert_event_id": row["event_id"],
            "due_at": alert["due_at"], "raised_at": alert["at"], "step": alert["step"],
            "step_name": row["step_name"] or "",
            "actor": {"unit_code": alert.get("unit_code") or receiving,
                      "role": alert["role"], "person": alert.get("receiver")}}


async def ingest(conn: Conn, routers: Sequence[Router] = (alerts_router,)) -> int:
    """Ingest until no committed event is left; returns how many events were read."""
    total = 0
    while read := await ingest_batch(conn, routers=routers):
        total += read
    return total


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt (`attempt` counts from 1)."""

    id: int
    event_id: str
    destination: str
    part: str
    stream: str
    kind: str
    attempt: int
    body: dict[str, object]
    started_at: datetime
    created_at: datetime

    @property
    def alert_event_id(self) -> str:
        """The source event's id (the alert's, for the webhook)."""
        return self.event_id


# The due rows at the head of their (dossier, destination) queue: no earlier row of the same
# pair is still pending (being tried, or waiting for its retry).
_HEAD = """status = 'pending' AND NOT EXISTS (
    SELECT 1 FROM deliveries q WHERE q.stream = p.stream AND q.destination = p.destination
      AND q.status = 'pending' AND q.id < p.id)"""


async def claim(conn: Conn | asyncpg.Pool, limit: int, lease_seconds: float,
                destinations: Sequence[str] = DESTINATIONS) -> list[Claimed]:
    """Take up to `limit` due deliveries at the head of their queue: count the attempt and
    push the row one lease ahead, so that if this process dies before recording the outcome
    the row is due again then (and the rows behind it keep waiting)."""
    rows = await conn.fetch(
        "UPDATE deliveries d SET attempts = d.attempts + 1, "
        "next_attempt_at = now() + make_interval(secs => $2) "
        "FROM (SELECT id FROM deliveries p "
        f"      WHERE {_HEAD} AND p.next_attempt_at <= now() AND p.destination = ANY($3) "
        "      ORDER BY p.next_attempt_at, p.id LIMIT $1 FOR UPDATE SKIP LOCKED) due "
        "WHERE d.id = due.id "
        "RETURNING d.id, d.event_id::text AS event_id, d.destination, d.part, d.stream, d.kind, "
        "d.attempts, d.body::text AS body, now() AS started_at, d.created_at",
        limit, lease_seconds, list(destinations))
    claimed = [Claimed(r["id"], r["event_id"], r["destination"], r["part"], r["stream"],
                       r["kind"], r["attempts"], json.loads(r["body"]), r["started_at"],
                       r["created_at"]) for r in rows]
    return sorted(claimed, key=lambda c: c.id)


async def record(pool: asyncpg.Pool, claimed: Claimed, outcome: str, *,
                 status_code: int | None = None, error: str | None = None,
                 retry_in: float = 0.0) -> None:
    """Record one attempt's outcome: `delivered`, `disabled`, `failed` (final) or `retried`
    (due again in `retry_in` seconds). Only the claim that holds the row's current attempt may
    change the row, so a late answer to a lease that already ran out changes nothing twice."""
    status = {"delivered": "delivered", "disabled": "disabled", "failed": "failed",
              "retried": "pending"}[outcome]
    async with pool.acquire() as conn, conn.transaction():
        # A notice delivered owes its `NoticeDelivered` event (motcua/notify/recorder.py):
        # the obligation is set in this same UPDATE, so no crash can separate the two.
        await conn.execute(
            "UPDATE deliveries SET status = $3, last_status = $4, last_error = $5, "
            "next_attempt_at = CASE WHEN $3 = 'pending' "
            "    THEN now() + make_interval(secs => $6) ELSE next_attempt_at END, "
            "finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END, "
            "event_pending = ($3 = 'delivered' AND destination = ANY($7)), "
            "event_next_at = CASE WHEN $3 = 'delivered' THEN now() END "
            "WHERE id = $1 AND attempts = $2 AND status = 'pending'",
            claimed.id, claimed.attempt, status, status_code, error, retry_in, list(NOTICES))
        await conn.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, outcome, status_code, "
            "error, started_at) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (delivery_id, attempt) DO NOTHING",
            claimed.id, claimed.attempt, outcome, status_code, error, claimed.started_at)


async def seconds_to_next_due(conn: Conn | asyncpg.Pool,
                              destinations: Sequence[str] = DESTINATIONS) -> float | None:
    """Seconds until the next claimable delivery is due (0 if one is due now; None if none).
    Rows waiting behind an earlier one of their queue do not count: they are not claimable."""
    # Not `greatest(0, ...)` in SQL: GREATEST skips NULLs, so with nothing pending it answered
    # 0 ("due now") instead of NULL, and an idle dispatcher polled in a tight loop: a third
    # of a core, and a quarter of PostgreSQL's, through every storm (issue 27).
    # The first head row in `next_attempt_at` order (the partial index `deliveries_due`), not
    # `min()` over every pending row: `min()` probed the head condition for all of them, on
    # every turn of the dispatcher's loop (one per delivery finished), so a storm of n alerts
    # cost PostgreSQL O(n^2) probes (issue 27: 52 CPU s per same-instant storm of 5,000).
    value = await conn.fetchval(
        "SELECT extract(epoch FROM p.next_attempt_at - now()) "
        f"FROM deliveries p WHERE {_HEAD} AND p.destination = ANY($1) "
        "ORDER BY p.next_attempt_at LIMIT 1", list(destinations))
    return None if value is None else max(0.0, float(value))


async def oldest_unfinished_seconds(conn: Conn | asyncpg.Pool,
                                    destination: str = WEBHOOK) -> float:
    """Age of the oldest change whose delivery to `destination` is still pending (0: none)."""
    value = await conn.fetchval(
        "SELECT extract(epoch FROM now() - min(raised_at)) FROM deliveries "
        "WHERE finished_at IS NULL AND destination = $1", destination)
    return max(0.0, float(value or 0.0))


@dataclass(frozen=True)
class Backlog:
    """One destination's state, for the metrics and the console."""

    destination: str
    pending: int
    oldest_pending_seconds: float
    failed: int


async def backlog(conn: Conn | asyncpg.Pool) -> list[Backlog]:
    """Per destination: rows pending, the oldest pending change's age, rows finally failed."""
    rows = await conn.fetch(
        "SELECT dest AS destination, "
        "  count(d.id) FILTER (WHERE d.status = 'pending') AS pending, "
        "  coalesce(extract(epoch FROM now() - min(d.raised_at) "
        "           FILTER (WHERE d.status = 'pending')), 0) AS oldest, "
        "  count(d.id) FILTER (WHERE d.status = 'failed') AS failed "
        "FROM unnest($1::text[]) dest LEFT JOIN deliveries d ON d.destination = dest "
        "GROUP BY dest ORDER BY dest", list(DESTINATIONS))
    return [Backlog(r["destination"], r["pending"], max(0.0, float(r["oldest"])), r["failed"])
            for r in rows]


@dataclass(frozen=True)
class Delivery:
    """What became of one delivery (the timeline and the documents read these)."""

    alert_event_id: str
    alert_position: int
    kind: str
    status: str
    attempts: int
    last_error: str | None
    finished_at: datetime | None
    destination: str = WEBHOOK
    part: str = ""

    @property
    def key(self) -> str:
        """The delivery's key, `NoticeDelivered.delivery_id` of its event."""
        return delivery_key(self.alert_event_id, self.destination, self.part)


def delivery_key(event_id: str, destination: str, part: str) -> str:
    """One delivery's stable key: its row's natural key `(event_id, destination, part)`."""
    return f"{event_id}:{destination}:{part}"


async def deliveries(conn: Conn | asyncpg.Pool, stream: str,
                     destinations: Sequence[str] = TIMELINE) -> list[Delivery]:
    """The deliveries of dossier `stream` to `destinations` (the webhook's alerts and the
    notices by default), in the order of the events they come from."""
    rows = await conn.fetch(
        "SELECT event_id::text AS id, position, kind, status, attempts, last_error, "
        "finished_at, destination, part FROM deliveries WHERE stream = $1 "
        "AND destination = ANY($2) ORDER BY position, id", stream, list(destinations))
    return [Delivery(r["id"], r["position"], r["kind"], r["status"], r["attempts"],
                     r["last_error"], r["finished_at"], r["destination"], r["part"])
            for r in rows]


# -- The events of delivered notices (issue 25; motcua/notify/recorder.py) ------------------

@dataclass(frozen=True)
class OwedEvent:
    """A delivered notice whose `NoticeDelivered` is not yet recorded, taken for one try."""

    id: int
    event_id: str
    destination: str
    part: str
    stream: str
    kind: str
    delivered_at: datetime
    attempt: int

    @property
    def key(self) -> str:
        return delivery_key(self.event_id, self.destination, self.part)


async def claim_events(conn: Conn | asyncpg.Pool, limit: int,
                       lease_seconds: float) -> list[OwedEvent]:
    """Take up to `limit` delivered notices whose event is owed and due, pushing each one
    lease ahead (a recorder that dies mid-way leaves it due again then), oldest first."""
    rows = await conn.fetch(
        "UPDATE deliveries d SET event_attempts = d.event_attempts + 1, "
        "event_next_at = now() + make_interval(secs => $2) "
        "FROM (SELECT id FROM deliveries WHERE event_pending AND event_next_at <= now() "
        "      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) due "
        "WHERE d.id = due.id "
        "RETURNING d.id, d.event_id::text AS event_id, d.destination, d.part, d.stream, "
        "d.kind, d.finished_at, d.event_attempts", limit, lease_seconds)
    return sorted((OwedEvent(r["id"], r["event_id"], r["destination"], r["part"], r["stream"],
                             r["kind"], r["finished_at"], r["event_attempts"]) for r in rows),
                  key=lambda o: o.id)


async def event_recorded(conn: Conn | asyncpg.Pool, owed: OwedEvent) -> None:
    """The notice's event is stored (or was already): nothing more is owed."""
    await conn.execute("UPDATE deliveries SET event_pending = false, event_error = NULL, "
                       "event_recorded_at = now() WHERE id = $1", owed.id)


async def event_failed(conn: Conn | asyncpg.Pool, owed: OwedEvent, error: str,
                       retry_in: float) -> None:
    """The event could not be recorded now: due again in `retry_in` seconds."""
    await conn.execute("UPDATE deliveries SET event_error = $2, "
                       "event_next_at = now() + make_interval(secs => $3) "
                       "WHERE id = $1 AND event_pending", owed.id, error[:1000], retry_in)


async def events_owed(conn: Conn | asyncpg.Pool) -> tuple[int, float]:
    """How many delivered notices still owe their event, and the oldest one's age (s)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(finished_at)), 0) "
        "AS oldest FROM deliveries WHERE event_pending")
    assert row is not None
    return int(row["n"]), max(0.0, float(row["oldest"]))
