"""The dispatcher: deliveries from the event store to their destinations (the operator's
webhook, the national portal, SMS, Zalo, e-mail; issue 25), each through its adapter
(`motcua.notify.delivery.Adapter`), with a retry policy per destination.

A side effect need not cost the workflow an activity, a second workflow task and a second
append per alert: the workflow stores the alert event and is done; this process reads alerts in
commit order (`motcua.eventstore.outbox`), POSTs them concurrently, retries with exponential
backoff and records every attempt and the final outcome in `deliveries` / `delivery_attempts`
(migration 0012; order per dossier and destination is the outbox's claim). Delivery is at
least once: a crash between the POST and the record repeats the POST after the lease. Each
request carries the alert's event id (header `X-Motcua-Event-Id`, also `Idempotency-Key`, and
`event_id` in the body), so a receiver keeps the first and drops repeats. Webhook bodies are
HMAC-signed like the workflow's activity signed them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import structlog

from motcua.eventstore import outbox
from motcua.eventstore.store import NOTIFY_CHANNEL, Conn
from motcua.metrics import (
    DELIVERIES,
    DELIVERIES_FAILED,
    DELIVERY_BACKLOG,
    DELIVERY_OLDEST_PENDING,
    NOTICE_EVENTS_OWED,
    NOTIFICATIONS,
    NOTIFICATIONS_UNDELIVERED,
)
from motcua.notify import webhook
from motcua.notify.delivery import Adapter, Sent
from motcua.notify.recorder import NoticeRecorder

log = structlog.get_logger(__name__)

EVENT_ID_HEADER = "X-Motcua-Event-Id"
ATTEMPT_HEADER = "X-Motcua-Attempt"


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Retries, concurrency and timing. The defaults match the workflow activity's former
    retry policy (1 s doubling to 60 s, 10 attempts), which the webhook keeps; the portal and
    the notices retry for as long as `give_up_after` (seconds since the change was queued)
    allows instead (`retry_policy`). Concurrency, lease and poll come from the webhook's
    policy, the dispatcher's own."""

    initial_backoff: float = 1.0
    backoff_coefficient: float = 2.0
    max_backoff: float = 60.0
    max_attempts: int | None = 10
    give_up_after: float | None = None
    concurrency: int = 32  # POSTs in flight at once
    lease_seconds: float = 60.0  # longer than a POST can take (timeout below)
    timeout: float = 10.0  # per POST
    poll_interval: float = 1.0  # fallback when no NOTIFY arrives
    # Woken by a NOTIFY (one per committed append), wait this long so that the events of the
    # next few milliseconds are ingested in one batch, as the projector does
    # (`MOTCUA_PROJECTOR_GATHER_MS`): woken per event, the dispatcher made four queries per
    # append under the lifecycle load, a quarter of a core (issue 27 item 4). Deliveries start
    # that much later.
    gather: float = 0.05
    # The backlog gauges are read at most this often (they are scraped every 15 s or so).
    gauge_interval: float = 1.0

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt `attempt` (1, 2, ...)."""
        return min(self.max_backoff, self.initial_backoff * self.backoff_coefficient
                   ** min(attempt - 1, 64))

    def gives_up(self, attempt: int, queued_for: float) -> bool:
        """Whether a retryable failure at `attempt`, `queued_for` seconds after the change was
        queued, is final."""
        return (self.max_attempts is not None and attempt >= self.max_attempts) or (
            self.give_up_after is not None and queued_for >= self.give_up_after)


def retry_policy(*, retry_hours: float, max_backoff: float = 1800.0,
                 initial_backoff: float = 5.0) -> Policy:
    """The policy of the portal and the notices: capped exponential backoff, no attempt
    limit, final only once the change has waited `retry_hours` (a portal down for a day
    loses nothing)."""
    return Policy(initial_backoff=initial_backoff, max_backoff=max_backoff, max_attempts=None,
                  give_up_after=retry_hours * 3600.0)


class WebhookAdapter:
    """The operator's webhook: deadline alerts, signed, keyed by the alert's event id."""

    def __init__(self, http: httpx.AsyncClient, url: str | None, secret: bytes | None,
                 timeout: float) -> None:
        self._http = http
        self._url = url
        self._secret = secret
        self._timeout = timeout

    async def send(self, c: outbox.Claimed) -> Sent:
        """One POST (`motcua.notify.webhook`: its signature and the classing of its answer)."""
        if not self._url:
            return Sent("disabled")
        return await webhook.post(self._http, self._url, kind=c.kind, alert=c.body,
                                  event_id=c.alert_event_id, secret=self._secret,
                                  headers={EVENT_ID_HEADER: c.alert_event_id,
                                           ATTEMPT_HEADER: str(c.attempt)},
                                  request_timeout=self._timeout)


class Dispatcher:
    """`url`/`secret`/`policy` are the webhook's (the first destination); `adapters` and
    `policies` add the others, `routers` say which events become which deliveries. Only the
    destinations with an adapter are claimed: rows for one not configured in this process
    wait (and show in the backlog) rather than being dropped."""

    def __init__(self, pool: asyncpg.Pool, http: httpx.AsyncClient, url: str | None,
                 secret: bytes | None, policy: Policy | None = None, *,
                 adapters: Mapping[str, Adapter] | None = None,
                 policies: Mapping[str, Policy] | None = None,
                 routers: Sequence[outbox.Router] = (outbox.alerts_router,),
                 recorder: NoticeRecorder | None = None) -> None:
        self._pool = pool
        # Records each delivered notice as an event on its dossier (issue 25;
        # motcua/notify/recorder.py); None: the rows keep their mark until a dispatcher
        # with a Temporal client records them.
        self._recorder = recorder
        self._sweep: asyncio.Task[int] | None = None
        self.policy = policy or Policy()
        self._adapters: dict[str, Adapter] = {
            outbox.WEBHOOK: WebhookAdapter(http, url, secret, self.policy.timeout),
            **(adapters or {})}
        self._policies = {outbox.WEBHOOK: self.policy, **(policies or {})}
        self._routers = tuple(routers)
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._new_events = False  # a NOTIFY came since the last ingest
        self._gauged_at = float("-inf")  # loop time of the last backlog read

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
                            if self._new_events and self.policy.gather > 0:
                                with contextlib.suppress(TimeoutError):
                                    await asyncio.wait_for(stop.wait(),
                                                           timeout=self.policy.gather)
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
        if self._sweep is not None:
            await asyncio.gather(self._sweep, return_exceptions=True)

    async def step(self) -> int:
        """Ingest the new events and start as many due deliveries as there is room for;
        returns how many were started."""
        self._wake.clear()
        self._new_events = False
        async with self._pool.acquire() as conn:
            await outbox.ingest(conn, self._routers)
            now = asyncio.get_running_loop().time()
            if now - self._gauged_at >= self.policy.gauge_interval:
                self._gauged_at = now
                await self._gauge(conn)
        if self._recorder is not None and (self._sweep is None or self._sweep.done()):
            # One sweep at a time, beside the deliveries (a Temporal update per event).
            self._sweep = asyncio.create_task(self._recorder.sweep())
            self._sweep.add_done_callback(self._swept)
        room = self.policy.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        claimed = await outbox.claim(self._pool, room, self.policy.lease_seconds,
                                     tuple(self._adapters))
        for c in claimed:
            task = asyncio.create_task(self._deliver(c))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    async def _gauge(self, conn: Conn) -> None:
        """The backlog gauges (from the table, so they are right with several dispatchers)."""
        for b in await outbox.backlog(conn):
            DELIVERY_BACKLOG.labels(b.destination).set(b.pending)
            DELIVERY_OLDEST_PENDING.labels(b.destination).set(b.oldest_pending_seconds)
            DELIVERIES_FAILED.labels(b.destination).set(b.failed)
            if b.destination == outbox.WEBHOOK:
                NOTIFICATIONS_UNDELIVERED.set(b.oldest_pending_seconds)
        _owed, oldest = await outbox.events_owed(conn)
        NOTICE_EVENTS_OWED.set(oldest)

    def _swept(self, task: asyncio.Task[int]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            # The database went away mid-sweep: the leases bring the rows back.
            log.warning("dispatcher.sweep_failed", error=str(task.exception()))
        elif task.result():
            self._wake.set()  # a full batch may have more behind it

    def _notified(self, *_args: object) -> None:
        self._new_events = True
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
            due = await outbox.seconds_to_next_due(self._pool, tuple(self._adapters))
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
        adapter = self._adapters.get(c.destination)
        sent = await adapter.send(c) if adapter is not None else Sent("disabled")
        outcome, error = sent.outcome, sent.error
        policy = self._policies.get(c.destination, self.policy)
        retry_in = 0.0
        queued_for = (datetime.now(UTC) - c.created_at).total_seconds()
        if outcome == "retried" and policy.gives_up(c.attempt, queued_for):
            outcome, error = "failed", f"{error} (after {c.attempt} attempts)"
        elif outcome == "retried":
            retry_in = policy.backoff(c.attempt)
        await outbox.record(self._pool, c, outcome, status_code=sent.status_code, error=error,
                            retry_in=retry_in)
        # Counted once recorded.
        DELIVERIES.labels(c.destination, outcome).inc()
        if c.destination == outbox.WEBHOOK:
            NOTIFICATIONS.labels(kind=c.kind, outcome=outcome).inc()
        log.info("delivery." + outcome, destination=c.destination, part=c.part, kind=c.kind,
                 event_id=c.event_id, code=c.stream, attempt=c.attempt,
                 status=sent.status_code, error=error)
