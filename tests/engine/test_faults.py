"""Crashes and failures on purpose: nothing lost, nothing stored twice."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio import activity
from temporalio.client import Client

from activities.store import EventStoreActivities
from domain import commands as cmd
from domain.contracts import APPEND_EVENTS, AppendRequest, AppendResult
from domain.states import DossierState
from motcua import dossiers
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port, terminate
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore.store import append
from tests.conftest import receipt, settings_for
from tests.engine.helpers import assert_stream_sound
from worker import build_worker

pytestmark = pytest.mark.engine


def start_worker_process(postgres: EmbeddedPostgres, address: str, task_queue: str,
                         log: Path) -> subprocess.Popen[bytes]:
    """`motcua worker` as a real child process, so it can be killed with SIGKILL."""
    env = {**os.environ, "DATABASE_URL": postgres.dsn, "MOTCUA_TEMPORAL_ADDRESS": address,
           "MOTCUA_TASK_QUEUE": task_queue, "MOTCUA_METRICS_PORT": "0",
           "MOTCUA_SDK_METRICS_PORT": "0"}
    out = open(log, "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen([sys.executable, "-m", "motcua.cli", "worker"], env=env,
                            stdout=out, stderr=out, start_new_session=True)


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "worker.log"
    yield path
    if os.environ.get("CI") and path.exists():
        print(path.read_text()[-4000:])


async def _lifecycle(client: Client, code: str) -> None:
    await dossiers.act(client, code, "start", cmd.StartProcessing())
    await dossiers.act(client, code, "complete", cmd.CompleteProcessing(summary="xong"))
    await dossiers.act(client, code, "return", cmd.ReturnResult())


async def test_worker_killed_mid_lifecycle_loses_and_duplicates_nothing(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, worker_log: Path) -> None:
    """SIGKILL the worker while commands are in flight, start a new one: every dossier ends
    returned with each event stored exactly once, positions contiguous."""
    queue = "motcua-kill-test"
    proc = start_worker_process(postgres, temporal_server.address, queue, worker_log)
    try:
        codes = []
        for _ in range(6):
            d = await dossiers.receive(client, receipt(), task_queue=queue)
            await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-1"))
            codes.append(d.code)
        flows = [asyncio.create_task(_lifecycle(client, c)) for c in codes]
        await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        await asyncio.sleep(1.0)
        proc = start_worker_process(postgres, temporal_server.address, queue, worker_log)
        await asyncio.wait_for(asyncio.gather(*flows), timeout=120)
        for code in codes:
            state = await dossiers.current(client, code)
            assert state.state is DossierState.RETURNED
            types = await assert_stream_sound(pool, code, state)
            assert types == ["DossierReceived", "DeadlineSet", "OfficerAssigned",
                             "ProcessingStarted", "ResultReady", "ResultReturned"]
    finally:
        terminate(proc)


async def test_temporal_restart_keeps_the_dossier(
        pool: asyncpg.Pool, postgres: EmbeddedPostgres, tmp_path: Path,
        worker_log: Path) -> None:
    """Stop the Temporal dev server and start it again on the same file: the open dossier is
    still there, on its deadline, and its lifecycle completes."""
    server = TemporalDevServer(tmp_path / "restart.db", free_port(),
                               log_file=tmp_path / "temporal.log")
    server.start()
    proc = start_worker_process(postgres, server.address, "motcua-restart", worker_log)
    try:
        client = await Client.connect(server.address)
        d = await dossiers.receive(client, receipt(), task_queue="motcua-restart")
        await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-2"))
        server.stop()
        server.start()
        client = await Client.connect(server.address)
        again = await dossiers.current(client, d.code)
        assert again.state is DossierState.ASSIGNED and again.due_at == d.due_at
        await asyncio.wait_for(_lifecycle(client, d.code), timeout=90)
        final = await dossiers.current(client, d.code)
        assert final.state is DossierState.RETURNED
        await assert_stream_sound(pool, d.code, final)
    finally:
        terminate(proc)
        server.stop()


class FlakyAppend:
    """The real append, then a failure on the first attempt: the commit happened but the
    workflow never hears of it, so Temporal retries an append that is already stored."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.inner = EventStoreActivities(pool)
        self.injected = 0

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResult:
        result = await self.inner.append_events(request)
        if activity.info().attempt == 1:
            self.injected += 1
            raise RuntimeError("injected failure after commit")
        assert result.stored == 0  # the retry found everything already there
        return result


async def test_append_failure_after_commit_is_retried_without_duplicates(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer) -> None:
    """An append that fails after committing is retried and still leaves one copy of each
    event, in order."""
    queue = "motcua-flaky-append"
    flaky = FlakyAppend(pool)
    async with build_worker(settings_for(postgres, temporal_server, queue), client, pool,
                            overrides=[flaky.append_events]) as worker, worker:
        d = await dossiers.receive(client, receipt(), task_queue=queue)
        await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-3"))
        await _lifecycle(client, d.code)
        final = await dossiers.current(client, d.code)
    assert flaky.injected == 5
    types = await assert_stream_sound(pool, d.code, final)
    assert len(types) == 6


class RedecidedAppend:
    """Stores each batch as an earlier, crashed attempt would have decided it (same event ids,
    a different instant), then runs the real append: the worker-crash case of a local activity
    whose workflow task never completed and was decided again."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.inner = EventStoreActivities(pool)
        self.pool = pool

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResult:
        earlier = [dataclasses.replace(e, payload={**e.payload, "at": "2026-01-02T03:04:05+00:00"})
                   for e in request.events]
        async with self.pool.acquire() as conn:
            await append(conn, request.stream, earlier)
        return await self.inner.append_events(request)


async def test_redecided_events_are_adopted_from_the_store(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer) -> None:
    """When a retried decision finds its events already stored with other content, the
    workflow adopts the stored events: its state stays the fold of the stored stream."""
    queue = "motcua-redecided"
    redecided = RedecidedAppend(pool)
    async with build_worker(settings_for(postgres, temporal_server, queue), client, pool,
                            overrides=[redecided.append_events]) as worker, worker:
        d = await dossiers.receive(client, receipt(), task_queue=queue)
        d = await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-4"))
    assert d.received_at is not None and d.received_at.year == 2026
    assert d.received_at.isoformat() == "2026-01-02T03:04:05+00:00"
    await assert_stream_sound(pool, d.code, d)
