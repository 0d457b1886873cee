"""With Temporal or PostgreSQL unreachable the API starts, answers 503 with Retry-After (never
a hang or a 500), and readyz names what is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from motcua.app import create_app
from motcua.config import Settings
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from tests.api.conftest import MakeToken, bearer, receipt_body, receive
from tests.conftest import settings_for

pytestmark = pytest.mark.engine


@asynccontextmanager
async def serve(settings: Settings, **injected: object) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (lifespan running) and a client on it."""
    app = create_app(settings, **injected)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://motcua.test",
            timeout=30) as http:
        yield http


async def ready_checks(http: httpx.AsyncClient, until: str) -> dict[str, str]:
    """readyz's checks once `until` reports ok (the pool connects in the background)."""
    for _ in range(100):
        checks: dict[str, str] = (await http.get("/readyz")).json()["checks"]
        if checks[until] == "ok":
            return checks
        await asyncio.sleep(0.1)
    raise AssertionError(f"{until} never became ready: {checks}")


def assert_503(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["dependency"] == dependency


async def test_temporal_down_answers_503(postgres: EmbeddedPostgres,
                                         temporal_server: TemporalDevServer, pool: asyncpg.Pool,
                                         make_token: MakeToken, http: httpx.AsyncClient,
                                         dev_token: str) -> None:
    """Receive and actions are 503 at once; reads from the event store still work."""
    existing = await receive(http, dev_token)  # through the healthy app
    settings = settings_for(postgres, temporal_server).model_copy(
        update={"temporal_address": f"127.0.0.1:{free_port()}"})
    token = await make_token("clerk", "leader", "ops")
    async with serve(settings) as down:
        assert (await down.get("/healthz")).status_code == 200
        checks = await ready_checks(down, until="postgresql")
        assert checks["temporal"].startswith("unreachable")
        ready = await down.get("/readyz")
        assert_503(ready, "temporal")
        started = time.monotonic()
        assert_503(await down.post("/v1/dossiers", json=receipt_body(), headers=bearer(token)),
                   "temporal")
        assert_503(await down.post(f"/v1/dossiers/{existing['code']}/assign",
                                   json={"officer": "o"}, headers=bearer(token)), "temporal")
        assert time.monotonic() - started < 2
        read = await down.get(f"/v1/dossiers/{existing['code']}", headers=bearer(token))
        assert read.status_code == 200


async def test_postgres_down_answers_503(postgres: EmbeddedPostgres,
                                         temporal_server: TemporalDevServer,
                                         dev_token: str) -> None:
    """Every route that needs the database is 503; healthz stays 200."""
    settings = settings_for(postgres, temporal_server).model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{free_port()}/motcua"})
    async with serve(settings) as down:
        assert (await down.get("/healthz")).status_code == 200
        checks = await ready_checks(down, until="temporal")
        assert checks["postgresql"].startswith("unreachable")
        assert_503(await down.get("/readyz"), "postgresql")
        assert_503(await down.get("/v1/dossiers", headers=bearer(dev_token)), "postgresql")
        assert_503(await down.post("/v1/dossiers", json=receipt_body(),
                                   headers=bearer(dev_token)), "postgresql")
        assert_503(await down.get("/v1/public/dossiers/000.21.39.H39-260101-0001"),
                   "postgresql")


async def test_no_worker_answers_503_in_bounded_time(
        postgres: EmbeddedPostgres, temporal_server: TemporalDevServer, client: Client,
        pool: asyncpg.Pool, dev_token: str) -> None:
    """Temporal up but no worker on the task queue: 503 within the call bound, not a hang."""
    settings = settings_for(postgres, temporal_server, task_queue="motcua-nobody")
    async with serve(settings, client=client, pool=pool) as api:
        started = time.monotonic()
        assert_503(await api.post("/v1/dossiers", json=receipt_body(),
                                  headers=bearer(dev_token)), "temporal")
        assert time.monotonic() - started < 10
