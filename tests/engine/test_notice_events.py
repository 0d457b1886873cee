"""Each citizen's notice delivered becomes exactly one `NoticeDelivered` event on its dossier
(issue 25 item 2), on the real stack: the workflow and its worker, the dispatcher with its
recorder, the local SMS gateway simulator and a real SMTP server (aiosmtpd). Through the
running workflow (its `record_notice` update), or beside the ended one (the after-end append);
nothing lost when the dispatcher dies between the delivery and the event, nothing twice when
it is reported again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from temporalio.client import Client

from domain import commands as cmd
from domain.dossier import folded
from domain.envelope import EventEnvelope
from motcua import dossiers
from motcua.devstack.procs import free_port
from motcua.eventstore import outbox
from motcua.eventstore.projector import catch_up
from motcua.eventstore.store import read_stream
from motcua.metrics import OpenDossiersCollector
from motcua.notify.channels import EmailAdapter, SmsAdapter
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.notices import NoticeRouter
from motcua.notify.recorder import NoticeRecorder
from motcua.notify.simulators import Served, Simulator
from motcua.services.views import timeline
from tests.conftest import Receive
from tests.engine.test_notices import Inbox

pytestmark = pytest.mark.engine

PHONE, MAIL = "0912 345 678", "an.nv@example.vn"
CHOSEN: dict[str, Any] = {"notify_by": ("sms", "email"), "applicant_phone": PHONE,
                          "applicant_email": MAIL}
FAST = Policy(initial_backoff=0.05, max_backoff=0.2, max_attempts=None, give_up_after=60)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback (aiosmtpd), as in test_notices."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[Served]:
    """The local SMS gateway simulator (motcua.notify.simulators)."""
    served = Served(Simulator(), free_port())
    await served.start()
    yield served
    await served.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _dispatcher(pool: asyncpg.Pool, http: httpx.AsyncClient, gateway: Served, smtp_port: int,
                recorder: NoticeRecorder | None) -> Dispatcher:
    adapters = {"sms": SmsAdapter(http, gateway.url + "/sms"),
                "email": EmailAdapter(host="127.0.0.1", port=smtp_port,
                                      sender="motcua@example.vn", starttls=False)}
    return Dispatcher(pool, http, None, None, Policy(poll_interval=0.1), adapters=adapters,
                      policies=dict.fromkeys(adapters, FAST),
                      routers=(outbox.alerts_router, NoticeRouter()), recorder=recorder)


@pytest.fixture
async def running(pool: asyncpg.Pool, http: httpx.AsyncClient, gateway: Served,
                  smtp: tuple[Inbox, int], client: Client) -> AsyncIterator[Dispatcher]:
    """The dispatcher as `motcua dispatcher` runs it: adapters, routers and the recorder."""
    dispatcher = _dispatcher(pool, http, gateway, smtp[1],
                             NoticeRecorder(pool, client, initial_backoff=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    yield dispatcher
    stop.set()
    await asyncio.wait_for(task, 15)


async def _settled(pool: asyncpg.Pool, code: str, kinds: set[str],
                   within: float = 60.0) -> list[asyncpg.Record]:
    """The dossier's notice rows once every one of `kinds` was delivered on both channels and
    no event is owed any more."""
    deadline = time.monotonic() + within
    while True:
        rows = await pool.fetch(
            "SELECT event_id::text AS event_id, destination, part, kind, status, "
            "event_pending, event_recorded_at, event_error FROM deliveries "
            "WHERE stream = $1 AND destination = ANY($2) ORDER BY id", code,
            list(outbox.NOTICES))
        done = {(r["kind"], r["destination"]) for r in rows
                if r["status"] == "delivered" and not r["event_pending"]}
        if done >= {(k, c) for k in kinds for c in CHOSEN["notify_by"]}:
            return rows
        assert time.monotonic() < deadline, [dict(r) for r in rows]
        await asyncio.sleep(0.1)


def _notices(stream: list[EventEnvelope]) -> list[EventEnvelope]:
    return [e for e in stream if e.event_type == "NoticeDelivered"]


def _one_event_per_delivery(stream: list[EventEnvelope], rows: list[asyncpg.Record]) -> None:
    keys = [e.payload["delivery_id"] for e in _notices(stream)]
    assert sorted(keys) == sorted(outbox.delivery_key(r["event_id"], r["destination"],
                                                      r["part"]) for r in rows)
    assert [e.position for e in stream] == list(range(1, len(stream) + 1))


async def test_a_running_dossier_records_each_delivery_through_its_workflow(
        client: Client, pool: asyncpg.Pool, receive: Receive, running: Dispatcher,
        gateway: Served, smtp: tuple[Inbox, int]) -> None:
    """The receipt's SMS and e-mail reach the simulators, and each becomes one event appended
    by the workflow; the workflow goes on (its next command stores at the next position, no
    `StreamConflict`), and its later notices are recorded the same way."""
    d = await receive(**CHOSEN)
    rows = await _settled(pool, d.code, {"receipt"})
    assert any(d.code in m["text"] for m in gateway.sim.sms)
    assert any(d.code in str(m["Subject"]) for m in smtp[0].messages)
    stream = await read_stream(pool, d.code)
    _one_event_per_delivery(stream, rows)
    for e in _notices(stream):
        assert e.metadata["causation"].startswith("update:notice:")  # through the workflow
        assert e.metadata["command"] == "RecordNoticeDelivery"
        assert set(e.payload) == {"at", "delivery_id", "source_event_id", "kind", "channel",
                                  "delivered_at"}  # no address, no text
        assert PHONE not in str(e.payload) and MAIL not in str(e.payload)
    assert {(e.payload["kind"], e.payload["channel"]) for e in _notices(stream)} == {
        ("receipt", "sms"), ("receipt", "email")}
    await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o1"))
    await dossiers.act(client, d.code, "start", cmd.StartProcessing())
    assert d.due_at is not None
    await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(
        reason="Cần xác minh thêm", new_due_at=d.due_at + timedelta(days=10)))
    rows = await _settled(pool, d.code, {"receipt", "extension"})
    stream = await read_stream(pool, d.code)
    _one_event_per_delivery(stream, rows)
    state = folded(stream)
    assert state.apology_in_time is True and state.apology_reached_citizen
    # The apology counts from its earliest delivery on either channel.
    first = min(datetime.fromisoformat(e.payload["delivered_at"]) for e in _notices(stream)
                if e.payload["kind"] == "extension")
    assert state.apology_delivered_at == first
    # The workflow holds the same state: it appended the events itself.
    assert (await dossiers.current(client, d.code)).notices_delivered == \
        state.notices_delivered
    # On the timeline as the events, not twice from the delivery table.
    entries = timeline(stream, await outbox.deliveries(pool, d.code))
    assert not [t for t in entries if t.event_type == "NoticeSent"]
    assert len([t for t in entries if t.event_type == "NoticeDelivered"]) == 4


async def test_an_ended_dossier_records_each_delivery_after_the_end(
        client: Client, pool: asyncpg.Pool, receive: Receive, running: Dispatcher) -> None:
    """A refused dossier's workflow has finished: its receipt and refusal notices are
    recorded beside it (the after-end append), once each."""
    d = await receive(**CHOSEN)
    await dossiers.act(client, d.code, "refuse", cmd.RefuseDossier(reason="Sai thẩm quyền"))
    await client.get_workflow_handle(d.code).result()
    rows = await _settled(pool, d.code, {"receipt", "refusal"})
    stream = await read_stream(pool, d.code)
    _one_event_per_delivery(stream, rows)
    assert len(_notices(stream)) == 4
    # Every notice event after the refusal was appended by the after-end path (the receipt's
    # may have gone through the workflow while it still ran).
    refused_at = next(e.position for e in stream if e.event_type == "DossierRefused")
    late = [e for e in _notices(stream) if e.position > refused_at]
    assert {e.payload["kind"] for e in late} >= {"refusal"}
    assert all(e.metadata["causation"] == "after-end" for e in late
               if e.payload["kind"] == "refusal")


async def test_a_dispatcher_that_dies_before_the_event_loses_nothing_and_repeats_nothing(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient,
        gateway: Served, smtp: tuple[Inbox, int]) -> None:
    """Delivered by a dispatcher that never recorded the events (as if it died right after
    the gateway's answer): the rows stay owed; the next dispatcher records them; reporting
    them all again (a lease that ran out mid-way) stores nothing more."""
    d = await receive(**CHOSEN)
    deadline = time.monotonic() + 60
    blind = _dispatcher(pool, http, gateway, smtp[1], recorder=None)
    while True:
        await blind.step()
        await blind.drain()
        owed = await pool.fetch("SELECT id FROM deliveries WHERE stream = $1 AND "
                                "destination = ANY($2) AND event_pending", d.code,
                                list(outbox.NOTICES))
        if len(owed) == 2:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert not _notices(await read_stream(pool, d.code))

    async def unreachable() -> Client:
        raise ConnectionRefusedError("temporal down")

    # Temporal unreachable (as `motcua dispatcher` starts before it): nothing taken, still owed.
    assert await NoticeRecorder(pool, unreachable).sweep() == 0
    assert await pool.fetchval("SELECT count(*) FROM deliveries WHERE stream = $1 AND "
                               "event_pending AND event_attempts = 0", d.code) == 2

    async def reachable() -> Client:
        return client

    recorder = NoticeRecorder(pool, reachable)  # connected when first needed, as in process
    while await pool.fetchval("SELECT count(*) FROM deliveries WHERE stream = $1 AND "
                              "event_pending", d.code):
        await recorder.sweep()
        assert time.monotonic() < deadline
    first = await read_stream(pool, d.code)
    assert len(_notices(first)) == 2
    await pool.execute("UPDATE deliveries SET event_pending = true, event_next_at = now() "
                       "WHERE stream = $1 AND destination = ANY($2)", d.code,
                       list(outbox.NOTICES))
    while await pool.fetchval("SELECT count(*) FROM deliveries WHERE stream = $1 AND "
                              "event_pending", d.code):
        await recorder.sweep()
        assert time.monotonic() < deadline
    again = await read_stream(pool, d.code)
    assert [e.event_id for e in again] == [e.event_id for e in first]


async def test_an_overdue_dossier_counts_without_apology_until_the_apology_reached_the_citizen(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient,
        gateway: Served, smtp: tuple[Inbox, int]) -> None:
    """The apology recorded in time but its notice not yet recorded delivered: the read model
    says no apology and the overdue-without-apology gauge counts the dossier once overdue;
    from the `NoticeDelivered` event on, it does not."""
    d = await receive(**CHOSEN)
    assert d.due_at is not None
    await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(
        reason="Cần xác minh thêm", new_due_at=d.due_at + timedelta(days=10)))
    blind = _dispatcher(pool, http, gateway, smtp[1], recorder=None)
    deadline = time.monotonic() + 60
    while not await pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE stream = $1 AND kind = 'extension' AND "
            "event_pending", d.code):
        await blind.step()
        await blind.drain()
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    overdue = d.due_at + timedelta(days=1)  # past the legal due time (an apology keeps it)
    gauge = OpenDossiersCollector()

    async def counted() -> tuple[bool, int]:
        async with pool.acquire() as conn:
            await catch_up(conn, count_metrics=False)
        sent = await pool.fetchval("SELECT apology_sent FROM dossiers WHERE code = $1", d.code)
        snap = await gauge.refresh(pool, now=overdue)
        return bool(sent), snap.overdue_without_apology.get(d.unit_code, 0)

    state = folded(await read_stream(pool, d.code))
    assert state.extended and state.apology_in_time and not state.apology_reached_citizen
    sent, before = await counted()
    assert not sent and before >= 1
    recorder = NoticeRecorder(pool, client)
    while await pool.fetchval("SELECT count(*) FROM deliveries WHERE stream = $1 AND "
                              "event_pending", d.code):
        await recorder.sweep()
        assert time.monotonic() < deadline
    sent, after = await counted()
    assert sent and after == before - 1
