"""Citizens' notices end to end: the real workflow and dispatcher, a local SMS gateway and Zalo
ZNS simulator (HTTP on loopback) and a real SMTP server (aiosmtpd): a notice per event kind,
read back from what the servers received; nothing for a citizen who chose no channel."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from motcua.devstack.procs import free_port
from motcua.eventstore import outbox
from motcua.notify.channels import EmailAdapter, SmsAdapter, ZaloAdapter
from motcua.notify.dispatcher import Dispatcher, Policy
from motcua.notify.notices import KINDS, NoticeRouter
from motcua.notify.simulators import Served, Simulator
from motcua.payload_codec import Keyring
from tests.conftest import PROCEDURE, TASK_QUEUE, UNIT, Receive, new_code

pytestmark = pytest.mark.engine

PHONE, PROXY_PHONE, MAIL = "0912 345 678", "0987654321", "an.nv@example.vn"


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[Served]:
    served = Served(Simulator(), free_port())
    await served.start()
    yield served
    await served.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _mail_text(message: email.message.Message) -> str:
    """The plain text of a received mail (decoded, whatever its transfer encoding)."""
    if not isinstance(message, email.message.EmailMessage):
        return ""
    part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
    return str(part.get_content()) if isinstance(part, email.message.EmailMessage) else ""


async def _settled(pool: asyncpg.Pool, codes: list[str], within: float = 60.0) -> list[
        asyncpg.Record]:
    deadline = time.monotonic() + within
    while True:
        rows = await pool.fetch(
            "SELECT stream, destination, kind, status FROM deliveries "
            "WHERE stream = ANY($1) AND destination = ANY($2) ORDER BY id", codes,
            list(outbox.NOTICES))
        if rows and all(r["status"] != "pending" for r in rows):
            return rows
        assert time.monotonic() < deadline, [dict(r) for r in rows]
        await asyncio.sleep(0.1)


async def _run_dossiers(client: Client, receive: Receive) -> dict[str, str]:
    """One dossier per path; returns kind -> the code of the dossier that makes it."""
    chosen: dict[str, Any] = {"notify_by": ("sms", "zalo", "email"), "applicant_phone": PHONE,
                              "applicant_email": MAIL}

    async def act(code: str, action: str, command: cmd.Command) -> None:
        await dossiers.act(client, code, action, command)

    a = await receive(**chosen)
    await act(a.code, "assign", cmd.AssignOfficer(officer="o1"))
    await act(a.code, "start", cmd.StartProcessing())
    await act(a.code, "request-supplement", cmd.RequestSupplement(
        reason="Thiếu bản sao sổ hộ khẩu", documents=("Sổ hộ khẩu",)))
    await act(a.code, "supplement", cmd.ProvideSupplement(documents=("Sổ hộ khẩu",)))
    assert a.due_at is not None
    await act(a.code, "extend", cmd.ExtendDeadline(reason="Cần xác minh thêm",
                                                   new_due_at=a.due_at + timedelta(days=10)))
    await act(a.code, "complete", cmd.CompleteProcessing(summary="Giấy xác nhận"))
    await act(a.code, "return", cmd.ReturnResult())
    b = await receive(**chosen)
    await act(b.code, "refuse", cmd.RefuseDossier(reason="Không thuộc thẩm quyền"))
    c = await receive(**chosen)
    await act(c.code, "withdraw", cmd.WithdrawDossier(reason="Công dân xin rút"))
    d = await receive(**chosen)
    await act(d.code, "assign", cmd.AssignOfficer(officer="o1"))
    await act(d.code, "start", cmd.StartProcessing())
    # Transferred and returned as unfit: the one-stop shop tells the citizen (issue 22 item 3).
    await act(d.code, "transfer", cmd.TransferDossier(unit_code="000.22.39.H39",
                                                      reason="liên thông"))
    await act(d.code, "return-transfer", cmd.ReturnTransfer(reason="Thiếu văn bản thẩm định"))
    await act(d.code, "stop", cmd.StopProcessing(reason="Hồ sơ giả mạo"))
    online = {"unit_code": UNIT, "procedure_code": PROCEDURE, "applicant_name": "Lê Thị Cúc",
              "applicant_phone": PHONE, "applicant_email": MAIL,
              "notify_by": ("sms", "zalo", "email")}
    e = await dossiers.submit_online(client, cmd.SubmitOnline(code=new_code(), **online),
                                     task_queue=TASK_QUEUE)
    await act(e.code, "accept", cmd.AcceptSubmission())
    f = await dossiers.submit_online(client, cmd.SubmitOnline(code=new_code(), **online),
                                     task_queue=TASK_QUEUE)
    await act(f.code, "refuse-intake", cmd.RefuseAtIntake(reason="Sai thủ tục"))
    return {"receipt": a.code, "supplement_request": a.code, "extension": a.code,
            "result_ready": a.code, "returned": a.code, "refusal": b.code,
            "withdrawal": c.code, "stop": d.code, "transfer_returned": d.code,
            "submission_accepted": e.code,
            "submission_refused": f.code}


async def test_a_notice_per_event_kind_reaches_sms_zalo_and_email(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient,
        smtp: tuple[Inbox, int], gateway: Served) -> None:
    """Every kind of notice arrives once on each chosen channel, in Vietnamese, with the
    dossier code and nothing of the applicant but the address it is sent to; the texts
    were stored sealed; the timeline shows each delivery."""
    inbox, smtp_port = smtp
    keyring = Keyring.parse(Keyring.generate())
    templates = {kind: f"tpl-{kind}" for kind in KINDS}
    adapters = {
        "sms": SmsAdapter(http, gateway.url + "/sms", keyring=keyring),
        "zalo": ZaloAdapter(http, gateway.url + "/message/template", "zalo-token", templates,
                            keyring=keyring),
        "email": EmailAdapter(host="127.0.0.1", port=smtp_port, sender="motcua@example.vn",
                              starttls=False, keyring=keyring)}
    fast = Policy(initial_backoff=0.05, max_backoff=0.2, max_attempts=None, give_up_after=60)
    dispatcher = Dispatcher(pool, http, None, None, Policy(poll_interval=0.1),
                            adapters=adapters, policies=dict.fromkeys(adapters, fast),
                            routers=(outbox.alerts_router,
                                     NoticeRouter(keyring=keyring, public_url="https://dvc.vn")))
    silent = await receive(applicant_phone=PHONE)  # chose no channel
    by_kind = await _run_dossiers(client, receive)
    codes = sorted(set(by_kind.values()) | {silent.code})
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        rows = await _settled(pool, codes)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    assert {r["status"] for r in rows} == {"delivered"}
    assert not [r for r in rows if r["stream"] == silent.code]
    sent = {(r["stream"], r["kind"], r["destination"]) for r in rows}
    for kind, code in by_kind.items():
        for channel in outbox.NOTICES:
            assert (code, kind, channel) in sent, (kind, channel)
    # Once each: the 11 kinds, plus the receipts of the refused, withdrawn and stopped
    # dossiers; the withdrawal's stop notice is folded into it.
    assert len(rows) == len(sent) == (len(by_kind) + 3) * 3
    sim = gateway.sim
    # The phone as entered (only this test's dossiers: the dispatcher also reads other tests'
    # events from the shared event store).
    assert all(m["to"] == PHONE for m in sim.sms if any(c in m["text"] for c in codes))
    texts = {m["text"] for m in sim.sms}
    for code in set(by_kind.values()):
        assert sum(code in t for t in texts) >= 1
    receipt = next(t for t in texts if by_kind["receipt"] in t and "tiếp nhận" in t)
    assert "Hẹn trả kết quả" in receipt and "https://dvc.vn/tra-cuu" in receipt
    assert any("Thiếu bản sao sổ hộ khẩu" in t and "Sổ hộ khẩu" in t for t in texts)
    assert any("xin lỗi" in t and "Cần xác minh thêm" in t for t in texts)
    assert not any("Nguyễn" in t or MAIL in t for t in texts)
    assert {z["phone"] for z in sim.zalo} == {"84912345678"}
    assert {z["template_id"] for z in sim.zalo} == set(templates.values())
    # Only this test's mail: the dispatcher also delivers other tests' notices from the shared
    # event store to the same server.
    mails = [m for m in inbox.messages
             if any(c in str(m["Subject"]) + _mail_text(m) for c in codes)]
    subjects = [str(m["Subject"]) for m in mails]
    assert len(mails) == len(by_kind) + 3
    assert {str(m["To"]) for m in mails} == {MAIL}
    assert any(s.startswith("Thư xin lỗi") for s in subjects)
    apology = next(m for m in mails if str(m["Subject"]).startswith("Thư xin lỗi"))
    assert isinstance(apology, email.message.EmailMessage)
    body = apology.get_content()
    assert "Cần xác minh thêm" in body and "Hẹn trả lại" in body
    stored = await pool.fetch("SELECT body::text AS b FROM deliveries WHERE stream = ANY($1) "
                              "AND destination = 'sms'", codes)
    assert stored and all(PHONE not in r["b"] and "sealed" in r["b"] for r in stored)
    entries = [e for e in (await dossiers_timeline(pool, by_kind["returned"]))
               if e.event_type == "NoticeSent"]
    assert {(e.data["kind"], e.data["channel"]) for e in entries} >= {
        ("returned", "sms"), ("receipt", "email")}


async def dossiers_timeline(pool: asyncpg.Pool, code: str) -> list[Any]:
    from motcua.eventstore.store import read_stream
    from motcua.services.views import timeline

    return timeline(await read_stream(pool, code), await outbox.deliveries(pool, code))


async def test_a_proxy_s_phone_receives_the_sms(
        client: Client, pool: asyncpg.Pool, receive: Receive, http: httpx.AsyncClient,
        gateway: Served) -> None:
    """When a proxy filed with a phone, the SMS goes to the proxy, not the applicant."""
    dispatcher = Dispatcher(pool, http, None, None, Policy(poll_interval=0.1),
                            adapters={"sms": SmsAdapter(http, gateway.url + "/sms")},
                            routers=(outbox.alerts_router, NoticeRouter()))
    d = await receive(notify_by=("sms",), applicant_phone=PHONE, proxy_name="Trần Văn Bình",
                      proxy_phone=PROXY_PHONE)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await _settled(pool, [d.code])
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    [sms] = [m for m in gateway.sim.sms if d.code in m["text"]]
    assert sms["to"] == PROXY_PHONE
