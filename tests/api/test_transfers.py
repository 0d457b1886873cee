"""Transfers between units (issue 22 item 3) and the wait for payment (item 4) through the API,
on the real stack: unit scope checked from the receiving unit, the holding unit and a third
unit, the result back at the receiving unit, a return as unfit, and national code 6."""

from __future__ import annotations

import asyncpg
import httpx

from motcua.services.listing import MAX_LIMIT
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, project, receive
from tests.conftest import UNIT

THIRD_UNIT = "000.23.39.H39"


async def _get(http: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await http.get(f"/v1/dossiers/{code}", headers=bearer(token))


async def _listed(http: httpx.AsyncClient, token: str, code: str) -> bool:
    # Only the other units' lists are read: theirs are short in the session's database.
    response = await http.get("/v1/dossiers", params={"limit": MAX_LIMIT},
                              headers=bearer(token))
    assert response.status_code == 200, response.text
    return code in {item["code"] for item in response.json()["items"]}


async def test_a_transfer_moves_the_scope_and_the_result_comes_back(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """After a transfer the new unit reads and acts, the receiving unit still reads (and may
    not act), a third unit gets 404; the result returns to the receiving unit's counter."""
    home_clerk = await make_token("clerk", unit=UNIT)
    home_leader = await make_token("leader", unit=UNIT)
    home_officer = await make_token("officer", unit=UNIT)
    there_leader = await make_token("leader", unit=OTHER_UNIT)
    there_officer = await make_token("officer", unit=OTHER_UNIT, name="can-bo-so")
    third = await make_token("leader", "officer", "clerk", unit=THIRD_UNIT)
    code = (await receive(http, home_clerk))["code"]

    # Before: the other unit cannot see it, nor transfer it to itself.
    assert (await _get(http, there_leader, code)).status_code == 404
    assert (await act(http, there_leader, code, "transfer",
                      {"unit_code": OTHER_UNIT, "reason": "x"})).status_code == 404
    # An unknown unit is refused by name, before anything is stored.
    unknown = await act(http, home_leader, code, "transfer",
                        {"unit_code": "000.99.99.H99", "reason": "liên thông"})
    assert unknown.status_code == 422, unknown.text
    assert "unit_code" in unknown.text

    moved = await act(http, home_leader, code, "transfer",
                      {"unit_code": OTHER_UNIT, "reason": "Chuyển Sở thẩm định"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["unit_code"], body["holding_unit_code"]) == (UNIT, OTHER_UNIT)

    # Reads: both units see it with both units named; a third unit gets 404.
    for token in (there_officer, home_officer):
        seen = await _get(http, token, code)
        assert seen.status_code == 200, seen.text
        assert (seen.json()["unit_code"], seen.json()["holding_unit_code"]) == (UNIT,
                                                                              OTHER_UNIT)
    assert (await _get(http, third, code)).status_code == 404
    # Lists: the holding unit lists it, the third does not; the read model keeps both units.
    await project(pool)
    assert await _listed(http, there_officer, code)
    assert not await _listed(http, third, code)
    row = await pool.fetchrow("SELECT unit_code, holding_unit_code FROM dossiers "
                              "WHERE code = $1", code)
    assert row is not None and (row["unit_code"], row["holding_unit_code"]) == (UNIT,
                                                                              OTHER_UNIT)

    # Acts: the receiving unit's leader may no longer assign (403), nor transfer again; the
    # third unit gets 404; the holding unit's leader assigns its officer.
    refused = await act(http, home_leader, code, "assign", {"officer": "can-bo-nha"})
    assert refused.status_code == 403, refused.text
    assert (await act(http, home_leader, code, "transfer",
                      {"unit_code": THIRD_UNIT, "reason": "x"})).status_code == 403
    assert (await act(http, third, code, "assign",
                      {"officer": "x"})).status_code == 404
    assigned = await act(http, there_leader, code, "assign", {"officer": "can-bo-so"})
    assert assigned.status_code == 200, assigned.text
    assert (await act(http, there_officer, code, "start")).status_code == 200
    ready = await act(http, there_officer, code, "complete", {"summary": "Đã thẩm định"})
    assert ready.status_code == 200, ready.text
    assert ready.json()["state"] == "ready"
    # The result went back to the receiving unit (Nghệ An 3783/QĐ-UBND art. 2(2)(d)).
    assert ready.json()["holding_unit_code"] == UNIT
    assert "ResultSentBack" in [e["event_type"] for e in ready.json()["timeline"]]
    assert (await act(http, home_clerk, code, "return")).status_code == 200
    # The other unit no longer holds it: out of its scope again.
    assert (await _get(http, there_officer, code)).status_code == 404


async def test_the_other_unit_returns_an_unfit_dossier(
        http: httpx.AsyncClient, make_token: MakeToken) -> None:
    """The holding unit returns a transferred dossier with its reason, in time (02 working
    days), and the one-stop shop's notice limit is recorded; the receiving unit holds it."""
    home_clerk = await make_token("clerk", unit=UNIT)
    home_leader = await make_token("leader", unit=UNIT)
    there_leader = await make_token("leader", unit=OTHER_UNIT)
    code = (await receive(http, home_clerk))["code"]
    # Not transferred: nothing to return (409).
    assert (await act(http, home_leader, code, "return-transfer",
                      {"reason": "x"})).status_code == 409
    assert (await act(http, home_leader, code, "transfer",
                      {"unit_code": OTHER_UNIT, "reason": "liên thông"})).status_code == 200
    returned = await act(http, there_leader, code, "return-transfer",
                         {"reason": "Thiếu văn bản thẩm định"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["holding_unit_code"] == UNIT
    stored = [e for e in returned.json()["timeline"] if e["event_type"] == "TransferReturned"]
    assert len(stored) == 1
    assert (await _get(http, there_leader, code)).status_code == 404


async def test_waiting_for_payment_is_code_6_and_moves_the_due_time(
        http: httpx.AsyncClient, make_token: MakeToken) -> None:
    """request-payment: state awaiting_payment, national code 6, SLA paused; payment-received
    by the counter: back to processing with a new due time for reason payment_received."""
    clerk = await make_token("clerk", unit=UNIT)
    leader = await make_token("leader", "officer", unit=UNIT, name="lanh-dao-tt")
    code = (await receive(http, clerk))["code"]
    assert (await act(http, leader, code, "assign", {"officer": "lanh-dao-tt"})).status_code \
        == 200
    assert (await act(http, leader, code, "start")).status_code == 200
    waiting = await act(http, leader, code, "request-payment",
                        {"notice": "Thông báo nộp lệ phí trước bạ", "amount": 1500000})
    assert waiting.status_code == 200, waiting.text
    assert (waiting.json()["state"], waiting.json()["status_code"]) == ("awaiting_payment", 6)
    assert waiting.json()["sla"]["status"] == "paused"
    # Bad amounts are refused by the schema.
    assert (await act(http, clerk, code, "payment-received",
                      {"amount": 0})).status_code == 422
    paid = await act(http, clerk, code, "payment-received",
                     {"amount": 1500000, "reference": "CT-0001"})
    assert paid.status_code == 200, paid.text
    after = paid.json()
    assert (after["state"], after["status_code"]) == ("processing", 4)
    assert after["sla"]["deadline_version"] == 2
    assert after["due_at"] >= waiting.json()["due_at"]
    fee = await act(http, clerk, code, "record-fee", {"amount": 50000, "reference": "BL-9"})
    assert fee.status_code == 200, fee.text
