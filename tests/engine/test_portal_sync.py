"""Portal synchronisation end to end: the real workflow, the real dispatcher and a local portal
simulator on a loopback port that refuses the first attempts, goes down and comes back; every
change reaches it in order and none twice; `motcua portal reconcile` resends what is missing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from motcua.cli.portal import MISSING_STATUS as reconcile_missing
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.eventstore import outbox
from motcua.notify import reconcile
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.portal import PORTAL, PROGRESS, UPSERT, PortalRouter
from motcua.notify.portal_http import PortalAdapter
from motcua.notify.simulators import Served, Simulator
from tests.conftest import Receive
from tests.engine.helpers import stored_events

pytestmark = pytest.mark.engine

FAST = Policy(initial_backoff=0.05, max_backoff=0.3, max_attempts=None, give_up_after=600.0)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _dispatcher(pool: asyncpg.Pool, http: httpx.AsyncClient, url: str,
                token: str = "portal-token") -> Dispatcher:
    return Dispatcher(pool, http, None, None, Policy(poll_interval=0.1),
                      adapters={PORTAL: PortalAdapter(http, url, token, timeout=5.0)},
                      policies={PORTAL: FAST},
                      routers=(outbox.alerts_router, PortalRouter({})))


async def _portal_rows(pool: asyncpg.Pool, code: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT id, part, status, attempts, body FROM deliveries "
        "WHERE stream = $1 AND destination = 'portal' ORDER BY id", code)


async def _all_delivered(pool: asyncpg.Pool, code: str, at_least: int,
                         within: float = 60.0) -> list[asyncpg.Record]:
    deadline = time.monotonic() + within
    while True:
        rows = await _portal_rows(pool, code)
        if len(rows) >= at_least and all(r["status"] == "delivered" for r in rows):
            return rows
        assert time.monotonic() < deadline, [dict(r) for r in rows]
        await asyncio.sleep(0.1)


async def _act(client: Client, code: str, action: str, command: cmd.Command) -> None:
    await dossiers.act(client, code, action, command)


async def test_a_flaky_portal_receives_every_change_in_order_and_none_twice(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient) -> None:
    """The portal answers 503 twice, then accepts; it goes down (connections refused) while
    the dossier moves on, and comes back: it ends holding the final dossier, has received
    every upsert and every step in stream order, each accepted once, and every failed attempt
    is recorded."""
    sim = Simulator()
    # Only this dossier's requests fail: the test's dispatcher also reads other tests' events
    # from the shared event store, and their deliveries must not take these two failures.
    owner = f"Phạm Thị Hoa {uuid.uuid4().hex[:6]}"
    sim.fail_next(2, 503, when=lambda body: any(
        isinstance(i, dict) and i.get("ChuHoSo") == owner for i in body.get("data") or []))
    served = Served(sim, free_port())
    await served.start()
    stop = asyncio.Event()
    task = asyncio.create_task(_dispatcher(pool, http, served.url).run(stop))
    try:
        d = await receive(applicant_name=owner, documents=("Tờ khai",))
        code = d.code
        await _act(client, code, "assign", cmd.AssignOfficer(officer="officer-1",
                                                              actor="leader-1"))
        await _all_delivered(pool, code, 3)  # upsert, receipt step, assignment step
        await served.stop()  # the portal goes down
        await _act(client, code, "start", cmd.StartProcessing(actor="officer-1"))
        await _act(client, code, "request-supplement", cmd.RequestSupplement(
            reason="Thiếu bản sao giấy khai sinh", documents=("Giấy khai sinh",),
            actor="officer-1"))
        await _act(client, code, "supplement", cmd.ProvideSupplement(
            documents=("Giấy khai sinh",), actor="clerk-1"))
        await _act(client, code, "complete", cmd.CompleteProcessing(
            summary="Giấy xác nhận thường trú", actor="officer-1"))
        await _act(client, code, "return", cmd.ReturnResult(actor="clerk-1"))
        await asyncio.sleep(1.0)  # retries against a closed port
        refused = await pool.fetchval(
            "SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id "
            "WHERE d.stream = $1 AND a.outcome = 'retried' AND a.error LIKE '%unreachable%'",
            code)
        assert refused >= 1
        await served.start()  # back, on the same port
        rows = await _all_delivered(pool, code, 9)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await served.stop()
    events = await stored_events(pool, code)
    # The portal holds the final state.
    held = sim.dossiers[code]
    assert held["TrangThaiHoSo"] == "10" and held["NgayKetThucXuLy"] and held["NgayTra"]
    assert held["MaTTHC"] == d.procedure_code and held["ChuHoSo"] == owner
    assert [p["TenTepDinhKem"] for p in held["TaiLieuNop"]] == ["Tờ khai", "Giấy khai sinh"]
    [supplement] = held["DanhSachHoSoBoSung"]
    assert supplement["NoiDungBoSung"] == "Thiếu bản sao giấy khai sinh"
    assert supplement["NgayHenTraTruoc"] and supplement["NgayHenTraMoi"]
    assert supplement["NgayHenTraMoi"] >= supplement["NgayHenTraTruoc"]
    assert held["DanhSachGiayToKetQua"][0]["TenGiayTo"] == "Giấy xác nhận thường trú"
    # Every step in stream order, once each.
    steps = sim.accepted("/" + PROGRESS)
    mine = [s for s in steps if s["MaHoSo"] == code]
    assert [s["TrangThai"] for s in mine] == ["2", "2", "4", "5", "4", "9", "10"]
    assert [s["NguoiXuLy"] for s in mine] == [
        "clerk-1", "leader-1", "officer-1", "officer-1", "clerk-1", "officer-1", "clerk-1"]
    # Upserts in order (status never goes back), and each delivery accepted once.
    ups = [u for u in sim.accepted("/" + UPSERT) if u["MaHoSo"] == code]
    codes = [int(u["TrangThaiHoSo"]) for u in ups]
    assert codes[0] == 2 and codes[-1] == 10 and len(ups) == sum(
        1 for r in rows if r["part"] == UPSERT)
    keys = [r.headers["idempotency-key"] for r in sim.requests
            if r.body.get("_ok") and any(i.get("MaHoSo") == code for i in r.body["data"])]
    assert len(keys) == len(set(keys)) == len(rows)
    # The first attempts were refused with 503 and recorded as retried.
    first = rows[0]
    assert first["part"] == UPSERT and first["attempts"] >= 2
    outcomes = await pool.fetch("SELECT outcome, status_code FROM delivery_attempts "
                                "WHERE delivery_id = $1 ORDER BY attempt", first["id"])
    assert [(o["outcome"], o["status_code"]) for o in outcomes][:2] == [
        ("retried", 503), ("retried", 503)]
    assert outcomes[-1]["outcome"] == "delivered"
    assert len(events) >= 9


async def _cli(postgres: EmbeddedPostgres, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": postgres.dsn, "MOTCUA_LOG_LEVEL": "WARNING"}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "motcua.cli", "portal", *args], env=env,
        capture_output=True, text=True, timeout=60, check=False)


async def test_reconcile_finds_and_resends_a_dossier_the_portal_never_acknowledged(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient,
        postgres: EmbeddedPostgres) -> None:
    """A dossier received while the portal was not connected (no portal delivery) is listed
    as missing by `motcua portal reconcile` for its day (exit status 3); the dry run queues
    nothing, the real one queues it; once delivered, the portal holds it and the next
    reconciliation counts it acknowledged."""
    d = await receive(applicant_name="Đỗ Văn Minh")
    # Ingested with the webhook's router only: the portal was not configured then.
    async with pool.acquire() as conn:
        await outbox.ingest(conn)
    assert await _portal_rows(pool, d.code) == []
    assert d.received_at is not None
    day = d.received_at.astimezone(reconcile.ZONE).date()
    dry = await _cli(postgres, "reconcile", "--date", day.isoformat(), "--dry-run")
    assert dry.returncode == reconcile_missing and d.code in json.loads(dry.stdout)["missing"]
    assert await _portal_rows(pool, d.code) == []  # a dry run queues nothing
    run = await _cli(postgres, "reconcile", "--date", day.isoformat())
    report = json.loads(run.stdout)
    assert run.returncode == reconcile_missing
    assert d.code in report["missing"] and d.code in report["queued"]
    sim = Simulator()
    served = Served(sim, free_port())
    await served.start()
    stop = asyncio.Event()
    task = asyncio.create_task(_dispatcher(pool, http, served.url).run(stop))
    try:
        await _all_delivered(pool, d.code, 1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await served.stop()
    assert sim.dossiers[d.code]["TrangThaiHoSo"] == "2"
    again = await reconcile.reconcile(pool, day, resend=False)
    assert d.code not in again.missing and d.code in again.acknowledged
    assert again.received >= 1
