"""The benchmarks' light HTTP client and the storm's watchers, against small servers on loopback
(no stack): what they parse is what the numbers are made of."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from bench.client import Api, ApiError
from bench.storm_watch import Seen, WebhookReceiver, after_last_timer, overdue_in_gauge

REPLAY = Path(__file__).resolve().parent / "replay" / "histories"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = next((int(line.split(":")[1]) for line in head.split("\r\n")
                   if line.lower().startswith("content-length:")), 0)
    return head, await reader.readexactly(length)


@pytest.fixture
async def server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(srv)
        return f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"

    yield start
    for srv in servers:
        srv.close()


async def test_keeps_the_connection_and_reads_json(
        server: Callable[[Handler], Awaitable[str]]) -> None:
    """Three requests go over one connection; the body, headers and query reach the server
    and the JSON answer comes back whole."""
    connections, seen = 0, []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with pytest.raises(asyncio.IncompleteReadError):
            while True:
                head, body = await _request(reader)
                seen.append(head)
                out = json.dumps({"line": head.split("\r\n")[0], "body": body.decode()}).encode()
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
                await writer.drain()

    async with Api(await server(echo), headers={"Authorization": "Bearer t"}) as api:
        first = await api.post("/v1/dossiers", json={"name": "Nguyễn"})
        await api.get("/v1/dossiers", params={"sla": ["on_track", "due_soon"], "limit": 2})
        third = await api.post("/x", json={})
    assert connections == 1
    assert first.status_code == 201 and first.is_success
    assert first.json() == {"line": "POST /v1/dossiers HTTP/1.1", "body": '{"name": "Nguyễn"}'}
    assert seen[1].startswith("GET /v1/dossiers?sla=on_track&sla=due_soon&limit=2 HTTP/1.1")
    assert "Authorization: Bearer t" in seen[0]
    assert third.json()["body"] == "{}"


async def test_chunked_answers_and_a_closed_idle_connection(
        server: Callable[[Handler], Awaitable[str]]) -> None:
    """A chunked body is joined; when the server closed the kept-alive connection, the next
    request goes over a new one instead of failing."""
    async def chunked_then_close(reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()  # as uvicorn does with an idle keep-alive connection

    async with Api(await server(chunked_then_close)) as api:
        assert (await api.get("/a")).json() == [1, 2]
        await asyncio.sleep(0.05)
        assert (await api.get("/b")).json() == [1, 2]


async def test_no_answer_is_an_api_error(server: Callable[[Handler], Awaitable[str]]) -> None:
    """A server that never answers, or none at all, raises ApiError within the timeout."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes

    async with Api(await server(silent), timeout=0.2) as api:
        started = time.monotonic()
        with pytest.raises(ApiError, match="no answer"):
            await api.get("/slow")
        assert time.monotonic() - started < 2
    async with Api("http://127.0.0.1:9", timeout=1) as api:  # discard port: refused
        with pytest.raises(ApiError):
            await api.get("/")


def test_overdue_in_gauge_sums_the_unit_s_overdue_series() -> None:
    """Only `motcua_dossiers_open` series of the unit with sla_status="overdue" count."""
    text = "\n".join([
        "# HELP motcua_dossiers_open Dossiers not yet closed",
        'motcua_dossiers_open{unit="U1",state="received",sla_status="overdue"} 3.0',
        'motcua_dossiers_open{unit="U1",state="processing",sla_status="overdue"} 2.0',
        'motcua_dossiers_open{unit="U1",state="received",sla_status="on_track"} 7.0',
        'motcua_dossiers_open{unit="U2",state="received",sla_status="overdue"} 11.0',
        'motcua_dossiers_overdue_without_apology{unit="U1"} 5.0'])
    assert overdue_in_gauge(text, "U1") == 5
    assert overdue_in_gauge(text, "U3") == 0


def test_seen_lags_by_view() -> None:
    """p50/p99/all from the first poll that showed enough; the list's "all" waits for the
    page-by-page confirmation; a view that never got there has no lag."""
    seen = Seen(100)
    seen.gauge = [(10.0, 0, 0), (11.0, 60, 40), (12.0, 99, 98), (13.0, 99, 100)]
    seen.listed = [(10.5, None), (11.5, 99), (12.5, 100)]
    seen.list_confirmed_at = 12.8
    assert seen.lags(10.0) == {"gauge p50": 1.0, "gauge p99": 2.0, "gauge all": 3.0,
                               "list p99": 1.5, "list all": 2.8}
    assert seen.done()
    never = Seen(100)
    never.gauge = [(10.0, 50, 0)]
    assert never.lags(10.0)["gauge all"] is None and not never.done()


async def test_webhook_receiver_counts_first_arrivals_per_alert() -> None:
    """Lag from the alert's due time, one delivery per alert (a repeat is counted apart),
    other kinds and dossiers ignored."""
    receiver = WebhookReceiver()
    port = await receiver.start()
    due = "2026-01-05T10:00:00+00:00"
    bodies = [{"event_id": "e1", "kind": "overdue", "code": "A", "due_at": due},
              {"event_id": "e1", "kind": "overdue", "code": "A", "due_at": due},
              {"event_id": "e2", "kind": "overdue_without_apology", "code": "A", "due_at": due},
              {"event_id": "e3", "kind": "overdue", "code": "B", "due_at": due},
              {"event_id": "e4", "kind": "overdue", "code": "Z", "due_at": due}]
    try:
        async with Api(f"http://127.0.0.1:{port}") as api:
            for body in bodies:
                assert (await api.post("/motcua", json=body)).status_code == 204
        await receiver.wait_for(["A", "B"], "overdue", time.time() + 5)
    finally:
        receiver.close()
    out = receiver.summary(["A", "B"], "overdue")
    assert out["dossiers"] == 2 and out["repeated_deliveries"] == 1
    assert out["alerts_more_than_one_per_dossier"] == 0
    assert len(out["lags_s"]) == 2 and all(lag > 0 for lag in out["lags_s"])


def test_per_alert_names_say_what_the_markers_and_upserts_are() -> None:
    """Read from a recorded history (tests/replay), the first alert's workflow task shows the
    patch marker and TemporalChangeVersion upsert the outbox patch records at the alert, then
    the append's local-activity marker and the dossier's search attributes."""
    history = WorkflowHistory.from_json(
        "alerts", (REPLAY / "alerts_then_withdrawal.v5.json").read_text(encoding="utf-8"))
    events = list(history.events)
    fired = [i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
    tail = after_last_timer(events[:fired[0] + 9])
    assert tail == [
        "TIMER_FIRED", "WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED", "MARKER_RECORDED(core_patch:notify-outbox-v1)",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES(TemporalChangeVersion)",
        "MARKER_RECORDED(core_local_activity:append_events)",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES(MotcuaDueAt,MotcuaProcedure,MotcuaSlaStatus,"
        "MotcuaState,MotcuaUnit)", "TIMER_STARTED"]
