"""The operator's webhook as a tiny loopback HTTP server that can be made to fail."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

from motcua.devstack.procs import free_port


@dataclass(frozen=True)
class Hit:
    """One POST the receiver got: when, for which alert, and what it answered."""

    at: float
    alert_id: str
    kind: str
    code: str
    status: int


@dataclass
class WebhookReceiver:
    """Answers 200 to every alert POST, or 500 while `failing` (a retryable outage)."""

    failing: bool = False
    port: int = field(default_factory=free_port)
    hits: list[Hit] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def delivered_ids(self) -> set[str]:
        """Alert ids the receiver accepted (answered 200) at least once."""
        return {h.alert_id for h in self.hits if h.status == 200}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")[1:]
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (ln.partition(":") for ln in lines if ln)}
            body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
            status = 500 if self.failing else 200
            self.hits.append(Hit(at=time.monotonic(),
                                 alert_id=headers.get("idempotency-key", ""),
                                 kind=str(body.get("kind", "")), code=str(body.get("code", "")),
                                 status=status))
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the worker gave up on this connection (killed, or timed out)
        finally:
            writer.close()
