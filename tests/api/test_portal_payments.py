"""A payment the national portal reports resumes a dossier waiting for fees or taxes (national
code 6; issue 25 item 1), through the API on the real stack: the portal integration's clerk
token, `POST /v1/dossiers/{code}/payment`, the same transaction reported again recording
nothing twice, clear 4xx for a dossier not waiting, an unknown one and a bad body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx

from domain import events as ev
from domain.clock import pause_extension, working_time_between
from motcua.catalog.calendar import load_calendar
from motcua.eventstore.store import read_stream
from tests.api.conftest import MakeToken, act, bearer, make_officer, receive
from tests.conftest import UNIT, new_code

PORTAL = "cong-dvcqg"  # the portal integration's token, a clerk of the unit (as for online)


async def _pay(http: httpx.AsyncClient, token: str, code: str,
               body: dict[str, object]) -> httpx.Response:
    return await http.post(f"/v1/dossiers/{code}/payment", json=body, headers=bearer(token))


async def _waiting(http: httpx.AsyncClient, make_token: MakeToken,
                   pool: asyncpg.Pool) -> tuple[str, dict[str, Any]]:
    """A dossier in processing, then waiting for a tax payment (code 6); its JSON then."""
    clerk = await make_token("clerk", unit=UNIT)
    name = f"ld-tt-{new_code()[-6:]}"
    leader = await make_token("leader", "officer", unit=UNIT, name=name)
    await make_officer(pool, name, unit=UNIT, roles=("leader", "officer"))
    code = (await receive(http, clerk))["code"]
    assert (await act(http, leader, code, "assign", {"officer": name})).status_code == 200
    assert (await act(http, leader, code, "start")).status_code == 200
    waiting = await act(http, leader, code, "request-payment",
                        {"notice": "Thông báo nộp lệ phí trước bạ", "amount": 1500000})
    assert waiting.status_code == 200, waiting.text
    shown: dict[str, Any] = waiting.json()
    assert shown["status_code"] == 6
    return code, shown


async def test_a_portal_payment_resumes_the_dossier_and_moves_its_due_time(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """Code 6 → processing (code 4); a new due time for reason `payment_received`, moved by
    the office time waited in whole working days (Đồng Tháp 138/2025/QĐ-UBND art. 5(3): the
    second appointment counts from proof of payment, the tax time not counted); reported
    again, the same dossier and no second payment."""
    code, waiting = await _waiting(http, make_token, pool)
    portal = await make_token("clerk", unit=UNIT, name=f"{PORTAL}-{code[-4:]}")
    body = {"reference": f"DVCQG-TT-{code[-4:]}", "amount": 1500000,
            "paid_at": "2026-12-07T09:15:00+07:00"}
    paid = await _pay(http, portal, code, body)
    assert paid.status_code == 200, paid.text
    after = paid.json()
    assert (after["state"], after["status_code"]) == ("processing", 4)
    assert after["sla"]["deadline_version"] == waiting["sla"]["deadline_version"] + 1
    stream = await read_stream(pool, code)
    [received] = [e for e in stream if isinstance(e.event, ev.PaymentReceived)]
    assert isinstance(received.event, ev.PaymentReceived)
    assert (received.event.reference, received.event.amount) == (body["reference"], 1500000)
    assert received.event.note is not None and "Cổng DVCQG" in received.event.note
    assert received.metadata["actor"] == f"{PORTAL}-{code[-4:]}"
    [requested] = [e.event for e in stream if isinstance(e.event, ev.PaymentRequested)]
    last = stream[-1].event
    assert isinstance(last, ev.DeadlineSet) and last.reason == "payment_received"
    # The due time the law gives: the one before, moved by the office time waited.
    cal = load_calendar()
    before = datetime.fromisoformat(waiting["due_at"])
    waited = working_time_between(cal, requested.at, received.event.at)
    assert last.due_at == pause_extension(cal, before, waited, last.unit, last.rule_version)
    assert last.legal_due_at == last.due_at  # no apology: the legal due time moves alike
    # The portal reports the same payment again: the dossier as it is, nothing twice.
    again = await _pay(http, portal, code, body)
    assert again.status_code == 200, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["status_code"] == 4
    assert len([e for e in await read_stream(pool, code)
                if isinstance(e.event, ev.PaymentReceived)]) == 1


async def test_clear_refusals_and_nothing_recorded(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """409 for a dossier not waiting for payment (with its state), 404 for an unknown one or
    one of another unit, 422 for a bad body, 403 for a token that may not; nothing stored."""
    clerk = await make_token("clerk", unit=UNIT)
    portal = await make_token("clerk", unit=UNIT)
    code = (await receive(http, clerk))["code"]
    count = len(await read_stream(pool, code))
    wrong = await _pay(http, portal, code, {"reference": "TT-1", "amount": 1000})
    assert wrong.status_code == 409, wrong.text
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["state"] == "received"
    unknown = await _pay(http, portal, new_code(), {"reference": "TT-2"})
    assert unknown.status_code == 404, unknown.text
    elsewhere = await make_token("clerk", unit="000.22.39.H39")
    assert (await _pay(http, elsewhere, code, {"reference": "TT-3"})).status_code == 404
    for bad in ({}, {"reference": ""}, {"reference": "TT-4", "amount": 0},
                {"reference": "TT-5", "paid_at": "hôm qua"}, {"reference": "TT-6", "x": 1}):
        response = await _pay(http, portal, code, bad)
        assert response.status_code == 422, (bad, response.text)
    officer = await make_token("officer", unit=UNIT)
    assert (await _pay(http, officer, code, {"reference": "TT-7"})).status_code == 403
    assert len(await read_stream(pool, code)) == count
