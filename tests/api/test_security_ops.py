"""Issue 24.9: operations (`ops`) reads no free text in the API. Every string field of a
dossier's detail, through every event that carries text, is listed here as shown (a machine
value) or redacted; a string field not listed fails the test until someone classifies it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from motcua.access.privacy import REDACTED, _redact_data
from motcua.reports import register
from tests.api.conftest import MakeToken, act, bearer, receipt_body
from tests.conftest import PROCEDURE, UNIT

MARRIAGE = "1.000894"  # has a verification maximum (Luật Hộ tịch 2014 art. 18(2))

# Every string field ops may meet in `GET /v1/dossiers/{code}`: True = shown as stored (codes,
# enumerations, instants, versions, staff names, legal texts), False = always REDACTED.
# Timeline data are listed per event type.
OPS_STRINGS: dict[str, bool] = {
    "code": True, "state": True, "procedure_code": True, "unit_code": True, "channel": True,
    "holding_unit_code": True,
    "applicant_name": False, "received_at": True, "due_at": True, "assignee": True,
    "submitted_at": True, "counted_from": True, "timeliness": True, "satisfaction": True,
    "outcome_reason": False,
    **{f"sla.{k}": True for k in (
        "status", "due_at", "due_soon_at", "original_due_at", "deadline_version",
        "calendar_version", "catalog_version", "rule", "rule_name", "rule_source",
        "legal_due_at", "appointment_at")},
    "sla.risk.basis": True,
    "timeline[].event_type": True, "timeline[].at": True, "timeline[].actor": True,
    "timeline[].correlation_id": True,
    **{f"timeline[].data.{t}.{k}": True for t in ("DossierReceived", "DossierSubmitted")
       for k in ("at", "code", "unit_code", "procedure_code", "channel", "result_delivery")},
    **{f"timeline[].data.{t}.{k}": False for t in ("DossierReceived", "DossierSubmitted")
       for k in ("applicant_name", "applicant_id_number", "applicant_phone", "applicant_email",
                 "applicant_address", "documents[]")},
    **{f"timeline[].data.DeadlineSet.{k}": True for k in (
        "at", "due_at", "due_soon_at", "reason", "rule", "unit", "calendar_version",
        "catalog_version", "rule_source", "legal_due_at")},
    "timeline[].data.OfficerAssigned.at": True, "timeline[].data.OfficerAssigned.officer": True,
    "timeline[].data.OfficerAssigned.note": False,
    "timeline[].data.ProcessingStarted.at": True,
    "timeline[].data.ProcessingStarted.officer": True,
    **{f"timeline[].data.{t}.at": True for t in (
        "SupplementRequested", "SupplementReceived", "ResultReady", "ResultReturned",
        "DossierRefused", "DossierWithdrawn", "ProcessingStopped", "DeadlineExtended",
        "ServiceRated", "VerificationRequired", "ComplaintRecorded", "SubmissionAccepted",
        "SubmissionRefused", "IntakeSupplementRequested", "IntakeSupplementReceived")},
    **{f"timeline[].data.{t}.reason": False for t in (
        "SupplementRequested", "DossierRefused", "DossierWithdrawn", "ProcessingStopped",
        "DeadlineExtended", "VerificationRequired", "SubmissionRefused",
        "IntakeSupplementRequested")},
    **{f"timeline[].data.{t}.documents[]": False for t in (
        "SupplementRequested", "SupplementReceived", "IntakeSupplementRequested",
        "IntakeSupplementReceived")},
    **{f"timeline[].data.{t}.note": False for t in (
        "SupplementReceived", "ResultReturned", "SubmissionAccepted",
        "IntakeSupplementReceived")},
    "timeline[].data.ResultReady.summary": False, "timeline[].data.ResultReady.timeliness": True,
    "timeline[].data.ResultReturned.timeliness": True,
    "timeline[].data.DeadlineExtended.previous_due_at": True,
    "timeline[].data.DeadlineExtended.new_due_at": True,
    "timeline[].data.ServiceRated.satisfaction": True,
    "timeline[].data.ServiceRated.comment": False,
    **{f"timeline[].data.ComplaintRecorded.{k}": False for k in (
        "complainant", "channel", "text", "outcome")},
    "timeline[].data.SubmissionAccepted.counted_from": True,
}


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, value) of every string in a dossier view; timeline data keyed by event type."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, f"{path}[]")
    elif isinstance(node, dict):
        for key, value in node.items():
            if path == "timeline[]" and key == "data":
                yield from _strings(value, f"{path}.data.{node['event_type']}")
            else:
                yield from _strings(value, f"{path}.{key}" if path else key)


class Typed:
    """Free text as staff type it: unique values, remembered so none may reach ops."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, label: str) -> str:
        value = f"{label} riêng {uuid.uuid4().hex[:6]}"
        self.values.append(value)
        return value


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def _dossiers(http: httpx.AsyncClient, token: str, typed: Typed) -> list[str]:
    """Dossiers through every event that carries text: a full counter lifecycle with a
    supplement, a verification, a complaint, an apology and a rating; refused, withdrawn
    and stopped ones; an online submission with an intake supplement, and one refused."""
    applicant = {"name": typed("Tên"), "phone": typed("Điện thoại"),
                 "id_number": typed("CCCD"), "email": typed("E-mail"),
                 "address": typed("Địa chỉ")}
    papers = [typed("Tờ khai"), typed("Bản sao giấy khai sinh")]
    full = await _ok(await http.post("/v1/dossiers", headers=bearer(token), json=receipt_body(
        procedure_code=MARRIAGE, applicant=applicant, documents=papers)))
    code = full["code"]
    for action, body in [
            ("assign", {"officer": "officer-7", "note": typed("Giao")}),
            ("start", {}),
            ("request-supplement", {"reason": typed("Thiếu"), "documents": [typed("Giấy")]}),
            ("supplement", {"documents": [typed("Đã nộp")], "note": typed("Bổ sung")}),
            ("verification", {"reason": typed("Xác minh")}),
            ("complaint", {"complainant": typed("Người phản ánh"), "channel": typed("Kênh"),
                           "text": typed("Nội dung"), "outcome": typed("Kết quả")})]:
        last = await _ok(await act(http, token, code, action, body))
    # A week after the due time: the same weekday and time, so inside office hours.
    new_due = (datetime.fromisoformat(last["due_at"]) + timedelta(days=7)).isoformat()
    for action, body in [
            ("extend", {"reason": typed("Xin lỗi"), "new_due_at": new_due}),
            ("complete", {"summary": typed("Tóm tắt")}),
            ("return", {"note": typed("Trả")}),
            ("rate", {"satisfaction": "satisfied", "comment": typed("Góp ý")})]:
        await _ok(await act(http, token, code, action, body))
    codes = [code]
    for action in ("refuse", "withdraw", "stop"):
        d = await _ok(await http.post("/v1/dossiers", headers=bearer(token),
                                      json=receipt_body(applicant={"name": typed("Tên")})))
        await _ok(await act(http, token, d["code"], action, {"reason": typed(action)}))
        codes.append(d["code"])
    online = {"procedure_code": PROCEDURE, "unit_code": UNIT,
              "applicant": {"name": typed("Tên"), "email": typed("Thư"),
                            "phone": typed("Số"), "id_number": typed("Số định danh"),
                            "address": typed("Nơi ở")},
              "documents": [typed("Tờ khai điện tử")]}
    submitted = await _ok(await http.post("/v1/dossiers/online", headers=bearer(token),
                                          json=online))
    for action, body in [
            ("request-intake-supplement", {"reason": typed("Thiếu"),
                                           "documents": [typed("Giấy")]}),
            ("intake-supplement", {"documents": [typed("Giấy đã nộp")], "note": typed("Đủ")}),
            ("accept", {"note": typed("Hợp lệ")})]:
        await _ok(await act(http, token, submitted["code"], action, body))
    refused = await _ok(await http.post("/v1/dossiers/online", headers=bearer(token),
                                        json=online))
    await _ok(await act(http, token, refused["code"], "refuse-intake",
                        {"reason": typed("Không thuộc thẩm quyền")}))
    return [*codes, submitted["code"], refused["code"]]


async def test_ops_reads_no_free_text_in_a_dossier(
        http: httpx.AsyncClient, make_token: MakeToken, dev_token: str) -> None:
    """Through every event that carries text, ops' view of each dossier shows only listed
    machine fields; every other string is REDACTED (paper titles as a list of as many
    REDACTED), and nothing staff typed appears anywhere in the response."""
    typed = Typed()
    codes = await _dossiers(http, dev_token, typed)
    ops = await make_token("ops")
    seen: set[str] = set()
    for code in codes:
        response = await http.get(f"/v1/dossiers/{code}", headers=bearer(ops))
        assert response.status_code == 200, response.text
        for value in typed.values:
            assert value not in response.text, (code, value)
        for path, value in _strings(response.json()):
            assert path in OPS_STRINGS, f"unlisted string field for ops: {path}={value!r}"
            assert (value == REDACTED) is not OPS_STRINGS[path], (path, value)
            seen.add(path)
    unseen = {p for p, shown in OPS_STRINGS.items() if not shown} - seen
    assert not unseen, f"listed but not exercised: {sorted(unseen)}"
    clerk = await http.get(f"/v1/dossiers/{codes[0]}", headers=bearer(dev_token))
    assert typed.values[0] in clerk.text  # the unit's staff still read it


def test_an_unknown_event_field_is_redacted_for_ops() -> None:
    """An allowlist: a text field nobody classified yet (a future event's) is hidden from ops,
    lists keep their length, numbers and yes/no values show; the complaint's channel is free
    text there."""
    shown = _redact_data("FileAttached", {"at": "2026-12-01T08:00:00+07:00",
                                          "file_name": "CCCD Nguyễn Văn A.pdf",
                                          "pages": ["a", "b"], "size": 123, "signed": True,
                                          "none": None})
    assert shown == {"at": "2026-12-01T08:00:00+07:00", "file_name": REDACTED,
                     "pages": [REDACTED, REDACTED], "size": 123, "signed": True,
                     "none": None}
    assert _redact_data("ComplaintRecorded", {"channel": "thư của ông A"}) == {
        "channel": REDACTED}
    assert _redact_data("DossierReceived", {"channel": "counter"}) == {"channel": "counter"}


async def test_ops_reads_no_void_reason_in_the_register(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """A void register line's reason (the engine's refusal, which may quote what was sent)
    is redacted for ops, shown to the unit's leader."""
    unit = "000.26.39.H39"
    day = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    voided = await register.allocate_now(pool, unit, day, allocated_by="clerk-x")
    await register.void(pool, voided, "từ chối: applicant_name 'Nguyễn Văn Quyết'")
    period = {"unit": unit, "from": str(day - timedelta(days=1)),
              "to": str(day + timedelta(days=1))}
    for token, reason in ((await make_token("ops"), REDACTED),
                          (await make_token("leader", unit=unit),
                           "từ chối: applicant_name 'Nguyễn Văn Quyết'")):
        response = await http.get("/v1/reports/register", params=period, headers=bearer(token))
        assert response.status_code == 200, response.text
        lines = [x for x in response.json()["lines"] if x["dossier_code"] == voided]
        assert [x["void_reason"] for x in lines] == [reason]
