"""The webhook notification activity against a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotificationActivities
from domain.contracts import NotificationRequest
from motcua.devstack.procs import free_port
from motcua.notify.webhook import SIGNATURE_HEADER, sign

SECRET = b"webhook-secret"
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 408: "Request Timeout",
           429: "Too Many Requests", 500: "Internal Server Error"}


@dataclasses.dataclass
class Received:
    """One request as the receiver saw it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A minimal HTTP/1.1 server on 127.0.0.1 that records requests and answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[Received] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Where the activity should POST."""
        return f"http://127.0.0.1:{self.port}/hooks/motcua"

    async def start(self) -> None:
        """Listen on a free port chosen by the kernel."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method, path, _ = (await reader.readline()).decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode().strip()):
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Received(method, path, headers, body))
        writer.write(f"HTTP/1.1 {self.status} {REASONS[self.status]}\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A running receiver, stopped after the test."""
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client the worker would pass to the activities."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def alert() -> NotificationRequest:
    """An overdue alert for one dossier."""
    return NotificationRequest(
        kind="overdue", code="000.21.39.H39-250408-0001", unit_code="000.21.39.H39",
        procedure_code="1.004873", alert_event_id=str(uuid.uuid4()),
        due_at=datetime(2025, 4, 10, 10, 0, tzinfo=UTC),
        raised_at=datetime(2025, 4, 10, 10, 0, 1, tzinfo=UTC), deadline_version=1)


def sample(kind: str, outcome: str) -> float:
    """The notifications counter's current value for `kind` and `outcome`."""
    value = REGISTRY.get_sample_value("motcua_notifications_total",
                                      {"kind": kind, "outcome": outcome})
    return value or 0.0


async def send(http: httpx.AsyncClient, url: str | None, request: NotificationRequest,
               secret: bytes | None = SECRET, attempt: int = 1) -> int:
    """Run the activity once in a test activity environment at the given attempt."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    result: int = await env.run(NotificationActivities(http, url, secret).send_notification,
                                request)
    return result


async def test_delivery_is_signed_and_keyed(receiver: Receiver,
                                            http: httpx.AsyncClient) -> None:
    """The POST carries the alert as JSON, a verifiable signature and the alert's event id."""
    request = alert()
    before = sample("overdue", "delivered")
    assert await send(http, receiver.url, request, attempt=3) == 3
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/hooks/motcua")
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body) == {
        "type": "motcua.overdue", "kind": "overdue", "code": request.code,
        "unit_code": "000.21.39.H39", "procedure_code": "1.004873",
        "alert_event_id": request.alert_event_id, "due_at": "2025-04-10T10:00:00+00:00",
        "raised_at": "2025-04-10T10:00:01+00:00", "deadline_version": 1}
    timestamp = got.headers["x-motcua-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert got.headers[SIGNATURE_HEADER.lower()] == sign(SECRET, timestamp, got.body)
    assert got.headers[SIGNATURE_HEADER.lower()] != sign(b"other", timestamp, got.body)
    assert got.headers["idempotency-key"] == request.alert_event_id
    assert sample("overdue", "delivered") == before + 1


async def test_unsigned_without_secret(receiver: Receiver, http: httpx.AsyncClient) -> None:
    """Without a secret the alert is still delivered, with no signature header."""
    assert await send(http, receiver.url, alert(), secret=None) == 1
    assert SIGNATURE_HEADER.lower() not in receiver.requests[0].headers


@pytest.mark.parametrize("status", [500, 408, 429])
async def test_server_errors_are_retryable(receiver: Receiver, http: httpx.AsyncClient,
                                           status: int) -> None:
    """5xx, 408 and 429 raise a retryable WebhookRejected so Temporal tries again."""
    receiver.status = status
    with pytest.raises(ApplicationError) as caught:
        await send(http, receiver.url, alert())
    assert caught.value.type == "WebhookRejected"
    assert not caught.value.non_retryable
    assert str(status) in caught.value.message


async def test_client_error_is_permanent(receiver: Receiver, http: httpx.AsyncClient) -> None:
    """A 400 raises a non-retryable error: retrying the same request cannot help."""
    receiver.status = 400
    before = sample("overdue", "failed")
    with pytest.raises(ApplicationError) as caught:
        await send(http, receiver.url, alert())
    assert caught.value.type == "WebhookRejected"
    assert caught.value.non_retryable
    assert len(receiver.requests) == 1
    assert sample("overdue", "failed") == before + 1


async def test_unreachable_is_retryable(http: httpx.AsyncClient) -> None:
    """Nothing listening at the URL raises a retryable WebhookUnreachable."""
    url = f"http://127.0.0.1:{free_port()}/hooks/motcua"
    with pytest.raises(ApplicationError) as caught:
        await send(http, url, alert())
    assert caught.value.type == "WebhookUnreachable"
    assert not caught.value.non_retryable


@pytest.mark.parametrize("url", [None, ""])
async def test_no_webhook_configured(http: httpx.AsyncClient, url: str | None) -> None:
    """With no URL configured nothing is sent and the activity returns 0."""
    before = sample("due_soon", "disabled")
    request = dataclasses.replace(alert(), kind="due_soon")
    assert await send(http, url, request) == 0
    assert sample("due_soon", "disabled") == before + 1
