"""The console's actions go through the API's code: the assignee rule (the same for bearer
tokens), idempotent forms, a leader's refusal with its printable letter."""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from motcua.access.tokens import create_token
from motcua.access.users import create_user
from tests.conftest import PROCEDURE, TASK_QUEUE, UNIT, Receive, new_code
from tests.console.conftest import PASSWORD, MakeUser
from tests.console.test_login import login

pytestmark = pytest.mark.engine

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _token(pool: asyncpg.Pool, name: str, *roles: str) -> dict[str, str]:
    secret = await create_token(pool, name=name, roles=list(roles), unit_code=UNIT)
    return {"Authorization": f"Bearer {secret}"}


async def test_only_the_assignee_or_a_leader_takes_processing_steps_over_the_api(
        console_url: str, pool: asyncpg.Pool, receive: Receive) -> None:
    """The rule lives in the services (`motcua.services.dossiers.act`): another officer's token is
    refused (403, and no event); the assignee's and a leader-officer's are not."""
    suffix = uuid.uuid4().hex[:6]
    assignee, other, chief = f"an-{suffix}", f"binh-{suffix}", f"chi-{suffix}"
    tokens = {n: await _token(pool, n, *roles) for n, roles in (
        (assignee, ("officer",)), (other, ("officer",)), (chief, ("officer", "leader")))}
    # The holder is an active officer of the unit (issue 24 point 5); its token acts as it.
    await create_user(pool, username=assignee, password=PASSWORD, roles=["officer"],
                      unit_code=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        first = await receive()
        second = await receive()
        for d in (first, second):
            assigned = await http.post(f"/v1/dossiers/{d.code}/assign",
                                       json={"officer": assignee}, headers=tokens[chief])
            assert assigned.status_code == 200, assigned.text
        refused = await http.post(f"/v1/dossiers/{first.code}/start", json={},
                                  headers=tokens[other])
        assert refused.status_code == 403 and assignee in refused.json()["detail"]
        count = await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 "
                                    "AND event_type = 'ProcessingStarted'", first.code)
        assert count == 0
        own = await http.post(f"/v1/dossiers/{first.code}/start", json={},
                              headers=tokens[assignee])
        assert own.status_code == 200, own.text
        led = await http.post(f"/v1/dossiers/{second.code}/start", json={},
                              headers=tokens[chief])
        assert led.status_code == 200, led.text


async def test_a_form_sent_twice_acts_once_and_a_leader_refuses(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool, receive: Receive) -> None:
    leader = await make_user("leader", unit=UNIT)
    officer = await make_user("officer", unit=UNIT)
    dossier = await receive()
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, leader, PASSWORD)).status_code == 303
        page = await http.get(f"/ho-so/{dossier.code}")
        token = _CSRF.search(page.text)
        form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
        assert token and form_id
        form = {"csrf_token": token[1], "form_id": form_id[1], "officer": officer}
        for _ in range(2):  # a double click
            sent = await http.post(f"/ho-so/{dossier.code}/assign", data=form)
            assert sent.status_code == 303, sent.text
        assigned = await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                                       "event_type = 'OfficerAssigned'", dossier.code)
        assert assigned == 1
        stranger = await http.post(f"/ho-so/{dossier.code}/assign", data={
            "csrf_token": token[1], "officer": "not-a-user"})
        assert stranger.status_code == 422 and "cán bộ của đơn vị" in stranger.text
        complaint = await http.post(f"/ho-so/{dossier.code}/complaint", data={
            "csrf_token": token[1], "complainant": "Nguyễn Văn Bình", "channel": "hotline",
            "text": "Chưa được hướng dẫn bổ sung"})
        assert complaint.status_code == 303, complaint.text
        assert "Chưa được hướng dẫn bổ sung" in (await http.get(f"/ho-so/{dossier.code}")).text
        empty = await http.post(f"/ho-so/{dossier.code}/refuse",
                                data={"csrf_token": token[1], "reason": ""})
        assert empty.status_code == 422 and 'role="alert"' in empty.text
        # Irreversible: the first post only asks to confirm, with the reason (issue 23 item 2)
        asked = await http.post(f"/ho-so/{dossier.code}/refuse", data={
            "csrf_token": token[1], "reason": "Không thuộc thẩm quyền giải quyết"})
        assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text
        assert "Không thuộc thẩm quyền giải quyết" in asked.text
        assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                                   "event_type = 'DossierRefused'", dossier.code) == 0
        refused = await http.post(f"/ho-so/{dossier.code}/refuse", data={
            "csrf_token": token[1], "reason": "Không thuộc thẩm quyền giải quyết",
            "xac_nhan": "1"})
        assert refused.status_code == 303
        shown = await http.get(refused.headers["location"])
        assert "Từ chối" in shown.text
        letter = await http.get(f"/ho-so/{dossier.code}/giay-to/refusal")
        assert letter.status_code == 200 and "Không thuộc thẩm quyền" in letter.text
        again = await http.post(f"/ho-so/{dossier.code}/stop", data={
            "csrf_token": token[1], "reason": "Dừng", "xac_nhan": "1"})
        assert again.status_code == 409 and "Trạng thái" in again.text


async def test_live_fingerprint_changes_with_the_units_dossiers(
        console_url: str, make_user: MakeUser, receive: Receive) -> None:
    """`/cap-nhat`, which the queue polls: its version moves when a dossier of the user's unit
    changes; it needs a session."""
    clerk = await make_user("clerk", unit=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await http.get("/cap-nhat")).status_code == 303
        assert (await login(http, clerk, PASSWORD)).status_code == 303
        before = (await http.get("/cap-nhat")).json()
        assert set(before) == {"version", "now", "alerts"}
        await receive()
        for _ in range(60):
            after = (await http.get("/cap-nhat", params={"since": before["now"]})).json()
            if after["version"] != before["version"]:
                break
            await asyncio.sleep(0.25)
        assert after["version"] != before["version"]
        assert (await http.get("/cap-nhat", params={"since": "garbage"})).status_code == 200


async def test_verification_maximum_is_offered_once_where_the_procedure_has_one(
        console_url: str, make_user: MakeUser, receive: Receive) -> None:
    """Marriage registration (1.000894) has a verification maximum: an officer records it
    once from the dossier page; permanent residence has none, so it is not offered."""
    officer = await make_user("officer", unit=UNIT)
    marriage = await receive(procedure_code="1.000894")
    residence = await receive()
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, officer, PASSWORD)).status_code == 303
        assert 'data-action="verification"' not in (
            await http.get(f"/ho-so/{residence.code}")).text
        page = await http.get(f"/ho-so/{marriage.code}")
        assert 'data-action="verification"' in page.text
        token = _CSRF.search(page.text)
        assert token
        sent = await http.post(f"/ho-so/{marriage.code}/verification", data={
            "csrf_token": token[1], "reason": "Cần xác minh điều kiện kết hôn"})
        assert sent.status_code == 303, sent.text
        after = await http.get(f"/ho-so/{marriage.code}")
        assert "Cần xác minh: áp dụng thời hạn tối đa" in after.text
        assert "cần xác minh" in after.text  # the new deadline version's cause
        assert 'data-action="verification"' not in after.text


async def test_a_clerk_accepts_an_online_submission_from_its_page(
        console_url: str, make_user: MakeUser, client: Client, worker: None) -> None:
    """A submission awaiting acceptance shows "Chờ tiếp nhận" (code 1) and offers the intake
    actions only; accepting it from the page gives the receipt (issue 11 points 7-8)."""
    clerk = await make_user("clerk", unit=UNIT)
    d = await dossiers.submit_online(client, cmd.SubmitOnline(
        code=new_code(), unit_code=UNIT, procedure_code=PROCEDURE,
        applicant_name="Bùi Thị Hoa", actor="portal"), task_queue=TASK_QUEUE)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, clerk, PASSWORD)).status_code == 303
        page = await http.get(f"/ho-so/{d.code}")
        assert page.status_code == 200 and "Chờ tiếp nhận" in page.text
        assert "mã quốc gia 1" in page.text
        offered = set(re.findall(r'data-action="([a-z-]+)"', page.text))
        assert {"accept", "request-intake-supplement", "refuse-intake"} <= offered
        assert "return" not in offered and "intake-supplement" not in offered
        token = _CSRF.search(page.text)
        assert token
        sent = await http.post(f"/ho-so/{d.code}/accept", data={"csrf_token": token[1]})
        assert sent.status_code == 303, sent.text
        after = await http.get(f"/ho-so/{d.code}")
        assert "Tiếp nhận hồ sơ trực tuyến: thời hạn tính từ" in after.text
        assert "mã quốc gia 2" in after.text and 'data-testid="counted-from"' in after.text
