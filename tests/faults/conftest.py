"""One real stack for the module (PostgreSQL, Temporal dev server, worker, projector and API
as child processes, every port free), a webhook receiver, and the fault scenario played once;
the tests then check its invariants."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from motcua.access.tokens import create_dev_token
from motcua.access.users import create_dev_user
from motcua.config import Settings
from motcua.devstack.stack import Ports, Stack
from motcua.temporal import connect
from tests.faults import scenario
from tests.faults.load import Api
from tests.faults.receiver import WebhookReceiver


def _tails(stack: Stack, lines: int = 15) -> str:
    out = []
    for name in ("worker", "api", "projector"):
        path = stack.data_dir / f"{name}.log"
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {name}.log\n" + "\n".join(tail))
    return "\n".join(out)


@pytest.fixture(scope="module")
def fault_dir() -> Iterator[Path]:
    """The stack's data folder (kept when MOTCUA_KEEP_TEST_DATA is set)."""
    path = Path(tempfile.mkdtemp(prefix="motcua-faults-"))
    yield path
    if not os.environ.get("MOTCUA_KEEP_TEST_DATA"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """The operator's webhook, on loopback, switchable between 200 and 500."""
    r = WebhookReceiver()
    await r.start()
    yield r
    await r.close()


@pytest.fixture(scope="module")
async def fault_stack(fault_dir: Path, receiver: WebhookReceiver) -> AsyncIterator[Stack]:
    """The whole stack as child processes, with the one-hour procedure and the webhook."""
    env = {**scenario.write_test_config(fault_dir / "config"),
           "MOTCUA_WEBHOOK_URL": receiver.url, "MOTCUA_WEBHOOK_SECRET": "fault-secret",
           "MOTCUA_TASK_QUEUE": "motcua-faults", "MOTCUA_LOG_LEVEL": "INFO",
           "MOTCUA_GRACEFUL_SHUTDOWN_SECONDS": "2"}
    stack = Stack(fault_dir / "stack", Ports.free(), env=env)
    try:
        await asyncio.to_thread(stack.start_services)
        for child in ("worker", "projector", "dispatcher", "api"):
            await asyncio.to_thread(stack.start, child)
        yield stack
    finally:
        await asyncio.to_thread(stack.shutdown)


@pytest.fixture(scope="module")
async def outcome(fault_stack: Stack, receiver: WebhookReceiver) -> scenario.Outcome:
    """The scenario, played once for the module's tests."""
    token = await create_dev_token(fault_stack.postgres.dsn)
    await create_dev_user(fault_stack.postgres.dsn)  # `dev` holds the dossiers (load.LIFECYCLE)
    async with httpx.AsyncClient(base_url=fault_stack.api_url, timeout=30.0, trust_env=False,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        result = await scenario.run(fault_stack, Api(http), receiver, fault_stack.postgres.dsn)
    print("\n" + scenario.summary(result))
    if result.failures or not result.alerts_settled or not result.projector_caught_up:
        print(_tails(fault_stack))
    print(_unhandled(fault_stack))
    return result


def _unhandled(stack: Stack) -> str:
    """The API's unhandled errors (each a 500), with their tracebacks, for a failing run."""
    path = stack.data_dir / "api.log"
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    found = [line for line in lines if "http.unhandled_error" in line]
    return "API unhandled errors: " + ("none" if not found else "\n" + "\n".join(found))


@pytest.fixture(scope="module")
async def stack_pool(outcome: scenario.Outcome, fault_stack: Stack
                     ) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the stack's database once the scenario is over."""
    pool = await asyncpg.create_pool(fault_stack.postgres.dsn, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
async def stack_client(outcome: scenario.Outcome, fault_stack: Stack) -> Client:
    """A Temporal client on the stack's (restarted) dev server."""
    # The stack encrypts payloads (motcua.payload_codec): connect with its keys, as its API does.
    keys = fault_stack.payload_keys().get("MOTCUA_PAYLOAD_KEYS")
    return await connect(Settings(temporal_address=fault_stack.temporal.address,
                                  payload_keys=SecretStr(keys) if keys else None))
