"""Issue 11 over HTTP: complaints recorded as events, retired codes refused at receipt, the
counting rule shown, the refusal's national code."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.api.conftest import act, bearer, print_receipt, receipt_body, receive

pytestmark = pytest.mark.engine


async def test_complaint_is_recorded_on_the_dossier(http: httpx.AsyncClient,
                                                    dev_token: str) -> None:
    """A complaint (who, channel, text, outcome) becomes a ComplaintRecorded event; bad input
    is a 422 naming the field."""
    d = await receive(http, dev_token)
    response = await act(http, dev_token, d["code"], "complaint", {
        "complainant": "Nguyễn Văn An", "channel": "hotline",
        "text": "Chưa nhận được kết quả", "outcome": "Đã giải thích, hẹn lại"})
    assert response.status_code == 200, response.text
    last = response.json()["timeline"][-1]
    assert last["event_type"] == "ComplaintRecorded"
    assert last["data"]["channel"] == "hotline" and last["data"]["outcome"]
    bad = await act(http, dev_token, d["code"], "complaint",
                    {"complainant": "A", "channel": "hotline"})
    assert bad.status_code == 422 and "text" in bad.text


async def test_retired_code_is_refused_at_receipt(http: httpx.AsyncClient,
                                                  dev_token: str) -> None:
    """A code Decree 280/2025 merged takes no new receipt: 422 naming its replacement."""
    response = await http.post("/v1/dossiers", headers=bearer(dev_token), json=receipt_body(
        procedure_code="L.chung-thuc.di-chuc"))
    assert response.status_code == 422
    assert "2.001019" in response.text


async def test_refusal_after_acceptance_is_not_code_3(http: httpx.AsyncClient,
                                                      dev_token: str) -> None:
    """A refusal after the receipt reports national code 10 (our reading), not 3."""
    d = await receive(http, dev_token)
    response = await act(http, dev_token, d["code"], "refuse", {"reason": "Không đủ điều kiện"})
    assert response.status_code == 200, response.text
    assert response.json()["status_code"] == 10


async def test_new_appointment_is_shown_apart_from_the_legal_due(http: httpx.AsyncClient,
                                                                  dev_token: str) -> None:
    """After an apology the staff and public views show the legal due time (what timeliness is
    judged against) and the new appointment separately (issue 11 point 5)."""
    d = await receive(http, dev_token)
    due = datetime.fromisoformat(d["due_at"])
    new_due = due + timedelta(days=7)
    response = await act(http, dev_token, d["code"], "extend",
                         {"reason": "Cần xác minh", "new_due_at": new_due.isoformat()})
    assert response.status_code == 200, response.text
    sla = response.json()["sla"]
    assert datetime.fromisoformat(sla["legal_due_at"]) == due
    assert datetime.fromisoformat(sla["appointment_at"]) == new_due
    assert sla["apology_in_time"] is True
    secret = await print_receipt(http, dev_token, d["code"])
    public = (await http.get(f"/v1/public/dossiers/{d['code']}",
                             headers={"X-Lookup-Secret": secret})).json()
    assert datetime.fromisoformat(public["legal_due_at"]) == due
    assert datetime.fromisoformat(public["appointment_at"]) == new_due


async def test_verification_moves_the_due_time_to_the_maximum_once(http: httpx.AsyncClient,
                                                                   dev_token: str) -> None:
    """An officer records that verification is needed, with the reason: the due time becomes
    the procedure's maximum (marriage, Luật Hộ tịch 2014 art. 18(2): 05 working days), as an
    audited event; a second time is refused; a procedure without a maximum refuses it."""
    d = await receive(http, dev_token, procedure_code="1.000894")
    response = await act(http, dev_token, d["code"], "verification",
                         {"reason": "Cần xác minh điều kiện kết hôn"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["event_type"] for e in body["timeline"]][-2:] == ["VerificationRequired",
                                                               "DeadlineSet"]
    assert body["timeline"][-1]["data"]["reason"] == "verification"
    assert body["timeline"][-1]["data"]["unit"] == "working_days"
    assert datetime.fromisoformat(body["due_at"]) > datetime.fromisoformat(d["due_at"])
    again = await act(http, dev_token, d["code"], "verification", {"reason": "lần nữa"})
    assert again.status_code == 409
    other = await receive(http, dev_token)  # permanent residence: no maximum in the catalog
    refused = await act(http, dev_token, other["code"], "verification", {"reason": "x"})
    assert 400 <= refused.status_code < 500 and "maximum" in refused.text


async def test_result_delivery_is_registered_on_the_receipt(http: httpx.AsyncClient,
                                                            dev_token: str) -> None:
    """Form 01 "Đăng ký nhận kết quả tại": counter or post, recorded and printed; anything
    else is a 422 naming the field."""
    d = await receive(http, dev_token, result_delivery="post")
    assert d["timeline"][0]["data"]["result_delivery"] == "post"
    html = (await http.get(f"/v1/dossiers/{d['code']}/documents/receipt",
                           headers=bearer(dev_token))).text
    assert "Đăng ký nhận kết quả tại: Qua dịch vụ bưu chính công ích" in html
    assert "Vào Sổ theo dõi hồ sơ, Quyển số:" in html
    bad = await http.post("/v1/dossiers", headers=bearer(dev_token),
                          json=receipt_body(result_delivery="boat"))
    assert bad.status_code == 422 and "result_delivery" in bad.text
