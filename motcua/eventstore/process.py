"""`motcua projector`: the read-model projector as its own process."""

from __future__ import annotations

import asyncio

import structlog

from motcua.config import Settings
from motcua.eventstore import projector
from motcua.health import probes, stop_on_signals
from motcua.metrics import METRICS, run_refresher
from motcua.runtime import calendar_for, catalog_for, create_pool

log = structlog.get_logger("motcua.projector")


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Project until SIGTERM/SIGINT (or `stop`)."""
    stop = stop_on_signals(stop)
    # The counters this process moves start at 0 for every unit, so alerts see a first increase.
    METRICS.prime(catalog_for(settings).units)
    pool = await create_pool(settings)
    refresher = asyncio.create_task(run_refresher(pool))
    log.info("projector.started", metrics_port=settings.metrics_port)
    try:
        async with probes(settings.metrics_port, {"postgresql": lambda: pool.fetchval("SELECT 1")},
                          settings.metrics_host):
            await projector.run(pool, stop, tz=calendar_for(settings).tz,
                                gather=settings.projector_gather_ms / 1000)
    finally:
        refresher.cancel()
        await pool.close()
    log.info("projector.stopped")
