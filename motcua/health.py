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


class Unreachable(Exception):
    """Raised by a check with its own reason for failing (e.g. "not connected yet")."""


async def probe(check: Check, limit: float) -> str:
    """One check's result: "ok", or "unreachable: <reason>" (the check's own reason, or the
    error's type), within `limit` seconds. A check answering False (Temporal's health check) is
    "not serving"."""
    try:
        answer = await asyncio.wait_for(check(), timeout=limit)
    except Unreachable as err:
        return f"unreachable: {err}"
    except Exception as err:  # any failure means not ready; its type is the reason shown
        return f"unreachable: {type(err).__name__}"
    return "unreachable: not serving" if answer is False else "ok"


async def probe_all(checks: Mapping[str, Check], limit: float) -> dict[str, str]:
    """Every check's result, by name, the checks run concurrently."""
    names = list(checks)
    results = await asyncio.gather(*(probe(checks[n], limit) for n in names))
    return dict(zip(names, results, strict=True))


class Readiness:
    """The latest result of each dependency check, by name (the worker's and projector's
    `/readyz`; the API's `/readyz` runs the same `probe_all` on demand)."""

    def __init__(self) -> None:
        self.results: dict[str, str] = {}

    @property
    def ready(self) -> bool:
        return bool(self.results) and all(v == "ok" for v in self.results.values())

    async def run(self, checks: Mapping[str, Check], interval: float = 5.0) -> None:
        """Check forever; cancel the task to stop."""
        while True:
            self.results.update(await probe_all(checks, limit=interval))
            await asyncio.sleep(interval)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds are not worth a log line."""


class PortTaken(RuntimeError):
    """The metrics port is in use: a one-line reason for the log, no traceback."""


def serve(port: int, readiness: Readiness, host: str = "0.0.0.0") -> None:
    """Serve metrics and probes on `host:port` in a daemon thread (every interface by default,
    for Prometheus in a cluster; `MOTCUA_METRICS_HOST=127.0.0.1` on the dev stack)."""
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

    try:
        server = make_server(host, port, app, server_class=_Server,
                             handler_class=_QuietHandler)
    except OSError as err:
        log.error("metrics.port_taken", host=host, port=port, error=err.strerror or str(err))
        raise PortTaken(f"cannot serve metrics on {host}:{port}: {err.strerror or err}"
                        ) from None
    threading.Thread(target=server.serve_forever, name="motcua-metrics", daemon=True).start()
    log.info("metrics.serving", host=host, port=port)


@contextlib.asynccontextmanager
async def probes(port: int, checks: Mapping[str, Check], host: str = "0.0.0.0") -> Any:
    """Serve probes and metrics on `host:port` while the block runs (no-op when `port` is 0)."""
    if not port:
        yield None
        return
    readiness = Readiness()
    serve(port, readiness, host)
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
