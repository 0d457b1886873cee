"""The API in-process on the session's real Temporal server, PostgreSQL and worker, driven by
httpx over ASGI; tokens per role and unit made directly in the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from motcua.access.limiter import RateLimiter
from motcua.access.tokens import create_token
from motcua.access.users import create_user
from motcua.app import create_app
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore.projector import catch_up
from tests.conftest import PROCEDURE, UNIT, settings_for

OTHER_UNIT = "000.22.39.H39"
ALL_ROLES = ["clerk", "officer", "leader", "ops"]


# The officers the tests assign dossiers to: active console users of every unit, since only
# such a user may hold a dossier (issue 24 point 5, `motcua.services.holders`).
ROSTER = ("officer-1", "officer-2", "officer-7", "officer-9")


async def make_officer(pool: asyncpg.Pool, name: str | None = None, *, unit: str | None = None,
                       roles: tuple[str, ...] = ("officer",)) -> str:
    """An active console user who may hold dossiers (of `unit`, or of every unit)."""
    name = name or f"officer-{uuid.uuid4().hex[:8]}"
    await create_user(pool, username=name, password="mat-khau-thu-nghiem-1", roles=list(roles),
                      unit_code=unit, replace=True)
    return name


@pytest.fixture(scope="session")
async def api(client: Client, pool: asyncpg.Pool, worker: None, postgres: EmbeddedPostgres,
              temporal_server: TemporalDevServer) -> AsyncIterator[FastAPI]:
    """The app with the session's client and pool injected, its lifespan running, and the
    officers of `ROSTER`."""
    for name in ROSTER:
        await make_officer(pool, name)
    app = create_app(settings_for(postgres, temporal_server), client=client, pool=pool)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(autouse=True)
def _fresh_lookup_budget(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses the app gets a full lookup budget (the in-process client is one
    address for the whole session: the lookups, ratings and downloads of earlier tests would
    otherwise drain a later test's bucket), and a test that swaps the limiter gets it back."""
    if "api" not in request.fixturenames:
        yield
        return
    resources = request.getfixturevalue("api").state.resources
    saved = resources.lookup_limiter
    resources.lookup_limiter = RateLimiter(per_minute=resources.settings.lookup_per_minute)
    yield
    resources.lookup_limiter = saved


@pytest.fixture(scope="session")
async def http(api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url="http://motcua.test", timeout=30) as c:
        yield c


MakeToken = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def make_token(pool: asyncpg.Pool) -> MakeToken:
    """Create a token with these roles (and unit scope); returns the secret."""

    async def _make(*roles: str, unit: str | None = None, name: str | None = None) -> str:
        return await create_token(pool, name=name or f"t-{'-'.join(roles)}-{uuid.uuid4().hex[:8]}",
                                  roles=list(roles), unit_code=unit)

    return _make


@pytest.fixture(scope="session")
async def dev_token(make_token: MakeToken) -> str:
    """A token with every role and no unit scope."""
    return await make_token(*ALL_ROLES, name=f"dev-{uuid.uuid4().hex[:8]}")


def bearer(token: str, **extra: str) -> dict[str, str]:
    """Headers authenticating with `token` (plus any extra headers)."""
    return {"Authorization": f"Bearer {token}", **extra}


def receipt_body(**overrides: Any) -> dict[str, Any]:
    """A valid receive request body."""
    body: dict[str, Any] = {
        "procedure_code": PROCEDURE, "unit_code": UNIT, "channel": "counter",
        "applicant": {"name": "Nguyễn Văn An", "phone": "0912345678"},
        "documents": ["Tờ khai"],
    }
    body.update(overrides)
    return body


async def receive(http: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    """Receive a dossier through the API; returns its JSON (asserting 201)."""
    response = await http.post("/v1/dossiers", json=receipt_body(**overrides),
                               headers=bearer(token))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def act(http: httpx.AsyncClient, token: str, code: str, action: str,
              body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    """POST an action on a dossier."""
    return await http.post(f"/v1/dossiers/{code}/{action}", json=body or {},
                           headers=bearer(token, **headers))


async def project(pool: asyncpg.Pool) -> None:
    """Bring the read models up to date."""
    async with pool.acquire() as conn:
        await catch_up(conn)


async def print_receipt(http: httpx.AsyncClient, token: str, code: str) -> str:
    """Reprint the dossier's receipt with a new lookup secret (issue 24 point 7: viewing it
    issues none; `POST .../lookup-secret` with a reason does); returns the new secret."""
    response = await http.post(f"/v1/dossiers/{code}/lookup-secret",
                               json={"reason": "In lại biên nhận"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    secret: str = response.json()["lookup_secret"]
    return secret
