"""The notices' contract through the HTTP API (issue 25): a receipt with `notify_by: ["sms"]`
and an applicant phone sends one SMS with the dossier code through the generic gateway
(`{"to", "text"}`); a supplement request and the result being ready send one each; the
receipt's new fields are validated; the online submission keeps the portal's code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from motcua.devstack.procs import free_port
from motcua.eventstore import outbox
from motcua.eventstore.store import read_stream
from motcua.notify.channels import SmsAdapter
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.notices import NoticeRouter
from motcua.notify.simulators import Served, Simulator
from tests.api.conftest import act, bearer, receipt_body, receive
from tests.conftest import PROCEDURE, UNIT

pytestmark = pytest.mark.engine


@pytest.fixture
async def gateway() -> AsyncIterator[Served]:
    served = Served(Simulator(), free_port())
    await served.start()
    yield served
    await served.stop()


async def _sms_for(pool: asyncpg.Pool, gateway: Served, code: str,
                   want: int) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as client:
        dispatcher = Dispatcher(pool, client, None, None, Policy(poll_interval=0.1),
                                adapters={"sms": SmsAdapter(client, gateway.url + "/sms")},
                                routers=(outbox.alerts_router, NoticeRouter()))
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        deadline = time.monotonic() + 30
        try:
            while len([m for m in gateway.sim.sms if code in str(m["text"])]) < want:
                assert time.monotonic() < deadline, gateway.sim.sms
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # time for a wrong extra SMS to show
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    return [m for m in gateway.sim.sms if code in str(m["text"])]


async def test_sms_on_receipt_supplement_request_and_result(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool, gateway: Served) -> None:
    """One SMS per notice, to the phone as entered, each containing the dossier code."""
    d = await receive(http, dev_token, notify_by=["sms"],
                      applicant={"name": "Nguyễn Văn An", "phone": "0912 345 678"})
    code = d["code"]
    [first] = await _sms_for(pool, gateway, code, 1)
    assert first["to"] == "0912 345 678" and "tiếp nhận" in str(first["text"])
    for action, body in [("assign", {"officer": "officer-1"}), ("start", {}),
                         ("request-supplement", {"reason": "Thiếu CCCD", "documents": ["CCCD"]}),
                         ("supplement", {"documents": ["CCCD"]}),
                         ("complete", {"summary": "Đã giải quyết"})]:
        assert (await act(http, dev_token, code, action, body)).status_code == 200
    sms = await _sms_for(pool, gateway, code, 3)
    assert len(sms) == 3
    assert "Thiếu CCCD" in str(sms[1]["text"]) and "đã có kết quả" in str(sms[2]["text"])
    timeline = (await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token))).json()
    notices = [e for e in timeline["timeline"] if e["event_type"] == "NoticeSent"]
    assert [(e["data"]["kind"], e["data"]["channel"]) for e in notices] == [
        ("receipt", "sms"), ("supplement_request", "sms"), ("result_ready", "sms")]


async def test_no_notify_by_no_sms(http: httpx.AsyncClient, dev_token: str,
                                   pool: asyncpg.Pool, gateway: Served) -> None:
    """A citizen who chose no channel gets nothing, even with a phone."""
    code = (await receive(http, dev_token))["code"]
    marker = (await receive(http, dev_token, notify_by=["sms"]))["code"]
    await _sms_for(pool, gateway, marker, 1)  # the dispatcher got past the first one
    assert not [m for m in gateway.sim.sms if code in str(m["text"])]


@pytest.mark.parametrize("extra", [{"notify_by": ["fax"]}, {"notify_by": "sms"},
                                   {"proxy": {"phone": "0987654321"}},
                                   {"proxy": {"name": "A", "phone": "0987654321", "x": 1}}])
async def test_bad_notice_fields_are_refused(http: httpx.AsyncClient, dev_token: str,
                                             extra: dict[str, object]) -> None:
    """An unknown channel, a channel not in a list, or a proxy without a name is a 422."""
    response = await http.post("/v1/dossiers", json=receipt_body(**extra),
                               headers=bearer(dev_token))
    assert response.status_code == 422, response.text


async def test_proxy_and_channels_are_stored_with_the_receipt(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool) -> None:
    """The chosen channels (once each) and the proxy go into the receipt event."""
    d = await receive(http, dev_token, notify_by=["sms", "email", "sms"],
                      proxy={"name": "Trần Văn Bình", "phone": "0987654321"})
    [received, *_] = await read_stream(pool, d["code"])
    assert received.payload["notify_by"] == ["sms", "email"]
    assert received.payload["proxy_phone"] == "0987654321"


async def test_online_submission_keeps_the_portal_code(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool) -> None:
    """`portal_code` on an online submission is stored beside our code."""
    response = await http.post("/v1/dossiers/online", headers=bearer(dev_token), json={
        "procedure_code": PROCEDURE, "unit_code": UNIT, "portal_code": "G22.99-261207-0001",
        "applicant": {"name": "Lê Thị Cúc"}})
    assert response.status_code == 201, response.text
    [submitted] = await read_stream(pool, response.json()["code"])
    assert submitted.payload["portal_code"] == "G22.99-261207-0001"
