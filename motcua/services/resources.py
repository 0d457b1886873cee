"""The process's one Temporal client and one asyncpg pool, with the settings, catalog and
calendar every service call needs (`Resources`), made in the web app's lifespan.

Neither dependency being down may stop the process from starting (it must answer `/healthz`,
and 503 with `Retry-After` elsewhere): each is connected by a background task that retries with
backoff until it succeeds. `temporal()` and `db()` answer a 503 problem while they are missing.
Injected resources (tests) are used as they are and never closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import structlog
from temporalio.client import Client

from domain.calendar import Calendar
from domain.catalog import Catalog
from motcua import runtime, temporal
from motcua.access.limiter import RateLimiter
from motcua.config import Settings
from motcua.payload_codec import Keyring, keyring_from
from motcua.problems import unavailable

log = structlog.get_logger(__name__)

# Every call to Temporal is bounded: per RPC, and overall (the SDK retries UNAVAILABLE).
RPC_TIMEOUT = timedelta(seconds=5)
CALL_TIMEOUT = 8.0
CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 2.0
_BACKOFF_MAX = 5.0


@dataclass
class Resources:
    """What every request may need; `client`/`pool` are None until connected."""

    settings: Settings
    catalog: Catalog
    calendar: Calendar
    client: Client | None = None
    pool: asyncpg.Pool | None = None
    owns_pool: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    pool_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # The citizen's lookups, per client: one budget for the public API and the lookup page.
    lookup_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.lookup_limiter = RateLimiter(per_minute=self.settings.lookup_per_minute)

    @property
    def keyring(self) -> Keyring | None:
        """The payload keys, which also seal stored idempotency responses (None: unset)."""
        keys = self.settings.payload_keys
        return keyring_from(keys.get_secret_value() if keys else None)

    def temporal(self) -> Client:
        """The client, or a 503 problem while Temporal has not been reached yet."""
        if self.client is None:
            raise unavailable("temporal", "Temporal is not reachable yet")
        return self.client

    def db(self) -> asyncpg.Pool:
        """The pool, or a 503 problem while PostgreSQL has not been reached yet."""
        if self.pool is None:
            raise unavailable("postgresql", "PostgreSQL is not reachable yet")
        return self.pool

    def start(self) -> None:
        """Start connecting whatever was not injected, in the background."""
        if self.client is None:
            self.tasks.append(asyncio.create_task(
                _keep_trying("temporal", self._connect_temporal), name="connect-temporal"))
        if self.pool is not None:
            self.pool_ready.set()
        else:
            self.tasks.append(asyncio.create_task(
                _keep_trying("postgresql", self._connect_pool), name="connect-postgresql"))

    async def close(self) -> None:
        """Stop the background tasks and close what this process opened."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.owns_pool and self.pool is not None:
            await self.pool.close()

    async def _connect_temporal(self) -> None:
        self.client = await asyncio.wait_for(temporal.connect(self.settings), CONNECT_TIMEOUT)
        log.info("temporal.connected", address=self.settings.temporal_address)

    async def _connect_pool(self) -> None:
        # One attempt per call: `_keep_trying` retries with backoff, for ever.
        pool = await runtime.create_pool(self.settings, attempts=1, command_timeout=10,
                                               reset_session=False)
        self.pool, self.owns_pool = pool, True
        self.pool_ready.set()
        log.info("postgresql.connected")


async def _keep_trying(what: str, connect: Callable[[], Awaitable[None]]) -> None:
    delay = 0.25
    while True:
        try:
            await connect()
            return
        except asyncio.CancelledError:
            raise
        except Exception as err:  # any failure to connect: log, wait, retry
            log.warning("dependency.unreachable", dependency=what,
                        error=str(err) or type(err).__name__, retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)
