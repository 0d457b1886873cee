"""Event-store activities: append a dossier's events, exactly once under retries."""

from __future__ import annotations

import time

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.contracts import APPEND_EVENTS, AppendRequest, AppendResult
from motcua.eventstore.store import StreamConflict, append
from motcua.metrics import EVENT_STORE_APPEND

log = structlog.get_logger(__name__)


class EventStoreActivities:
    """Holds the process's one asyncpg pool (injected, so tests can pass their own)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResult:
        """Store the events; a retry after a commit stores nothing and still succeeds."""
        started = time.perf_counter()
        try:
            async with self._pool.acquire() as conn:
                result = await append(conn, request.stream, request.events)
        except StreamConflict as err:
            # A second writer or a gap: retrying cannot fix it, and it must not pass silently.
            log.error("event_store.conflict", stream=request.stream, error=str(err))
            raise ApplicationError(str(err), type="StreamConflict", non_retryable=True) from err
        EVENT_STORE_APPEND.observe(time.perf_counter() - started)
        log.info("event_store.appended", stream=request.stream, stored=result.stored,
                 last_position=result.last_position,
                 types=[e.event_type for e in request.events])
        return result
