"""Issue 24 point 7 (and the secret part of issue 25 item 2): viewing a receipt changes nothing.
The lookup secret is answered once, in the receipt's 201 (or the acceptance of an online
submission), also in an idempotent replay when answers are stored sealed; a new one is an
explicit, audited POST with a reason; the receipt notice's link carries the secret, sealed
until sent; the API's HTML carries the console's security headers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from motcua import lookup
from motcua.app import create_app
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore import outbox
from motcua.notify.channels import SmsAdapter
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.notices import NoticeRouter
from motcua.notify.simulators import Served, Simulator
from motcua.payload_codec import Keyring
from motcua.temporal import connect
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, receipt_body, receive
from tests.api.test_errors import assert_problem
from tests.api.test_online_intake import submit
from tests.conftest import UNIT, settings_for
from worker import build_worker

pytestmark = pytest.mark.engine

SECRET = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
PUBLIC_URL = "https://dichvucong.example.vn"


async def _opens(http: httpx.AsyncClient, code: str, secret: str) -> bool:
    response = await http.get(f"/v1/public/dossiers/{code}", headers={"X-Lookup-Secret": secret})
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def test_the_201_carries_the_secret_and_viewing_the_receipt_voids_nothing(
        http: httpx.AsyncClient, dev_token: str, make_token: MakeToken,
        pool: asyncpg.Pool) -> None:
    """The receipt's 201 answers `lookup_secret` (not cached); the receipt, viewed twice by
    different staff, shows no secret, a line saying it was printed at intake, and the
    citizen's secret still opens the lookup, its stored hash unchanged."""
    response = await http.post("/v1/dossiers", json=receipt_body(), headers=bearer(dev_token))
    assert response.status_code == 201, response.text
    answer = response.json()
    code, secret = answer["code"], answer["lookup_secret"]
    assert SECRET.match(secret) and response.headers["cache-control"] == "no-store"
    assert answer["lookup_url"] == lookup.lookup_url(code, secret)
    stored = await pool.fetchval(
        "SELECT secret_hash FROM dossier_lookup WHERE dossier_code = $1", code)
    assert stored == lookup.secret_hash(secret)
    assert await _opens(http, code, secret)
    leader = await make_token("leader", unit=UNIT)
    for viewer in (dev_token, leader):
        page = await http.get(f"/v1/dossiers/{code}/documents/receipt", headers=bearer(viewer))
        assert page.status_code == 200, page.text
        assert "lookup-secret" not in page.text and normalised(secret) not in page.text
        assert "lookup-placeholder" in page.text and "khi tiếp nhận" in page.text
    assert await _opens(http, code, secret)
    assert await pool.fetchval(
        "SELECT secret_hash FROM dossier_lookup WHERE dossier_code = $1", code) == stored
    # The full view of the dossier carries no secret either.
    view = await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token))
    assert "lookup_secret" not in view.json()


def normalised(secret: str) -> str:
    return lookup.normalise(secret)


async def test_a_new_secret_is_an_explicit_audited_post(
        http: httpx.AsyncClient, dev_token: str, make_token: MakeToken,
        pool: asyncpg.Pool) -> None:
    """`POST .../lookup-secret` needs a reason (422), a clerk or leader (ops: 403) of the unit
    (elsewhere: 404); it answers a new secret (not cached) that opens the lookup while the old
    one no longer does, and records who, when and why."""
    clerk_name = f"clerk-reissue-{uuid.uuid4().hex[:6]}"
    clerk = await make_token("clerk", unit=UNIT, name=clerk_name)
    d = await receive(http, clerk)
    code, first = d["code"], d["lookup_secret"]
    path = f"/v1/dossiers/{code}/lookup-secret"
    no_reason = await http.post(path, json={}, headers=bearer(clerk))
    assert_problem(no_reason, 422, "invalid-input")
    blank = await http.post(path, json={"reason": "  "}, headers=bearer(clerk))
    assert_problem(blank, 422, "invalid-input")
    ops = await make_token("ops")
    assert_problem(await http.post(path, json={"reason": "x"}, headers=bearer(ops)),
                   403, "forbidden")
    stranger = await make_token("clerk", unit=OTHER_UNIT)
    assert_problem(await http.post(path, json={"reason": "x"}, headers=bearer(stranger)),
                   404, "not-found")
    assert await _opens(http, code, first)  # none of the refused requests changed it
    response = await http.post(path, json={"reason": "Công dân báo mất biên nhận"},
                               headers=bearer(clerk))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()["lookup_secret"]
    assert SECRET.match(second) and second != first
    assert not await _opens(http, code, first) and await _opens(http, code, second)
    audit = await pool.fetch("SELECT issued_by, reason, correlation_id FROM lookup_reissues "
                             "WHERE dossier_code = $1", code)
    assert [(r["issued_by"], r["reason"]) for r in audit] == [
        (clerk_name, "Công dân báo mất biên nhận")]
    assert audit[0]["correlation_id"]


async def test_accepting_an_online_submission_answers_the_secret(
        http: httpx.AsyncClient, make_token: MakeToken) -> None:
    """A submission has no secret yet (null); its acceptance answers one that opens the
    lookup; a second acceptance is refused and does not void it."""
    clerk = await make_token("clerk", unit=UNIT)
    d = await submit(http, clerk)
    assert d.get("lookup_secret") is None
    accepted = await act(http, clerk, d["code"], "accept", {})
    assert accepted.status_code == 200, accepted.text
    secret = accepted.json()["lookup_secret"]
    assert SECRET.match(secret) and await _opens(http, d["code"], secret)
    again = await act(http, clerk, d["code"], "accept", {})
    assert again.status_code == 409
    assert await _opens(http, d["code"], secret)


async def test_a_replay_without_payload_keys_keeps_no_secret(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool) -> None:
    """Without MOTCUA_PAYLOAD_KEYS the stored answer holds no secret (only its hash is kept
    anywhere): the replay answers the same dossier with `lookup_secret` null."""
    key = f"k-{uuid.uuid4().hex}"
    headers = bearer(dev_token, **{"Idempotency-Key": key})
    first = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    again = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    secret = first.json()["lookup_secret"]
    assert SECRET.match(secret) and again.json()["lookup_secret"] is None
    stored = await pool.fetchval("SELECT response::text FROM api_idempotency WHERE key = $1", key)
    assert normalised(secret) not in stored.replace("-", "")


async def test_api_html_carries_security_headers(
        http: httpx.AsyncClient, dev_token: str, make_token: MakeToken) -> None:
    """Documents, the printable register, /docs and /redoc: no-store, nosniff, never framed,
    and a CSP; the docs' inline script is allowed by its hash, not by 'unsafe-inline'."""
    d = await receive(http, dev_token)
    leader = await make_token("leader", unit=UNIT)
    today = datetime.now(UTC).date()
    pages = [
        await http.get(f"/v1/dossiers/{d['code']}/documents/receipt", headers=bearer(dev_token)),
        await http.get("/v1/reports/register", headers=bearer(leader), params={
            "unit": UNIT, "format": "html", "from": str(today - timedelta(days=1)),
            "to": str(today + timedelta(days=1))}),
        await http.get("/docs"), await http.get("/redoc")]
    for page in pages:
        assert page.status_code == 200, page.text
        h = page.headers
        assert h["cache-control"] == "no-store" and h["x-content-type-options"] == "nosniff"
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and h["x-frame-options"] == "DENY"
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src is None or "unsafe-inline" not in script_src[1]
    docs = pages[2]
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", docs.text, re.S)
    assert inline, "the Swagger UI page has its inline bootstrap"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in docs.headers["content-security-policy"]


# --- with payload keys: the replay carries the secret; the notice's link is sealed ----------

@pytest.fixture(scope="module")
async def keyed(pool: asyncpg.Pool, postgres: EmbeddedPostgres,
                temporal_server: TemporalDevServer
                ) -> AsyncIterator[tuple[httpx.AsyncClient, Keyring]]:
    """The API and a worker with payload keys and a public address, on their own queue."""
    keys = Keyring.generate("r1")
    settings = settings_for(postgres, temporal_server, task_queue="motcua-receipt-secret"
                            ).model_copy(update={"payload_keys": SecretStr(keys),
                                                 "public_url": PUBLIC_URL})
    sealed_client: Client = await connect(settings, interceptors=[])
    async with build_worker(settings, sealed_client, pool) as worker:
        running = asyncio.create_task(worker.run())
        app = create_app(settings, client=sealed_client, pool=pool)
        try:
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://motcua.test",
                    timeout=30) as http:
                yield http, Keyring.parse(keys)
        finally:
            await worker.shutdown()
            await running


async def test_a_sealed_replay_answers_the_same_secret(
        keyed: tuple[httpx.AsyncClient, Keyring], make_token: MakeToken,
        pool: asyncpg.Pool) -> None:
    """With payload keys, an idempotent replay answers the first secret (stored sealed, not in
    clear), and the replay issues no new one."""
    http, _keys = keyed
    clerk = await make_token("clerk", unit=UNIT)
    key = f"k-{uuid.uuid4().hex}"
    headers = bearer(clerk, **{"Idempotency-Key": key})
    first = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    again = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    secret = first.json()["lookup_secret"]
    assert again.json()["lookup_secret"] == secret and SECRET.match(secret)
    assert first.json()["lookup_url"].startswith(f"{PUBLIC_URL}/tra-cuu#")
    stored = await pool.fetchval("SELECT response::text FROM api_idempotency WHERE key = $1", key)
    assert normalised(secret) not in stored.replace("-", "")
    assert await _opens(http, first.json()["code"], secret)


@pytest.fixture
async def gateway() -> AsyncIterator[Served]:
    served = Served(Simulator(), free_port())
    await served.start()
    yield served
    await served.stop()


async def test_the_receipt_sms_links_the_lookup_with_its_secret_sealed_until_sent(
        keyed: tuple[httpx.AsyncClient, Keyring], make_token: MakeToken,
        pool: asyncpg.Pool, gateway: Served) -> None:
    """A receipt with `notify_by: ["sms"]` sends an SMS whose link opens the lookup with the
    secret of the 201; the secret is in clear in no table (the held copy is gone once the
    notice is composed; the notice itself is stored sealed)."""
    http, keys = keyed
    clerk = await make_token("clerk", unit=UNIT)
    d = await receive(http, clerk, notify_by=["sms"])
    code, secret = d["code"], d["lookup_secret"]
    assert await pool.fetchval("SELECT count(*) FROM notice_secrets WHERE dossier_code = $1",
                               code) == 1
    async with httpx.AsyncClient() as client:
        dispatcher = Dispatcher(pool, client, None, None, Policy(poll_interval=0.1),
                                adapters={"sms": SmsAdapter(client, gateway.url + "/sms",
                                                            keyring=keys)},
                                routers=(outbox.alerts_router, NoticeRouter(
                                    public_url=PUBLIC_URL, keyring=keys)))
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        deadline = time.monotonic() + 30
        try:
            while not [m for m in gateway.sim.sms if code in str(m["text"])]:
                assert time.monotonic() < deadline, gateway.sim.sms
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    [sms] = [m for m in gateway.sim.sms if code in str(m["text"])]
    link = f"{PUBLIC_URL}/tra-cuu#{code}.{normalised(secret)}"
    assert link in str(sms["text"])
    assert await pool.fetchval("SELECT count(*) FROM notice_secrets WHERE dossier_code = $1",
                               code) == 0
    bodies = await pool.fetch("SELECT body::text AS body FROM deliveries WHERE stream = $1",
                              code)
    assert bodies and not any(normalised(secret) in b["body"] for b in bodies)
    assert await _opens(http, code, secret)
