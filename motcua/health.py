"""`/metrics`, `/healthz` and `/readyz` for the worker and the projector, on one port.

Kubernetes probes these: `/healthz` says the process is up, `/readyz` says its dependencies
(PostgreSQL, and Temporal for the worker) answered the last check. A background task runs the
checks so a probe never waits on a dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import REGISTRY, make_wsgi_app

log = structlog.get_logger(__name__)

Check = Callable[[], Awaitable[object]]


class Readiness:
    """The latest result of each dependency check, by name."""

    def __init__(self) -> None:
        self.results: dict[str, str] = {}

    @property
    def ready(self) -> bool:
        return bool(self.results) and all(v == "ok" for v in self.results.values())

    async def run(self, checks: Mapping[str, Check], interval: float = 5.0) -> None:
        """Check forever; cancel the task to stop."""
        while True:
            for name, check in checks.items():
                try:
                    await asyncio.wait_for(check(), timeout=interval)
                    self.results[name] = "ok"
                except Exception as err:
                    self.results[name] = f"unavailable: {type(err).__name__}"
            await asyncio.sleep(interval)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds are not worth a log line."""


def serve(port: int, readiness: Readiness) -> None:
    """Serve metrics and probes on `port` in a daemon thread."""
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            start("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/readyz":
            status = "200 OK" if readiness.ready else "503 Service Unavailable"
            body = "".join(f"{k}: {v}\n" for k, v in sorted(readiness.results.items()))
            start(status, [("Content-Type", "text/plain")])
            return [body.encode() or b"starting\n"]
        return metrics(environ, start)  # type: ignore[no-any-return]

    server = make_server("0.0.0.0", port, app, server_class=_Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="motcua-metrics", daemon=True).start()
    log.info("metrics.serving", port=port)


@contextlib.asynccontextmanager
async def probes(port: int, checks: Mapping[str, Check]) -> Any:
    """Serve probes and metrics while the block runs (no-op when `port` is 0)."""
    if not port:
        yield None
        return
    readiness = Readiness()
    serve(port, readiness)
    task = asyncio.create_task(readiness.run(checks))
    try:
        yield readiness
    finally:
        task.cancel()


def stop_on_signals(stop: asyncio.Event | None = None) -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (the graceful-shutdown trigger of every process)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
