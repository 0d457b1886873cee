"""Contract tests: every endpoint against the real stack, as a client sees it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.conftest import (
    OTHER_UNIT,
    MakeToken,
    act,
    bearer,
    print_receipt,
    project,
    receipt_body,
    receive,
)
from tests.conftest import PROCEDURE, UNIT

pytestmark = pytest.mark.engine


async def test_receive_answers_201_with_code_and_due_time(http: httpx.AsyncClient,
                                                          dev_token: str) -> None:
    """Receiving returns 201, a code of the unit's shape, a due time and the first events."""
    d = await receive(http, dev_token)
    assert d["code"].startswith(UNIT + "-") and d["state"] == "received"
    assert d["status_code"] == 2 and d["due_at"] and d["sla"]["status"] in ("on_track",
                                                                            "due_soon")
    assert d["procedure_code"] == PROCEDURE and d["unit_code"] == UNIT
    assert [e["event_type"] for e in d["timeline"]] == ["DossierReceived", "DeadlineSet"]
    assert d["timeline"][0]["actor"].startswith("dev-")


async def test_get_dossier_shows_state_and_timeline(http: httpx.AsyncClient,
                                                    dev_token: str) -> None:
    """GET returns state, status code, due time, SLA, assignee and the actor of each event."""
    d = await receive(http, dev_token)
    assert (await act(http, dev_token, d["code"], "assign", {"officer": "officer-7"})
            ).status_code == 200
    response = await http.get(f"/v1/dossiers/{d['code']}", headers=bearer(dev_token))
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "assigned" and body["assignee"] == "officer-7"
    assert body["due_at"] == d["due_at"] and body["sla"]["status"] == "on_track"
    # The counting rule and its texts (issue 11 point 1).
    assert body["sla"]["rule_name"].endswith("@v3") and "Điều" in body["sla"]["rule_source"]
    assert [e["event_type"] for e in body["timeline"]][-1] == "OfficerAssigned"
    assert all(e["actor"] and e["at"] for e in body["timeline"])


async def test_full_lifecycle_through_actions(http: httpx.AsyncClient, dev_token: str) -> None:
    """assign, start, request-supplement, supplement, complete, return, rate: each returns
    the new state."""
    code = (await receive(http, dev_token))["code"]
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("assign", {"officer": "officer-1"}, "assigned"),
        ("start", {}, "processing"),
        ("request-supplement", {"reason": "Thiếu giấy tờ", "documents": ["CCCD"]},
         "awaiting_supplement"),
        ("supplement", {"documents": ["CCCD"]}, "processing"),
        ("complete", {"summary": "Đã giải quyết"}, "ready"),
        ("return", {}, "returned"),
        ("rate", {"satisfaction": "satisfied"}, "returned")]
    for action, body, state in steps:
        response = await act(http, dev_token, code, action, body)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["state"] == state
    final = response.json()
    assert final["satisfaction"] == "satisfied" and final["status_code"] == 10
    assert final["timeliness"] in ("early", "on_time")


@pytest.mark.parametrize("action", ["refuse", "withdraw", "stop"])
async def test_closing_actions(http: httpx.AsyncClient, dev_token: str, action: str) -> None:
    """refuse, withdraw and stop close the dossier with the reason; a later action is 409."""
    code = (await receive(http, dev_token))["code"]
    response = await act(http, dev_token, code, action, {"reason": "Lý do"})
    assert response.status_code == 200, response.text
    assert response.json()["outcome_reason"] == "Lý do"
    late = await act(http, dev_token, code, "assign", {"officer": "x"})
    assert late.status_code == 409
    assert late.json()["type"] == "https://motcua.dev/problems/invalid-transition"


async def test_extend_moves_the_due_time_once(http: httpx.AsyncClient, dev_token: str) -> None:
    """extend sets a later due time; a second extension is 409 already-extended."""
    d = await receive(http, dev_token)
    # A week later: the same weekday and time as the due time, so inside office hours.
    new_due = (datetime.fromisoformat(d["due_at"]) + timedelta(days=7)).isoformat()
    response = await act(http, dev_token, d["code"], "extend",
                         {"reason": "Cần xác minh", "new_due_at": new_due})
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["due_at"]) == datetime.fromisoformat(new_due)
    again = await act(http, dev_token, d["code"], "extend",
                      {"reason": "Lần nữa", "new_due_at": new_due})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/already-extended")


async def test_list_filters_and_pages_by_due_time(http: httpx.AsyncClient, dev_token: str,
                                                  pool: asyncpg.Pool) -> None:
    """The list is ordered by (due_at, code), filtered, and pages without gaps or repeats."""
    codes = {(await receive(http, dev_token, procedure_code=PROCEDURE))["code"]
             for _ in range(5)}
    await project(pool)
    seen: list[dict[str, str]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"unit": UNIT, "state": "received", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await http.get("/v1/dossiers", params=params, headers=bearer(dev_token))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    keys = [(i["due_at"], i["code"]) for i in seen]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert codes <= {i["code"] for i in seen}
    assert all(i["state"] == "received" and i["unit_code"] == UNIT for i in seen)


async def test_list_filters_by_assignee_sla_and_due_window(http: httpx.AsyncClient,
                                                           dev_token: str,
                                                           pool: asyncpg.Pool) -> None:
    """assignee, sla, procedure and due_before/due_after narrow the list."""
    d = await receive(http, dev_token)
    officer = f"officer-{d['code'][-4:]}"
    await act(http, dev_token, d["code"], "assign", {"officer": officer})
    await project(pool)
    due = datetime.fromisoformat(d["due_at"])
    params = {"assignee": officer, "sla": "on_track", "procedure": PROCEDURE,
              "due_after": (due - timedelta(seconds=1)).isoformat(),
              "due_before": (due + timedelta(seconds=1)).isoformat()}
    response = await http.get("/v1/dossiers", params=params, headers=bearer(dev_token))
    assert [i["code"] for i in response.json()["items"]] == [d["code"]]
    params["due_before"] = (due - timedelta(seconds=1)).isoformat()
    response = await http.get("/v1/dossiers", params=params, headers=bearer(dev_token))
    assert response.json()["items"] == []


async def test_catalog_endpoints(http: httpx.AsyncClient, dev_token: str) -> None:
    """The procedures and units of the catalog, with its version."""
    procedures = (await http.get("/v1/procedures", headers=bearer(dev_token))).json()
    units = (await http.get("/v1/units", headers=bearer(dev_token))).json()
    assert PROCEDURE in {p["code"] for p in procedures["items"]}
    assert {UNIT, OTHER_UNIT} <= {u["code"] for u in units["items"]}
    assert procedures["version"] == units["version"]


async def test_procedure_endpoints_show_the_internal_procedure(http: httpx.AsyncClient,
                                                               dev_token: str) -> None:
    """A procedure with a published internal procedure has `steps` (name, allowance, source)
    in the list and at /v1/procedures/{code}; one without has none; an unknown code is 404."""
    items = (await http.get("/v1/procedures", headers=bearer(dev_token))).json()["items"]
    listed = {p["code"]: p for p in items}
    assert listed[PROCEDURE]["steps"] is None
    response = await http.get("/v1/procedures/2.002755", headers=bearer(dev_token))
    assert response.status_code == 200
    one = response.json()
    assert one == listed["2.002755"] and len(one["steps"]) == 15
    assert one["steps"][2]["allowance"] == {"amount": 20, "unit": "working_hours"}
    assert one["steps"][14]["allowance"] is None
    assert all(s["name"] and "3854/QĐ-UBND" in s["source"] for s in one["steps"])
    missing = await http.get("/v1/procedures/9.999999", headers=bearer(dev_token))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "9.999999" in missing.json()["detail"]


async def test_public_lookup_leaks_no_personal_data(http: httpx.AsyncClient,
                                                    dev_token: str) -> None:
    """The public view needs no token, only the receipt's secret, and carries state, receipt
    date, due time and next step only."""
    d = await receive(http, dev_token, applicant={"name": "Trần Thị Bình",
                                                  "phone": "0987654321"})
    secret = await print_receipt(http, dev_token, d["code"])
    response = await http.get(f"/v1/public/dossiers/{d['code']}",
                              headers={"X-Lookup-Secret": secret})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "received" and body["due_at"] == d["due_at"] and body["next_step"]
    office = timezone(timedelta(hours=7))  # the received date is the office date
    assert body["received_on"] == str(datetime.fromisoformat(d["received_at"]).astimezone(
        office).date())
    assert body["rule_name"].endswith("@v3") and body["rule_source"]
    assert "Bình" not in response.text and "0987654321" not in response.text
    assert not {"applicant_name", "assignee", "timeline", "received_at"} & set(body)
    assert (await http.get("/v1/public/dossiers/000.21.39.H39-200101-9999",
                           headers={"X-Lookup-Secret": secret})).status_code == 404


async def test_vietnamese_text_is_stored_nfc(http: httpx.AsyncClient, dev_token: str,
                                             pool: asyncpg.Pool) -> None:
    """Decomposed (NFD) input is stored and returned in NFC."""
    name = unicodedata.normalize("NFD", "Nguyễn Thị Hường")
    d = await receive(http, dev_token, applicant={"name": name})
    assert d["applicant_name"] == unicodedata.normalize("NFC", name) != name
    stored = await pool.fetchval(
        "SELECT payload->>'applicant_name' FROM events WHERE stream = $1 AND position = 1",
        d["code"])
    assert stored == unicodedata.normalize("NFC", name)


async def test_correlation_id_round_trip(http: httpx.AsyncClient, dev_token: str,
                                         pool: asyncpg.Pool) -> None:
    """A given X-Correlation-Id is echoed and written into the events' metadata."""
    response = await http.post("/v1/dossiers", json=receipt_body(),
                               headers=bearer(dev_token, **{"X-Correlation-Id": "req-42"}))
    assert response.headers["X-Correlation-Id"] == "req-42"
    assert response.json()["timeline"][0]["correlation_id"] == "req-42"
    other = await http.get("/healthz")
    assert len(other.headers["X-Correlation-Id"]) == 32  # generated


async def test_health_ready_metrics_openapi(http: httpx.AsyncClient) -> None:
    """healthz and readyz are 200 on a healthy stack; /metrics and /openapi.json are served."""
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"temporal": "ok",
                                                                   "postgresql": "ok"}
    text = (await http.get("/metrics")).text
    assert 'motcua_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/readyz",status="200"}' in text
    assert "/v1/dossiers/0" not in text  # labels are route templates, never concrete paths
    spec = (await http.get("/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    assert {"/v1/dossiers", "/v1/dossiers/{code}", "/v1/dossiers/{code}/assign",
            "/v1/public/dossiers/{code}", "/v1/procedures", "/v1/units"} <= set(spec["paths"])
    receive_op = spec["paths"]["/v1/dossiers"]["post"]
    assert receive_op["requestBody"]["content"]["application/json"]["schema"]
    assert "examples" in spec["components"]["schemas"]["ReceiveRequest"]


async def test_import_keeps_the_original_receipt_time(http: httpx.AsyncClient,
                                                      dev_token: str) -> None:
    """original_received_at imports a dossier already in progress; the future is refused."""
    earlier = datetime.now(UTC) - timedelta(days=1)
    d = await receive(http, dev_token, original_received_at=earlier.isoformat())
    assert datetime.fromisoformat(d["received_at"]) == earlier
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = await http.post("/v1/dossiers", json=receipt_body(original_received_at=future),
                               headers=bearer(dev_token))
    assert response.status_code == 422 and response.json()["field"] == "original_received_at"


async def test_token_name_is_the_actor(http: httpx.AsyncClient, make_token: MakeToken,
                                       pool: asyncpg.Pool) -> None:
    """Every action records the token's name as the actor of its events."""
    token = await make_token("clerk", "leader", name="clerk-linh")
    d = await receive(http, token)
    await act(http, token, d["code"], "assign", {"officer": "officer-2"})
    actors = [r["actor"] for r in await pool.fetch(
        "SELECT metadata->>'actor' AS actor FROM events WHERE stream = $1", d["code"])]
    assert actors == ["clerk-linh"] * 3
