"""`GET /v1/reports/register`: the dossier register (Sổ theo dõi hồ sơ) as CSV, a printable
page and JSON; names only for roles that see personal data; unit scope; bad dates."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from motcua.reports import register
from tests.api.conftest import OTHER_UNIT, MakeToken, bearer, project, receipt_body, receive

# A unit no other test receives dossiers in, so its register holds only this module's lines.
REGISTER_UNIT = "000.25.39.H39"
NAMES = ("Lò Văn Pá", "Vàng Thị Mai", "Giàng A Sử")


def _period() -> dict[str, str]:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return {"unit": REGISTER_UNIT, "from": str(today - timedelta(days=1)),
            "to": str(today + timedelta(days=1))}


async def test_register_lists_numbers_codes_and_void_lines(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """Numbers 1..k in order with their codes; a void line keeps its number, struck through
    with its reason; a leader sees the applicant, ops does not; another unit gets 403."""
    clerk = await make_token("clerk", unit=REGISTER_UNIT, name="clerk-register")
    codes = [(await receive(http, clerk, unit_code=REGISTER_UNIT,
                            applicant={"name": name}))["code"] for name in NAMES]
    day = date(2000 + int(codes[0][-11:-9]), int(codes[0][-9:-7]), int(codes[0][-7:-5]))
    voided = await register.allocate_now(pool, REGISTER_UNIT, day, allocated_by="clerk-x")
    await register.void(pool, voided, "Temporal từ chối: <thử>")
    codes.append(voided)
    leader = await make_token("leader", unit=REGISTER_UNIT)
    ops = await make_token("ops")

    response = await http.get("/v1/reports/register", params={**_period(), "format": "csv"},
                              headers=bearer(leader))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(line["seq"]) for line in lines] == list(range(1, len(lines) + 1))
    mine = [line for line in lines if line["dossier_code"] in codes]
    assert [line["dossier_code"] for line in mine] == codes
    assert [int(line["seq"]) for line in mine] == [int(c[-4:]) for c in codes]
    assert [line["status"] for line in mine] == ["received"] * 3 + ["void"]
    assert mine[-1]["void_reason"] == "Temporal từ chối: <thử>"
    assert [line["applicant_name"] for line in mine[:3]] == list(NAMES)
    assert mine[0]["allocated_by"] == "clerk-register" and mine[0]["procedure_name"]
    reads = await pool.fetchval("SELECT count(*) FROM pii_reads WHERE dossier_code = $1 "
                                "AND what = 'report:register'", codes[0])
    assert reads >= 1

    page = await http.get("/v1/reports/register", params={**_period(), "format": "html"},
                          headers=bearer(leader))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Sổ theo dõi hồ sơ" in html and "Lò Văn Pá" in html
    assert "&lt;thử&gt;" in html and "<thử>" not in html
    rows = re.findall(r'<tr class="(\w+)"><td class="struck">(\d+)</td>'
                      r'<td class="struck">([^<]+)</td>', html)
    assert [(cls, int(seq)) for cls, seq, code in rows if code in codes] == [
        ("received", int(c[-4:])) for c in codes[:3]] + [("void", int(voided[-4:]))]
    assert "text-decoration: line-through" in html

    hidden = await http.get("/v1/reports/register", params={**_period(), "format": "csv"},
                            headers=bearer(ops))
    assert hidden.status_code == 200
    header = hidden.text.splitlines()[0].split(",")
    assert "applicant_name" not in header and "procedure_name" not in header
    assert not any(name in hidden.text for name in NAMES)
    assert codes[0] in hidden.text
    page = await http.get("/v1/reports/register", params={**_period(), "format": "html"},
                          headers=bearer(ops))
    assert not any(name in page.text for name in NAMES) and codes[0] in page.text
    as_json = (await http.get("/v1/reports/register", params=_period(),
                              headers=bearer(ops))).json()
    assert as_json["personal_data"] is False
    assert "applicant_name" not in as_json["lines"][0]

    other = await make_token("leader", unit=OTHER_UNIT)
    denied = await http.get("/v1/reports/register", params=_period(), headers=bearer(other))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    clerk_only = await http.get("/v1/reports/register", params=_period(),
                                headers=bearer(clerk))
    assert clerk_only.status_code == 403


async def test_register_bad_dates_are_422(http: httpx.AsyncClient,
                                          make_token: MakeToken) -> None:
    """Unparsable, reversed or out-of-range dates, a too long period, and no unit: 422."""
    ops = await make_token("ops")
    for params in ({"from": "2025-13-01", "to": "2025-12-31"},
                   {"from": "2025-02-01", "to": "2025-01-01"},
                   {"from": "1999-12-31", "to": "2000-01-02"},
                   {"from": "2024-01-01", "to": "2025-12-31"}):
        response = await http.get("/v1/reports/register",
                                  params={"unit": REGISTER_UNIT, **params},
                                  headers=bearer(ops))
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await http.get("/v1/reports/register",
                              params={"from": "2025-01-01", "to": "2025-01-02"},
                              headers=bearer(ops))
    assert response.status_code == 422 and response.json().get("field") == "unit"


async def test_register_in_openapi(http: httpx.AsyncClient) -> None:
    """The OpenAPI document lists the register with a summary, its three media types and
    problems."""
    operation = (await http.get("/openapi.json")).json()["paths"]["/v1/reports/register"]["get"]
    assert "Sổ theo dõi hồ sơ" in operation["summary"]
    assert set(operation["responses"]["200"]["content"]) == {
        "application/json", "text/csv", "text/html"}
    assert {"401", "403", "422", "503"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"unit", "from", "to", "format"}


STATE_UNIT = "000.26.39.H39"


async def test_register_states_clerk_of_online_dossier_and_backdating(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """Issue 23 item 11: a withdrawn dossier's line is "Công dân rút", not received; an online
    dossier names the clerk who accepted it, not the integration; a backdated receipt shows
    its real time and reason; the new fields are in the JSON and the machine CSV."""
    clerk_name = f"clerk-{uuid.uuid4().hex[:6]}"
    portal_name = f"portal-integration-{uuid.uuid4().hex[:6]}"
    clerk = await make_token("clerk", unit=STATE_UNIT, name=clerk_name)
    portal = await make_token("clerk", unit=STATE_UNIT, name=portal_name)
    leader = await make_token("leader", unit=STATE_UNIT)
    withdrawn = (await receive(http, clerk, unit_code=STATE_UNIT))["code"]
    response = await http.post(f"/v1/dossiers/{withdrawn}/withdraw", headers=bearer(clerk),
                               json={"reason": "Công dân xin rút"})
    assert response.status_code == 200, response.text
    online = await http.post("/v1/dossiers/online", headers=bearer(portal), json={
        "procedure_code": "1.001193", "unit_code": STATE_UNIT,
        "applicant": {"name": "Lò Thị Dung"}})
    assert online.status_code == 201, online.text
    online_code = online.json()["code"]
    accepted = await http.post(f"/v1/dossiers/{online_code}/accept", headers=bearer(clerk),
                               json={})
    assert accepted.status_code == 200, accepted.text
    earlier = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(hours=20)
    backdated = (await receive(http, clerk, unit_code=STATE_UNIT,
                               original_received_at=earlier.isoformat(),
                               backdate_reason="Nhận sau giờ làm việc",
                               papers=[{"name": "Giấy chứng sinh", "form": "original",
                                        "count": 2}]))["code"]
    params = {**_period(), "unit": STATE_UNIT}
    await project(pool)  # the read models follow the events (no projector runs here)
    found = {line["dossier_code"]: line for line in (await http.get(
        "/v1/reports/register", params=params, headers=bearer(leader))).json()["lines"]}
    # The withdrawal is answered by the stop notice at once (codes 7 then 8): the read model
    # says stopped, the register says why.
    assert found[withdrawn]["state"] == "stopped"
    assert found[withdrawn]["state_label"] == "Công dân rút"
    assert found[withdrawn]["ended_at"] is not None
    assert found[online_code]["allocated_by"] == portal_name
    assert found[online_code]["received_by"] == clerk_name
    assert found[withdrawn]["received_by"] == clerk_name
    line = found[backdated]
    assert abs(datetime.fromisoformat(line["received_at"]) - earlier) < timedelta(seconds=1)
    assert line["backdate_reason"] == "Nhận sau giờ làm việc"
    assert line["appointment_at"] is not None
    text = (await http.get("/v1/reports/register", params={**params, "format": "csv"},
                           headers=bearer(leader))).text
    assert "state" in text.splitlines()[0].split(",")
    missing = await http.post("/v1/dossiers", headers=bearer(clerk), json=receipt_body(
        unit_code=STATE_UNIT, backdate_reason="không có thời điểm"))
    assert missing.status_code == 422 and missing.json()["field"] == "backdate_reason"
