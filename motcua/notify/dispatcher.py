"""The notification dispatcher: deadline alerts from the event store to the operator's webhook.

A side effect need not cost the workflow an activity, a second workflow task and a second
append per alert: the workflow stores the alert event and is done; this process reads alerts in
commit order (`motcua.eventstore.outbox`), POSTs them concurrently, retries with exponential
backoff and records every attempt and the final outcome in `notification_deliveries` /
`notification_attempts`. Delivery is at least once: a crash between the POST and the record
repeats the POST after the lease. Each request carries the alert's event id (header
`X-Motcua-Event-Id`, also `Idempotency-Key`, and `event_id` in the body), so a receiver keeps
the first and drops repeats. The POST and the classing of its answer are `motcua.notify.webhook`,
shared with the workflow's notification activity.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg
import httpx
import structlog

from motcua.eventstore import outbox
from motcua.eventstore.store import NOTIFY_CHANNEL
from motcua.metrics import NOTIFICATIONS, NOTIFICATIONS_UNDELIVERED
from motcua.notify import webhook

log = structlog.get_logger(__name__)

EVENT_ID_HEADER = "X-Motcua-Event-Id"
ATTEMPT_HEADER = "X-Motcua-Attempt"


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Retries, concurrency and timing. The defaults match the workflow activity's former
    retry policy (1 s doubling to 60 s, 10 attempts)."""

    initial_backoff: float = 1.0
    backoff_coefficient: float = 2.0
    max_backoff: float = 60.0
    max_attempts: int = 10
    concurrency: int = 32  # POSTs in flight at once
    lease_seconds: float = 60.0  # longer than a POST can take (timeout below)
    timeout: float = 10.0  # per POST
    poll_interval: float = 1.0  # fallback when no NOTIFY arrives

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt` (1, 2, ...)."""
        return min(self.max_backoff, self.initial_backoff * self.backoff_coefficient
                   ** (attempt - 1))


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, http: httpx.AsyncClient, url: str | None,
                 secret: bytes | None, policy: Policy | None = None) -> None:
        self._pool = pool
        self._http = http
        self._url = url
        self._secret = secret
        self.policy = policy or Policy()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Ingest and deliver until `stop` is set, then let the POSTs in flight finish and
        record them. Rides out a database outage like the projector does."""
        while not stop.is_set():
            try:
                async with self._pool.acquire() as listener:
                    await listener.add_listener(NOTIFY_CHANNEL, self._notified)
                    try:
                        while not stop.is_set() and not listener.is_closed():
                            await self.step()
                            await self._sleep(stop)
                    finally:
                        if not listener.is_closed():
                            await listener.remove_listener(NOTIFY_CHANNEL, self._notified)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                log.warning("dispatcher.database_unavailable", error=str(err))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.policy.poll_interval)
        await self.drain()

    async def drain(self) -> None:
        """Wait for the deliveries in flight (each bounded by the POST timeout)."""
        if self._inflight:
            log.info("dispatcher.draining", in_flight=len(self._inflight))
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def step(self) -> int:
        """Ingest the new alerts and start as many due deliveries as there is room for;
        returns how many were started."""
        self._wake.clear()
        async with self._pool.acquire() as conn:
            await outbox.ingest(conn)
            NOTIFICATIONS_UNDELIVERED.set(await outbox.oldest_unfinished_seconds(conn))
        room = self.policy.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        claimed = await outbox.claim(self._pool, room, self.policy.lease_seconds)
        for c in claimed:
            task = asyncio.create_task(self._deliver(c))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # room for one more
        if not task.cancelled() and task.exception() is not None:
            # The outcome could not be recorded (database gone): the lease brings it back.
            log.warning("dispatcher.record_failed", error=str(task.exception()))

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until a NOTIFY, a finished delivery, the next due retry or the poll interval."""
        timeout = self.policy.poll_interval
        if len(self._inflight) < self.policy.concurrency:
            due = await outbox.seconds_to_next_due(self._pool)
            if due is not None:
                timeout = min(timeout, due)
        if timeout <= 0 or self._wake.is_set():
            return
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _deliver(self, c: outbox.Claimed) -> None:
        outcome, status_code, error = await self._post(c)
        retry_in = 0.0
        if outcome == "retried" and c.attempt >= self.policy.max_attempts:
            outcome, error = "failed", f"{error} (after {c.attempt} attempts)"
        elif outcome == "retried":
            retry_in = self.policy.backoff(c.attempt)
        await outbox.record(self._pool, c, outcome, status_code=status_code, error=error,
                            retry_in=retry_in)
        NOTIFICATIONS.labels(kind=c.kind, outcome=outcome).inc()  # once recorded
        log.info("notification." + outcome, kind=c.kind, alert_event_id=c.alert_event_id,
                 code=c.body.get("code"), attempt=c.attempt, status=status_code, error=error)

    async def _post(self, c: outbox.Claimed) -> tuple[str, int | None, str | None]:
        """One POST (`motcua.notify.webhook`): (outcome, HTTP status, error)."""
        if not self._url:
            return "disabled", None, None
        sent = await webhook.post(self._http, self._url, kind=c.kind, alert=c.body,
                                  event_id=c.alert_event_id, secret=self._secret,
                                  headers={EVENT_ID_HEADER: c.alert_event_id,
                                           ATTEMPT_HEADER: str(c.attempt)},
                                  request_timeout=self.policy.timeout)
        return sent.outcome, sent.status_code, sent.error
