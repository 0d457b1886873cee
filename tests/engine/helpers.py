"""Assertions over the real event store shared by the engine tests."""

from __future__ import annotations

import asyncpg

from domain.dossier import Dossier, fold
from domain.envelope import EventEnvelope
from motcua.eventstore.store import read_stream


async def stored_events(pool: asyncpg.Pool, code: str) -> list[EventEnvelope]:
    return await read_stream(pool, code)


async def assert_stream_sound(pool: asyncpg.Pool, code: str, state: Dossier) -> list[str]:
    """Positions are 1..n with no gap or duplicate, ids are unique, and folding the stored
    events gives exactly the workflow's state. Returns the event types in order."""
    events = await read_stream(pool, code)
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert len({e.event_id for e in events}) == len(events)
    folded = fold([e.event for e in events])
    assert folded == state
    return [e.event_type for e in events]
