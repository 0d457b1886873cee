"""The outbox's claim on the real PostgreSQL: order per dossier and destination, leases that
bring back a row whose dispatcher died, and a final failure releasing the rows behind it."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from motcua.eventstore import outbox
from tests.conftest import new_code

pytestmark = pytest.mark.engine


async def _row(pool: asyncpg.Pool, code: str, destination: str, position: int) -> int:
    row_id: int = await pool.fetchval(
        "INSERT INTO deliveries (event_id, destination, stream, position, global_position, "
        "kind, body, raised_at) VALUES ($1::uuid, $2, $3, $4, 0, 'dossier', $5::jsonb, now()) "
        "RETURNING id", str(uuid.uuid4()), destination, code, position,
        json.dumps({"n": position}))
    return row_id


async def test_a_later_change_waits_for_the_earlier_one_of_its_dossier(
        pool: asyncpg.Pool) -> None:
    """Only the head of each (dossier, destination) queue is claimed; a claim not recorded
    comes back after its lease (attempt 2) while the row behind it still waits; once the head
    is delivered the next is claimed; a final failure releases the queue too."""
    a, b = new_code(), new_code()
    a1, a2, a3 = [await _row(pool, a, "portal", n) for n in (1, 2, 3)]
    b1 = await _row(pool, b, "portal", 1)
    a_sms = await _row(pool, a, "sms", 2)
    only = ("portal", "sms")

    def mine(claimed: list[outbox.Claimed]) -> list[int]:
        return [c.id for c in claimed if c.stream in (a, b)]

    first = await outbox.claim(pool, 100, lease_seconds=0.3, destinations=only)
    assert mine(first) == [a1, b1, a_sms]  # not a2, a3: a1 is still being tried
    assert mine(await outbox.claim(pool, 100, 0.3, only)) == []  # leased
    await asyncio.sleep(0.5)  # the dispatcher "died": the leases run out
    again = await outbox.claim(pool, 100, 0.3, only)
    assert mine(again) == [a1, b1, a_sms] and {c.attempt for c in again
                                                if c.id in (a1, b1, a_sms)} == {2}
    held = {c.id: c for c in again}
    stale = {c.id: c for c in first}[a1]
    await outbox.record(pool, stale, "delivered")  # a late answer to attempt 1: row unchanged
    assert await pool.fetchval("SELECT status FROM deliveries WHERE id = $1", a1) == "pending"
    await outbox.record(pool, held[a1], "delivered")
    assert mine(await outbox.claim(pool, 100, 0.3, only)) == [a2]
    await asyncio.sleep(0.5)
    [c2] = [c for c in await outbox.claim(pool, 100, 0.3, only) if c.id == a2]
    await outbox.record(pool, c2, "failed", error="portal error -2")
    assert mine(await outbox.claim(pool, 100, 0.3, only)) == [a3]
    attempts = await pool.fetch("SELECT attempt, outcome FROM delivery_attempts "
                                "WHERE delivery_id = $1 ORDER BY attempt", a1)
    # Both attempts are on record (the late one did reach the portal: at least once).
    assert [(r["attempt"], r["outcome"]) for r in attempts] == [(1, "delivered"),
                                                                 (2, "delivered")]


async def test_nothing_pending_is_not_due_now(pool: asyncpg.Pool) -> None:
    """With no pending delivery the next due time is None (the dispatcher then sleeps its poll
    interval), not 0: PostgreSQL's GREATEST skips NULLs, and `greatest(0, NULL)` made an idle
    dispatcher poll in a tight loop. A pending row due later answers its wait; one due
    earlier answers 0."""
    # No row can have this destination (the table's CHECK): certainly nothing pending.
    assert await outbox.seconds_to_next_due(pool, ("nowhere",)) is None
    code = new_code()
    later = await _row(pool, code, "zalo", 1)
    await pool.execute("UPDATE deliveries SET next_attempt_at = now() + interval '1 hour' "
                       "WHERE id = $1", later)
    wait = await outbox.seconds_to_next_due(pool, ("zalo",))
    assert wait is not None and 0.0 <= wait <= 3600.0
    await pool.execute("UPDATE deliveries SET next_attempt_at = now() - interval '1 hour' "
                       "WHERE id = $1", later)
    assert await outbox.seconds_to_next_due(pool, ("zalo",)) == 0.0
    await pool.execute("UPDATE deliveries SET status = 'delivered' WHERE id = $1", later)

