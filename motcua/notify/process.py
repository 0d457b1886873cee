"""`motcua dispatcher`: the notification dispatcher as its own process (like the projector)."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from motcua.config import Settings
from motcua.health import probes, stop_on_signals
from motcua.metrics import METRICS
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.runtime import create_pool

log = structlog.get_logger("motcua.notify.dispatcher")


def policy_for(settings: Settings) -> Policy:
    return Policy(concurrency=settings.notify_concurrency,
                  max_attempts=settings.notify_max_attempts,
                  initial_backoff=settings.notify_initial_backoff,
                  lease_seconds=settings.notify_lease_seconds)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Dispatch until SIGTERM/SIGINT (or `stop`); then finish the POSTs in flight."""
    stop = stop_on_signals(stop)
    METRICS.prime_notifications()  # at 0 from the start, so rate() sees the first failures
    secret = settings.webhook_secret.get_secret_value().encode() \
        if settings.webhook_secret else None
    policy = policy_for(settings)
    pool = await create_pool(settings)
    limits = httpx.Limits(max_connections=policy.concurrency)
    log.info("dispatcher.started", metrics_port=settings.metrics_port,
             webhook=bool(settings.webhook_url), concurrency=policy.concurrency)
    try:
        async with httpx.AsyncClient(limits=limits, follow_redirects=False) as http, \
                probes(settings.metrics_port, {"postgresql": lambda: pool.fetchval("SELECT 1")},
                       settings.metrics_host):
            await Dispatcher(pool, http, settings.webhook_url, secret, policy).run(stop)
    finally:
        await pool.close()
    log.info("dispatcher.stopped")
