"""Each citizen's notice delivered becomes a `NoticeDelivered` event on its dossier (issue 25
item 2), exactly once, and none is lost if the dispatcher dies on the way.

Why not appended by the dispatcher itself: the dossier's workflow chooses every position of
its stream (docs/decisions.md), so an outside append would take the position it writes next
and stop the dossier with a `StreamConflict`. So:

- while the workflow runs, the event goes through it: the `record_notice` update (patch
  `notice-delivered-v1`), which appends through the same local activity as every other event;
- once it has ended (Temporal knows no running workflow: a refusal's or a stop's notice is
  often delivered after that), through the path complaints after the end use
  (`motcua.services.after_end`: decided on the stored stream, appended at the next position
  with the store's optimistic concurrency).

Exactly once: the delivery's key (`<source event id>:<channel>:<kind>`) is the event's
`delivery_id`; the domain records a key once (`decide._record_notice`), and the Temporal
update id is derived from it. Nothing lost: the outbox marks the row `event_pending` in the
same UPDATE that records it delivered (`outbox.record`); this module claims such rows with a
lease, records their events and clears the mark; a failure (Temporal down, a conflict that
kept coming back) is retried with capped backoff, the error kept on the row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from temporalio.client import Client

from domain import commands as cmd
from motcua.eventstore import outbox
from motcua.problems import Problem
from motcua.services import after_end, engine
from workflows import Acted

log = structlog.get_logger(__name__)

ACTOR = "dispatcher"


def command_for(owed: outbox.OwedEvent) -> cmd.RecordNoticeDelivery:
    """The command that records `owed`: its key, channel and kind, and when it was delivered;
    no address, no text."""
    return cmd.RecordNoticeDelivery(
        delivery_id=owed.key, source_event_id=owed.event_id, kind=owed.kind,
        channel=owed.destination, delivered_at=owed.delivered_at, actor=ACTOR)


async def record_notice(client: Client, pool: asyncpg.Pool, code: str,
                        command: cmd.RecordNoticeDelivery) -> Acted:
    """Record `command` on dossier `code`: through its running workflow, or beside the
    ended one. Raises `Problem` (refused, or Temporal unavailable)."""
    try:
        # Temporal drops a repeat of the same update id; the domain, of the same delivery.
        return await engine.act(client, code, "record-notice", command,
                                update_id=f"notice:{command.delivery_id}")
    except engine.WorkflowNotFound:
        return await after_end.record(pool, code, command)


class NoticeRecorder:
    """Records the owed events: `sweep` takes up to `batch` due rows and records them
    concurrently (different dossiers do not wait for each other; one dossier's are
    serialised by its workflow, or by the store's concurrency check after the end)."""

    def __init__(self, pool: asyncpg.Pool, client: Client | Callable[[], Awaitable[Client]], *,
                 batch: int = 32, lease_seconds: float = 60.0, initial_backoff: float = 1.0,
                 max_backoff: float = 300.0) -> None:
        self._pool = pool
        # A client, or how to connect one when first needed (the dispatcher process starts,
        # and delivers, while Temporal is still unreachable).
        self._client: Client | None = client if isinstance(client, Client) else None
        self._connect = None if isinstance(client, Client) else client
        self._connect_after = 0.0  # monotonic time before which no new connection is tried
        self._batch = batch
        self._lease = lease_seconds
        self._initial = initial_backoff
        self._max = max_backoff

    def backoff(self, attempt: int) -> float:
        """The wait after failed try `attempt` (1, 2, ...): doubling, capped."""
        return min(self._max, self._initial * 2.0 ** min(attempt - 1, 32))

    async def sweep(self) -> int:
        """Record the due owed events; returns how many were taken (none while Temporal
        cannot be reached: the rows wait, marked)."""
        client = await self._ready()
        if client is None:
            return 0
        owed = await outbox.claim_events(self._pool, self._batch, self._lease)
        if owed:
            await asyncio.gather(*(self._record(client, o) for o in owed))
        return len(owed)

    async def _ready(self) -> Client | None:
        if self._client is None and self._connect is not None \
                and time.monotonic() >= self._connect_after:
            try:
                self._client = await self._connect()
            except Exception as err:
                self._connect_after = time.monotonic() + 5.0  # not on every poll
                log.warning("notice.temporal_unavailable", error=str(err))
        return self._client

    async def _record(self, client: Client, owed: outbox.OwedEvent) -> None:
        try:
            acted = await record_notice(client, self._pool, owed.stream, command_for(owed))
        except Problem as err:
            await self._failed(owed, f"{err.kind.title}: {err.detail}")
            return
        except Exception as err:  # any other failure: kept on the row and retried
            await self._failed(owed, f"{type(err).__name__}: {err}")
            return
        await outbox.event_recorded(self._pool, owed)
        log.info("notice.recorded", code=owed.stream, kind=owed.kind, channel=owed.destination,
                 stored=len(acted.appended))

    async def _failed(self, owed: outbox.OwedEvent, error: str) -> None:
        retry_in = self.backoff(owed.attempt)
        log.warning("notice.record_failed", code=owed.stream, kind=owed.kind,
                    channel=owed.destination, attempt=owed.attempt, error=error,
                    retry_in=retry_in)
        await outbox.event_failed(self._pool, owed, error, retry_in)
