"""The notification outbox's tables (migration 0009): alerts read from the event store in commit
order become delivery rows; the dispatcher claims due rows and records each attempt's outcome.

Only alerts whose envelope says `delivery: outbox` are taken: the workflow marks them so from
the `notify-outbox-v1` patch on. Alerts of histories from before it are still notified by the
workflow's own activity, so no alert is delivered by both paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from motcua.eventstore import projector
from motcua.eventstore.store import Conn

NAME = "notifications"  # the dispatcher's row in projection_checkpoints
ALERT = "DeadlineAlertRaised"
DELIVERY_KEY, OUTBOX = "delivery", "outbox"  # the envelope metadata that routes an alert here
BATCH = 500

# Every committed event after the checkpoint (so the checkpoint moves past the rest too), with
# the alert's payload and its dossier's unit and procedure (from the receipt, position 1) for
# the alerts the dispatcher owns.
_FETCH = f"""
SELECT e.tx_id::text AS tx_text, e.global_position, e.recorded_at, e.stream, e.position,
       e.event_id::text AS event_id, r.alert, r.receipt ->> 'unit_code' AS unit_code,
       r.receipt ->> 'procedure_code' AS procedure_code
FROM events e
LEFT JOIN LATERAL (
    SELECT e.payload::text AS alert, receipt.payload AS receipt FROM events receipt
    WHERE e.event_type = '{ALERT}' AND e.metadata ->> '{DELIVERY_KEY}' = '{OUTBOX}'
      AND receipt.stream = e.stream AND receipt.position = 1) r ON true
WHERE {projector.COMMITTED_AFTER}
ORDER BY e.tx_id, e.global_position
LIMIT $3
"""

_INSERT = """
INSERT INTO notification_deliveries (alert_event_id, stream, alert_position, global_position,
    kind, unit_code, body, raised_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[],
                     $7::jsonb[], $8::timestamptz[])
ON CONFLICT (alert_event_id) DO NOTHING
"""


async def ingest_batch(conn: Conn, limit: int = BATCH) -> int:
    """Turn the next committed alerts into pending deliveries and move the checkpoint, in one
    transaction (a crash replays the batch; the alert id keeps each row once). Returns how many
    events were read (0: caught up)."""
    async with conn.transaction():
        cp = await projector.checkpoint(conn, NAME)
        rows = await conn.fetch(_FETCH, cp["tx_text"], cp["global_position"], limit)
        if not rows:
            return 0
        alerts = [r for r in rows if r["alert"] is not None]
        if alerts:
            bodies = [_body(r) for r in alerts]
            await conn.execute(
                _INSERT, [r["event_id"] for r in alerts], [r["stream"] for r in alerts],
                [r["position"] for r in alerts], [r["global_position"] for r in alerts],
                [b["kind"] for b in bodies], [r["unit_code"] for r in alerts],
                [json.dumps(b, ensure_ascii=False) for b in bodies],
                [r["recorded_at"] for r in alerts])
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


async def ingest(conn: Conn) -> int:
    """Ingest until no committed event is left; returns how many events were read."""
    total = 0
    while read := await ingest_batch(conn):
        total += read
    return total


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt (`attempt` counts from 1)."""

    alert_event_id: str
    kind: str
    attempt: int
    body: dict[str, object]
    started_at: datetime


async def claim(conn: Conn | asyncpg.Pool, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due deliveries: count the attempt and push the row one lease ahead,
    so that if this process dies before recording the outcome the row is due again then."""
    rows = await conn.fetch(
        "UPDATE notification_deliveries d SET attempts = d.attempts + 1, "
        "next_attempt_at = now() + make_interval(secs => $2) "
        "FROM (SELECT alert_event_id FROM notification_deliveries "
        "      WHERE status = 'pending' AND next_attempt_at <= now() "
        "      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due "
        "WHERE d.alert_event_id = due.alert_event_id "
        "RETURNING d.alert_event_id::text AS id, d.kind, d.attempts, d.body::text AS body, "
        "now() AS started_at", limit, lease_seconds)
    return [Claimed(r["id"], r["kind"], r["attempts"], json.loads(r["body"]), r["started_at"])
            for r in rows]


async def record(pool: asyncpg.Pool, claimed: Claimed, outcome: str, *,
                 status_code: int | None = None, error: str | None = None,
                 retry_in: float = 0.0) -> None:
    """Record one attempt's outcome: `delivered`, `disabled`, `failed` (final) or `retried`
    (due again in `retry_in` seconds). Only the claim that holds the row's current attempt may
    change the row, so a late answer to a lease that already ran out changes nothing twice."""
    status = {"delivered": "delivered", "disabled": "disabled", "failed": "failed",
              "retried": "pending"}[outcome]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE notification_deliveries SET status = $3, last_status = $4, last_error = $5, "
            "next_attempt_at = CASE WHEN $3 = 'pending' "
            "    THEN now() + make_interval(secs => $6) ELSE next_attempt_at END, "
            "finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END "
            "WHERE alert_event_id = $1::uuid AND attempts = $2 AND status = 'pending'",
            claimed.alert_event_id, claimed.attempt, status, status_code, error, retry_in)
        await conn.execute(
            "INSERT INTO notification_attempts (alert_event_id, attempt, outcome, status_code, "
            "error, started_at) VALUES ($1::uuid, $2, $3, $4, $5, $6) "
            "ON CONFLICT (alert_event_id, attempt) DO NOTHING",
            claimed.alert_event_id, claimed.attempt, outcome, status_code, error,
            claimed.started_at)


async def seconds_to_next_due(conn: Conn | asyncpg.Pool) -> float | None:
    """Seconds until the next pending delivery is due (0 if one is due now; None if none)."""
    value = await conn.fetchval(
        "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now())) "
        "FROM notification_deliveries WHERE status = 'pending'")
    return None if value is None else float(value)


async def oldest_unfinished_seconds(conn: Conn | asyncpg.Pool) -> float:
    """Age of the oldest alert whose delivery is still pending (0 when none)."""
    value = await conn.fetchval(
        "SELECT extract(epoch FROM now() - min(raised_at)) FROM notification_deliveries "
        "WHERE finished_at IS NULL")
    return max(0.0, float(value or 0.0))


@dataclass(frozen=True)
class Delivery:
    """What became of one alert's notification (the timeline and the documents read these)."""

    alert_event_id: str
    alert_position: int
    kind: str
    status: str
    attempts: int
    last_error: str | None
    finished_at: datetime | None


async def deliveries(conn: Conn | asyncpg.Pool, stream: str) -> list[Delivery]:
    """The notifications of dossier `stream`'s alerts, in the alerts' order."""
    rows = await conn.fetch(
        "SELECT alert_event_id::text AS id, alert_position, kind, status, attempts, last_error, "
        "finished_at FROM notification_deliveries WHERE stream = $1 ORDER BY alert_position",
        stream)
    return [Delivery(r["id"], r["alert_position"], r["kind"], r["status"], r["attempts"],
                     r["last_error"], r["finished_at"]) for r in rows]
