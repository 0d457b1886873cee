"""The console in a real browser: the API app (console included) served by uvicorn on a free
port in this process, on the session's real Temporal server, PostgreSQL and worker, with the
projector running; Debian's chromium driven by Playwright (never a downloaded browser).

Without a `chromium` binary the browser tests are skipped (CI installs it: .ci/apt-packages).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from temporalio.client import Client

from motcua.access.users import create_user
from motcua.app import create_app
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore import projector
from motcua.files.devkeys import make_signer
from motcua.files.settings import FileSettings
from tests.conftest import settings_for

CHROMIUM = shutil.which("chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "mat-khau-thu-nghiem-1"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]

# Locally a missing browser skips the browser tests; in CI (which installs chromium from
# .ci/apt-packages) they run, and the `browser` fixture fails instead of skipping.
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="no chromium binary on PATH")


@pytest.fixture(scope="session")
async def console_url(client: Client, pool: asyncpg.Pool, worker: None,
                      postgres: EmbeddedPostgres,
                      temporal_server: TemporalDevServer,
                      stack_dir: Path) -> AsyncIterator[str]:
    """The base URL of the app served over real HTTP (cookies, redirects, static files), with
    the projector keeping the read models current."""
    settings = settings_for(postgres, temporal_server).model_copy(
        update={"secure_cookies": False})
    app = create_app(settings, client=client, pool=pool)
    # Files and result signing as on the dev stack (issue 26): a fresh master key and signer.
    bundle, passphrase, _ca = make_signer()
    (stack_dir / "console-signer.p12").write_bytes(bundle)
    app.state.file_settings = FileSettings(
        files_master_key=base64.b64encode(os.urandom(32)).decode(),  # type: ignore[arg-type]
        signing_pkcs12=stack_dir / "console-signer.p12",
        signing_passphrase=passphrase.decode())  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    stop = asyncio.Event()
    own = await asyncpg.create_pool(postgres.dsn, min_size=1, max_size=2)  # LISTENs
    projecting = asyncio.create_task(projector.run(own, stop, poll_interval=0.2))
    for _ in range(400):  # uvicorn offers no event to await
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    stop.set()
    server.should_exit = True
    await serving
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(projecting, 10)
    await own.close()


MakeUser = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def make_user(pool: asyncpg.Pool) -> MakeUser:
    """Create a console user with these roles (and unit); returns the username."""

    async def _make(*roles: str, unit: str | None, name: str | None = None,
                    full_name: str = "", counter: str | None = None) -> str:
        username = name or f"{'-'.join(roles)}-{uuid.uuid4().hex[:6]}"
        await create_user(pool, username=username, password=PASSWORD, roles=list(roles),
                          unit_code=unit, full_name=full_name, counter=counter)
        return username

    return _make


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    """One chromium for the session."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI installs it from .ci/apt-packages")
        pytest.skip("no chromium binary on PATH")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        await launched.close()
