"""Deadline alerts reach the webhook through the outbox: the workflow stores the alert and the
dispatcher delivers it, at least once, with its event id; retries back off; a permanent failure
is recorded; a dispatcher killed mid-way loses nothing (the receiver drops repeats by id)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain import events as ev
from domain.envelope import EventEnvelope
from domain.states import AlertKind, Channel
from motcua import dossiers
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore import outbox, store
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.webhook import sign
from motcua.services.views import timeline
from tests.conftest import UNIT, new_code, receipt, settings_for
from tests.engine.helpers import stored_events
from worker import build_worker

pytestmark = pytest.mark.engine

SECRET = b"s3cret"


class Receiver:
    """A minimal HTTP server on loopback: records each POST (headers, body, arrival time) and
    answers `status`, after `delay` seconds."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.posts: list[tuple[float, dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/alerts"

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")[1:]
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.posts.append((time.monotonic(), headers, body))
        await asyncio.sleep(self.delay)
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    def bodies(self, codes: Iterable[str]) -> list[dict[str, object]]:
        """The bodies received for the dossiers `codes` (other tests' alerts share the DB)."""
        wanted = set(codes)
        return [b for b in (json.loads(p[2]) for p in self.posts) if b.get("code") in wanted]

    def times(self, event_id: str) -> list[float]:
        return [t for t, h, _ in self.posts if h["x-motcua-event-id"] == event_id]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def _alerts_of(pool: asyncpg.Pool, code: str, want: int) -> list[EventEnvelope]:
    for _ in range(200):
        alerts = [e for e in await stored_events(pool, code)
                  if e.event_type == "DeadlineAlertRaised"]
        if len(alerts) >= want:
            return alerts
        await asyncio.sleep(0.1)
    raise AssertionError(f"{code}: fewer than {want} alerts stored")


async def _settled(pool: asyncpg.Pool, ids: list[str], within: float = 30.0) -> list[
        asyncpg.Record]:
    """The delivery rows of `ids`, once none is pending any more."""
    deadline = time.monotonic() + within
    while True:
        rows = await pool.fetch(
            "SELECT alert_event_id::text AS id, status, attempts, last_status, last_error, "
            "finished_at FROM notification_deliveries WHERE alert_event_id = ANY($1::uuid[])",
            ids)
        if len(rows) == len(ids) and all(r["status"] != "pending" for r in rows):
            return rows
        assert time.monotonic() < deadline, f"not settled: {[dict(r) for r in rows]}"
        await asyncio.sleep(0.1)


async def _dossier_with_alerts(client: Client, pool: asyncpg.Pool,
                               postgres: EmbeddedPostgres, temporal: TemporalDevServer,
                               queue: str) -> tuple[str, list[EventEnvelope]]:
    """A dossier run past its due time by the real workflow: its three alerts, stored."""
    settings = settings_for(postgres, temporal, queue).model_copy(update={
        "webhook_url": "http://127.0.0.1:9/never-called", "webhook_secret": SecretStr("x")})
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    async with build_worker(settings, client, pool) as w, w:
        d = await dossiers.receive(skipper.client, receipt(), task_queue=queue)
        assert d.due_at is not None and d.received_at is not None
        handle = skipper.client.get_workflow_handle(d.code)
        await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(days=1))
        alerts = await _alerts_of(pool, d.code, 3)
    return d.code, alerts


async def test_an_alert_is_delivered_once_with_its_event_id(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, http: httpx.AsyncClient) -> None:
    """The workflow stores each alert once and no notification event; the dispatcher POSTs
    each once, signed, with the alert's event id in a header and in the body, and records it
    delivered; the dossier's timeline shows the delivery after its alert."""
    code, alerts = await _dossier_with_alerts(client, pool, postgres, temporal_server,
                                              "motcua-outbox-ok")
    types = [e.event_type for e in await stored_events(pool, code)]
    assert "NotificationSent" not in types and "NotificationFailed" not in types
    assert all(a.metadata["delivery"] == "outbox" for a in alerts)
    ids = [a.event_id for a in alerts]
    stop = asyncio.Event()
    async with Receiver(200) as receiver:
        dispatcher = Dispatcher(pool, http, receiver.url, SECRET, Policy(poll_interval=0.2))
        task = asyncio.create_task(dispatcher.run(stop))
        rows = await _settled(pool, ids)
        stop.set()
        await asyncio.wait_for(task, 15)
        # One more full pass after settling, drained: a wrong second POST would be made by
        # it (rather than waiting on the wall clock for one to show).
        await dispatcher.step()
        await dispatcher.drain()
    assert {r["status"] for r in rows} == {"delivered"} and {r["attempts"] for r in rows} == {1}
    bodies = receiver.bodies([code])
    assert sorted(str(b["event_id"]) for b in bodies) == sorted(ids)  # once each
    assert sorted(str(b["kind"]) for b in bodies) == [
        "due_soon", "overdue", "overdue_without_apology"]
    for _, headers, body in receiver.posts:
        event_id = headers["x-motcua-event-id"]
        if event_id in ids:
            assert json.loads(body)["event_id"] == event_id == headers["idempotency-key"]
            assert headers["x-motcua-signature"] == sign(
                SECRET, headers["x-motcua-timestamp"], body)
    entries = timeline(await stored_events(pool, code), await outbox.deliveries(pool, code))
    after = {e.data["alert_event_id"]: e for e in entries if e.event_type == "NotificationSent"}
    assert set(after) == set(ids) and all(e.actor == "dispatcher" for e in after.values())
    positions = [e.position for e in entries]
    assert positions == sorted(positions)


async def test_a_failing_receiver_is_retried_with_backoff_then_recorded_failed(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, http: httpx.AsyncClient) -> None:
    """A 503 is retried after 0.2 s, then 0.4 s (doubling), and after the third attempt the
    delivery is recorded as permanently failed, with every attempt in its own row."""
    code, alerts = await _dossier_with_alerts(client, pool, postgres, temporal_server,
                                              "motcua-outbox-503")
    ids = [a.event_id for a in alerts]
    policy = Policy(initial_backoff=0.2, max_attempts=3, poll_interval=0.1)
    stop = asyncio.Event()
    async with Receiver(503) as receiver:
        task = asyncio.create_task(Dispatcher(pool, http, receiver.url, None, policy).run(stop))
        rows = await _settled(pool, ids)
        stop.set()
        await asyncio.wait_for(task, 15)
    assert {r["status"] for r in rows} == {"failed"} and {r["attempts"] for r in rows} == {3}
    assert all(r["last_status"] == 503 and "after 3 attempts" in r["last_error"] for r in rows)
    for event_id in ids:
        times = receiver.times(event_id)
        assert len(times) == 3
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9, gaps
    attempts = await pool.fetch(
        "SELECT alert_event_id::text AS id, attempt, outcome, status_code "
        "FROM notification_attempts WHERE alert_event_id = ANY($1::uuid[]) "
        "ORDER BY alert_event_id, attempt", ids)
    by_id: dict[str, list[str]] = {}
    for a in attempts:
        assert a["status_code"] == 503
        by_id.setdefault(a["id"], []).append(a["outcome"])
    assert by_id == {i: ["retried", "retried", "failed"] for i in ids}
    entries = timeline(await stored_events(pool, code), await outbox.deliveries(pool, code))
    failed = [e for e in entries if e.event_type == "NotificationFailed"]
    assert len(failed) == 3 and all("503" in str(e.data["error"]) for e in failed)


async def _store_alerts(pool: asyncpg.Pool, dossiers_count: int) -> tuple[list[str], list[str]]:
    """Dossier streams written straight to the event store, each a receipt, its deadline and
    an alert of each kind marked for the outbox (as the workflow writes them); returns
    (codes, alert ids)."""
    codes, ids = [], []
    now = datetime.now(UTC)
    for _ in range(dossiers_count):
        code = new_code()
        received = ev.DossierReceived(at=now, code=code, unit_code=UNIT, procedure_code="1.004222",
                                      channel=Channel.COUNTER, applicant_name="Lê Văn Bình")
        deadline = ev.DeadlineSet(at=now, version=1, due_at=now, due_soon_at=now,
                                  reason="receipt", rule="civil_code", amount=4,
                                  unit="working_days", calendar_version="test",
                                  catalog_version="test")
        envelopes = [EventEnvelope.wrap(e, event_id=str(uuid.uuid4()), stream=code,
                                        position=i, metadata={"actor": "clerk-1"})
                     for i, e in enumerate((received, deadline), start=1)]
        for i, kind in enumerate(AlertKind, start=3):
            alert = ev.DeadlineAlertRaised(at=now, kind=kind, deadline_version=1, due_at=now)
            envelopes.append(EventEnvelope.wrap(
                alert, event_id=str(uuid.uuid4()), stream=code, position=i,
                metadata={"actor": "system", "delivery": "outbox"}))
            ids.append(envelopes[-1].event_id)
        async with pool.acquire() as conn:
            await store.append(conn, code, envelopes)
        codes.append(code)
    return codes, ids


def _dispatcher_process(postgres: EmbeddedPostgres, url: str,
                        metrics_port: int = 0) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": postgres.dsn, "MOTCUA_WEBHOOK_URL": url,
           "MOTCUA_METRICS_PORT": str(metrics_port), "MOTCUA_NOTIFY_CONCURRENCY": "4",
           "MOTCUA_NOTIFY_LEASE_SECONDS": "1", "MOTCUA_NOTIFY_INITIAL_BACKOFF": "0.1",
           "MOTCUA_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "motcua.cli", "dispatcher"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_a_dispatcher_killed_mid_way_loses_and_repeats_nothing_beyond_in_flight(
        pool: asyncpg.Pool, postgres: EmbeddedPostgres) -> None:
    """`motcua dispatcher` SIGKILLed while POSTs are in flight: after a restart every alert is
    delivered and recorded once; a receiver deduplicating on the event id sees each alert,
    and repeats are at most the POSTs that were in flight (4); its probes and metrics answer;
    SIGTERM stops it cleanly."""
    codes, ids = await _store_alerts(pool, 6)  # 6 x len(AlertKind) alerts
    async with Receiver(200, delay=0.3) as receiver:
        first = _dispatcher_process(postgres, receiver.url)
        try:
            for _ in range(300):
                if len(receiver.bodies(codes)) >= 6:
                    break
                await asyncio.sleep(0.05)
            assert len(receiver.bodies(codes)) >= 6, "the first dispatcher delivered nothing"
        finally:
            first.kill()
            await asyncio.to_thread(first.wait, 10)
        seen_before_restart = len(receiver.bodies(codes))
        assert seen_before_restart < len(ids), "killed too late to cut anything short"
        port = free_port()
        second = _dispatcher_process(postgres, receiver.url, port)
        try:
            rows = await _settled(pool, ids, within=60)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as probe:
                assert (await probe.get("/healthz")).status_code == 200
                for _ in range(100):
                    ready = await probe.get("/readyz")
                    if ready.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert ready.status_code == 200 and "postgresql: ok" in ready.text
                metrics = (await probe.get("/metrics")).text
            assert 'motcua_notifications_total{kind="overdue",outcome="delivered"}' in metrics
            assert "motcua_notifications_oldest_undelivered_seconds" in metrics
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = await asyncio.to_thread(second.communicate, None, 20)
        assert second.returncode == 0, err.decode()[-2000:]
    assert {r["status"] for r in rows} == {"delivered"}
    received = [str(b["event_id"]) for b in receiver.bodies(codes)]
    assert set(received) == set(ids)  # nothing lost
    assert len(received) - len(ids) <= 4  # repeats only for the POSTs in flight at the kill
    recorded = await pool.fetch(
        "SELECT alert_event_id::text AS id, count(*) FILTER (WHERE outcome = 'delivered') AS n "
        "FROM notification_attempts WHERE alert_event_id = ANY($1::uuid[]) "
        "GROUP BY alert_event_id", ids)
    assert {r["id"]: r["n"] for r in recorded} == dict.fromkeys(ids, 1)


async def test_without_a_webhook_alerts_are_recorded_as_not_sent(
        pool: asyncpg.Pool, http: httpx.AsyncClient) -> None:
    """No MOTCUA_WEBHOOK_URL: nothing is POSTed and each alert is recorded `disabled` after one
    attempt, so nothing waits for ever (the timeline shows it as sent, as the activity did)."""
    codes, ids = await _store_alerts(pool, 1)
    stop = asyncio.Event()
    task = asyncio.create_task(Dispatcher(pool, http, None, None,
                                          Policy(poll_interval=0.1)).run(stop))
    rows = await _settled(pool, ids)
    stop.set()
    await asyncio.wait_for(task, 15)
    assert {(r["status"], r["attempts"], r["last_status"]) for r in rows} == {
        ("disabled", 1, None)}
    entries = timeline(await stored_events(pool, codes[0]),
                       await outbox.deliveries(pool, codes[0]))
    assert [e.event_type for e in entries] == [
        "DossierReceived", "DeadlineSet",
        *["DeadlineAlertRaised", "NotificationSent"] * len(AlertKind)]
