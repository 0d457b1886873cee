"""Deadline alerts reach the webhook, signed; a permanent failure is recorded, never lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from motcua import dossiers
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from tests.conftest import receipt, settings_for
from tests.engine.helpers import stored_events
from worker import build_worker

pytestmark = pytest.mark.engine


class Receiver:
    """A minimal HTTP server on loopback answering every POST with `status`."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.bodies: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []
        self.port = free_port()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")[1:]
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.headers.append(headers)
        self.bodies.append(json.loads(body))
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver_factory() -> AsyncIterator[list[asyncio.Server]]:
    servers: list[asyncio.Server] = []
    yield servers
    for s in servers:
        s.close()


@pytest.mark.parametrize(("status", "event_type"), [(200, "NotificationSent"),
                                                    (400, "NotificationFailed")])
async def test_alerts_are_delivered_or_recorded_as_failed(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, receiver_factory: list[asyncio.Server],
        status: int, event_type: str) -> None:
    """Each of the three alerts is POSTed once, HMAC-signed; a 2xx is recorded as sent and a
    permanent 4xx as failed, one event per alert either way."""
    receiver = Receiver(status)
    receiver_factory.append(await asyncio.start_server(receiver.handle, "127.0.0.1",
                                                       receiver.port))
    queue = f"motcua-webhook-{status}"
    settings = settings_for(postgres, temporal_server, queue).model_copy(update={
        "webhook_url": f"http://127.0.0.1:{receiver.port}/alerts",
        "webhook_secret": SecretStr("s3cret")})
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    async with build_worker(settings, client, pool) as w, w:
        d = await dossiers.receive(skipper.client, receipt(), task_queue=queue)
        assert d.due_at is not None and d.received_at is not None
        handle = skipper.client.get_workflow_handle(d.code)
        await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(days=1))
        for _ in range(100):
            events = await stored_events(pool, d.code)
            if sum(e.event_type == event_type for e in events) == 3:
                break
            await asyncio.sleep(0.1)
    records = [e for e in events if e.event_type == event_type]
    alerts = [e for e in events if e.event_type == "DeadlineAlertRaised"]
    assert len(records) == 3 and len(alerts) == 3
    assert {r.payload["alert_event_id"] for r in records} == {a.event_id for a in alerts}
    assert sorted(b["kind"] for b in receiver.bodies) == [
        "due_soon", "overdue", "overdue_without_apology"]
    assert all(h["x-motcua-signature"].startswith("sha256=") for h in receiver.headers)
    if status == 400:
        assert all("400" in r.payload["error"] for r in records)
