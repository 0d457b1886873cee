"""The process's one Temporal client and one asyncpg pool, made in the app's lifespan.

Neither dependency being down may stop the API from starting (it must answer `/healthz`, and
503 with `Retry-After` elsewhere): each is connected by a background task that retries with
backoff until it succeeds. Handlers take them through `ClientDep` / `PoolDep`, which answer 503
while they are missing. Injected resources (tests) are used as they are and never closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import asyncpg
import structlog
from fastapi import Depends, Request
from temporalio.client import Client

from domain.calendar import Calendar
from domain.catalog import Catalog
from motcua import runtime, temporal
from motcua.api.problems import unavailable
from motcua.config import Settings

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


# The dependencies are `async def` although they never await: FastAPI runs a plain `def`
# dependency in a worker thread, three thread hand-offs per request (about 8 % of the API's
# CPU in the lifecycle profile of the 30 Nov full run, summarised in its JSON).
async def get_resources(request: Request) -> Resources:
    """The app's resources (set in its lifespan)."""
    resources: Resources = request.app.state.resources
    return resources


async def get_client(resources: Annotated[Resources, Depends(get_resources)]) -> Client:
    return resources.temporal()


async def get_pool(resources: Annotated[Resources, Depends(get_resources)]) -> asyncpg.Pool:
    return resources.db()


ResourcesDep = Annotated[Resources, Depends(get_resources)]
ClientDep = Annotated[Client, Depends(get_client)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
