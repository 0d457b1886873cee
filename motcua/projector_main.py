"""`motcua projector`: the read-model projector as its own process."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from motcua.config import Settings
from motcua.eventstore import projector
from worker import create_pool

log = structlog.get_logger("motcua.projector")


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Project until SIGTERM/SIGINT (or `stop`)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings)
    log.info("projector.started")
    try:
        await projector.run(pool, stop)
    finally:
        await pool.close()
    log.info("projector.stopped")
