"""`GET /v1/reports/whatif`, `GET /v1/reports/likely-late` and `sla.risk` on the dossier view,
through the API on the real engine and read model."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from fastapi import FastAPI

from motcua.whatif import forecast
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, project, receive
from tests.conftest import PROCEDURE, UNIT

OFFICE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_whatif_for_leaders_with_cut_zero_equal_to_the_baseline(
        http: httpx.AsyncClient, pool: asyncpg.Pool, make_token: MakeToken) -> None:
    clerk = await make_token("clerk")
    leader = await make_token("leader")
    dossier = await receive(http, clerk)
    await project(pool)
    today = datetime.fromisoformat(dossier["received_at"]).astimezone(OFFICE_TZ).date()
    params = {"from": str(today), "to": str(today), "procedure": PROCEDURE, "unit": UNIT}
    zero = await http.get("/v1/reports/whatif", params={**params, "cut": "0"},
                          headers=bearer(leader))
    assert zero.status_code == 200, zero.text
    body = zero.json()
    assert body["report"] == "whatif" and body["totals"]["received"] >= 1
    for row in body["rows"]:
        assert row["baseline"] == row["simulated"]
        assert row["flips_to_late"] == row["flips_to_on_time"] == 0
    cut = await http.get("/v1/reports/whatif", params={**params, "cut": "50"},
                         headers=bearer(leader))
    assert cut.status_code == 200, cut.text
    assert cut.json()["policy"][0]["procedure_code"] == PROCEDURE
    csv = await http.get("/v1/reports/whatif", params={**params, "cut": "50", "format": "csv"},
                         headers=bearer(leader))
    assert csv.status_code == 200 and csv.text.startswith("scope,period_from,period_to")
    # Clear 4xx: unknown procedure, bad dates, a cut of 100 %, a clerk, another unit.
    for bad, status in (({**params, "cut": "10", "procedure": "1.999999"}, 422),
                        ({**params, "cut": "10", "from": "2025-13-01"}, 422),
                        ({**params, "cut": "100"}, 422),
                        ({**params, "cut": "10", "to": "2020-01-01"}, 422)):
        response = await http.get("/v1/reports/whatif", params=bad, headers=bearer(leader))
        assert response.status_code == status, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/v1/reports/whatif", params={**params, "cut": "0"},
                           headers=bearer(clerk))).status_code == 403
    scoped = await make_token("leader", unit=OTHER_UNIT)
    assert (await http.get("/v1/reports/whatif", params={**params, "cut": "0"},
                           headers=bearer(scoped))).status_code == 403


async def test_likely_late_list_and_risk_on_the_dossier(
        api: FastAPI, http: httpx.AsyncClient, pool: asyncpg.Pool,
        make_token: MakeToken) -> None:
    dev = await make_token("clerk", "officer", "leader")
    leader = await make_token("leader")
    done, still_open = await receive(http, dev), await receive(http, dev)
    for action, body in (("assign", {"officer": "officer-9"}), ("start", {}),
                         ("complete", {"summary": "Đã giải quyết"})):
        response = await act(http, dev, done["code"], action, body)
        assert response.status_code == 200, response.text
    await project(pool)
    snapshot = await forecast.FORECAST.refresh(pool, api.state.resources.calendar)
    assert snapshot.model_size >= 1  # learnt at least from the dossier just finished
    listed = await http.get("/v1/reports/likely-late", params={"unit": UNIT},
                            headers=bearer(leader))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["threshold"] == forecast.AT_RISK and body["model_samples"] >= 1
    assert all(i["unit_code"] == UNIT and i["risk"]["probability"] >= 0.8
               for i in body["items"])
    assert (await http.get("/v1/reports/likely-late", headers=bearer(
        await make_token("clerk")))).status_code == 403
    view = await http.get(f"/v1/dossiers/{still_open['code']}", headers=bearer(leader))
    assert view.status_code == 200, view.text
    risk = view.json()["sla"]["risk"]
    assert 0 <= risk["probability"] <= 1
    assert risk["basis"] in ("procedure_unit", "procedure", "all") and risk["sample"] >= 1
    closed = await http.get(f"/v1/dossiers/{done['code']}", headers=bearer(leader))
    assert closed.json()["sla"]["risk"] is None  # result ready: nothing to forecast


async def test_a_cut_of_a_stepped_procedure_shows_each_step_s_share(
        http: httpx.AsyncClient, make_token: MakeToken) -> None:
    """Issue 22 item 5: Cao Bằng 2022's 1.004944 (5 working days in seven steps) cut by 40 %
    to 3 working days: the policy gives each step's hours now and under the cut, adding up
    to the new time (largest remainder, our reading; tests/test_whatif_steps.py)."""
    leader = await make_token("leader")
    today = datetime.now(OFFICE_TZ).date()
    params = {"from": str(today), "to": str(today), "procedure": "1.004944", "unit": UNIT,
              "cut": "40"}
    answer = await http.get("/v1/reports/whatif", params=params, headers=bearer(leader))
    assert answer.status_code == 200, answer.text
    [policy] = answer.json()["policy"]
    assert (policy["procedure_code"], policy["proposed"]) == ("1.004944", "3 working_days")
    assert [s["proposed_hours"] for s in policy["steps"]] == [3, 2, 10, 2, 5, 2, None]
    assert sum(s["proposed_hours"] or 0 for s in policy["steps"]) == 3 * 8
