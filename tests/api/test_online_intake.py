"""Online intake over HTTP (issue 11 points 7-8): `POST /v1/dossiers/online` records a
submission awaiting acceptance (code 1, no due time); the intake clerk accepts it, asks for a
supplement (the period restarts) or refuses it (code 3); other commands are 409."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from motcua.api.problems import MEDIA_TYPE
from tests.api.conftest import MakeToken, act, bearer, project
from tests.conftest import PROCEDURE, UNIT

pytestmark = pytest.mark.engine


def submission_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "procedure_code": PROCEDURE, "unit_code": UNIT,
        "applicant": {"name": "Đỗ Văn Giang", "email": "giang@example.vn"},
        "documents": ["Tờ khai điện tử"]}
    body.update(overrides)
    return body


async def submit(http: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    response = await http.post("/v1/dossiers/online", json=submission_body(**overrides),
                               headers=bearer(token))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_submission_then_intake_supplement_then_acceptance(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    clerk = await make_token("clerk", unit=UNIT)
    officer = await make_token("officer", unit=UNIT)
    d = await submit(http, clerk)
    code = d["code"]
    assert (d["state"], d["status_code"], d["channel"]) == ("submitted", 1, "online")
    assert d["due_at"] is None and d["received_at"] is None and d["submitted_at"]
    assert d["sla"]["deadline_version"] == 0
    assert [t["event_type"] for t in d["timeline"]] == ["DossierSubmitted"]

    # The read model's queue shows it with code 1.
    await project(pool)
    listed = await http.get("/v1/dossiers", params={"state": "submitted", "unit": UNIT},
                            headers=bearer(clerk))
    assert listed.status_code == 200, listed.text
    rows = {r["code"]: r for r in listed.json()["items"]}
    assert rows[code]["status_code"] == 1 and rows[code]["due_at"] is None

    # Intake actions are the clerk's.
    assert (await act(http, officer, code, "accept")).status_code == 403
    asked = await act(http, clerk, code, "request-intake-supplement",
                      {"reason": "Thiếu bản sao CCCD", "documents": ["Bản sao CCCD"]})
    assert asked.status_code == 200, asked.text
    assert (asked.json()["state"], asked.json()["status_code"]) == (
        "awaiting_intake_supplement", 5)
    early = await act(http, clerk, code, "accept")
    assert early.status_code == 409 and early.json()["state"] == "awaiting_intake_supplement"
    got = await act(http, clerk, code, "intake-supplement", {"documents": ["Bản sao CCCD"]})
    assert got.status_code == 200 and got.json()["status_code"] == 1
    supplied_at = got.json()["timeline"][-1]["data"]["at"]
    accepted = await act(http, clerk, code, "accept", {"note": "Đủ hồ sơ"})
    assert accepted.status_code == 200, accepted.text
    a = accepted.json()
    assert (a["state"], a["status_code"]) == ("received", 2)
    assert datetime.fromisoformat(a["counted_from"]) == datetime.fromisoformat(supplied_at)
    assert a["due_at"] is not None and a["sla"]["deadline_version"] == 1
    assert a["sla"]["rule_name"].startswith("civil_code/working_days@v3")
    assert [t["event_type"] for t in a["timeline"]][-2:] == ["SubmissionAccepted",
                                                              "DeadlineSet"]
    receipt = await http.get(f"/v1/dossiers/{code}/documents/receipt", headers=bearer(clerk))
    assert receipt.status_code == 200 and "Đỗ Văn Giang" in receipt.text
    slip = await http.get(f"/v1/dossiers/{code}/documents/process-control",
                          headers=bearer(clerk))
    assert slip.status_code == 200, slip.text
    assert "Nộp hồ sơ trực tuyến" in slip.text and "Yêu cầu bổ sung trước khi tiếp nhận" in \
        slip.text


async def test_wrong_state_commands_are_409(http: httpx.AsyncClient, dev_token: str) -> None:
    """Processing commands on a submission are the usual conflict, as problem JSON."""
    d = await submit(http, dev_token)
    for action, body in [("assign", {"officer": "officer-7"}),
                         ("extend", {"reason": "x", "new_due_at": "2027-01-05T17:00:00+07:00"}),
                         ("refuse", {"reason": "x"}), ("intake-supplement", {})]:
        response = await act(http, dev_token, d["code"], action, body)
        assert response.status_code == 409, (action, response.text)
        assert response.headers["content-type"].startswith(MEDIA_TYPE)
        assert response.json()["state"] == "submitted"
        assert response.json()["type"].endswith("invalid-transition")
    receipt = await http.get(f"/v1/dossiers/{d['code']}/documents/receipt",
                             headers=bearer(dev_token))
    assert receipt.status_code == 409  # no appointment before acceptance
    shown = await http.get(f"/v1/dossiers/{d['code']}", headers=bearer(dev_token))
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "submitted" and shown.json()["sla"]["risk"] is None


async def test_refusal_at_intake_is_code_3(http: httpx.AsyncClient, dev_token: str) -> None:
    d = await submit(http, dev_token)
    refused = await act(http, dev_token, d["code"], "refuse-intake",
                        {"reason": "Thủ tục không thuộc thẩm quyền"})
    assert refused.status_code == 200, refused.text
    r = refused.json()
    assert (r["state"], r["status_code"], r["timeliness"]) == ("refused_at_intake", 3, None)
    again = await act(http, dev_token, d["code"], "accept")
    assert again.status_code == 409
    letter = await http.get(f"/v1/dossiers/{d['code']}/documents/refusal",
                            headers=bearer(dev_token))
    # Issue 23 item 6: a refusal at intake prints form 03 (refusal to receive), signed by the
    # receiving clerk; a refusal after acceptance prints the unit's own notice.
    assert letter.status_code == 200, letter.text
    assert "Phiếu từ chối tiếp nhận giải quyết hồ sơ" in letter.text
    assert "Thủ tục không thuộc thẩm quyền" in letter.text


async def test_bad_submissions_are_4xx(http: httpx.AsyncClient, make_token: MakeToken) -> None:
    clerk = await make_token("clerk")
    for body in [submission_body(channel="online"),        # not a field of a submission
                 submission_body(procedure_code="9.999999"),
                 submission_body(applicant={"name": ""}),
                 submission_body(result_delivery="drone")]:
        response = await http.post("/v1/dossiers/online", json=body, headers=bearer(clerk))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(MEDIA_TYPE)
    leader = await make_token("leader")
    response = await http.post("/v1/dossiers/online", json=submission_body(),
                               headers=bearer(leader))
    assert response.status_code == 403
    scoped = await make_token("clerk", unit="000.22.39.H39")
    response = await http.post("/v1/dossiers/online", json=submission_body(),
                               headers=bearer(scoped))
    assert response.status_code == 403
