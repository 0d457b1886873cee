"""The worker's and projector's probe endpoints tell the truth about their dependencies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from motcua.devstack.procs import free_port
from motcua.health import Readiness, serve


async def _failing() -> None:
    raise ConnectionRefusedError("database down")


async def _ok() -> int:
    return 1


async def _once(http: httpx.AsyncClient, url: str,
                sign: Callable[[httpx.Response], bool], within: float = 10.0) -> httpx.Response:
    """GET `url` until the answer shows `sign` (the checks have run), at most `within` s."""
    deadline = time.monotonic() + within
    while True:
        answer = await http.get(url)
        if sign(answer) or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.01)


async def test_readyz_follows_the_checks() -> None:
    """/healthz is 200 always; /readyz is 503 while a check fails and 200 once all pass;
    /metrics serves the motcua metrics."""
    port = free_port()
    readiness = Readiness()
    serve(port, readiness)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/healthz")).status_code == 200
        assert (await http.get(f"{base}/readyz")).status_code == 503  # no check yet
        task = asyncio.create_task(readiness.run({"postgresql": _failing}, interval=0.05))
        down = await _once(http, f"{base}/readyz", lambda r: "ConnectionRefusedError" in r.text)
        assert down.status_code == 503
        task.cancel()
        task = asyncio.create_task(readiness.run({"postgresql": _ok}, interval=0.05))
        up = await _once(http, f"{base}/readyz", lambda r: r.status_code != 503)
        assert up.status_code == 200
        task.cancel()
        assert "motcua_event_store_append_seconds" in (await http.get(f"{base}/metrics")).text
