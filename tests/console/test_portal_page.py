"""The console's portal page (`/dong-bo`, issue 25): leaders see the changes the national portal
has not acknowledged, of their own unit; a clerk may not."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tests.conftest import UNIT, new_code
from tests.console.conftest import PASSWORD, MakeUser
from tests.console.test_login import _CSRF, login

pytestmark = pytest.mark.engine


async def _portal_row(pool: asyncpg.Pool, code: str, unit: str, status: str,
                      error: str | None) -> None:
    await pool.execute(
        "INSERT INTO deliveries (event_id, destination, part, stream, position, "
        "global_position, kind, unit_code, body, status, attempts, last_error, raised_at) "
        "VALUES ($1::uuid, 'portal', 'DongBoHoSoMC', $2, 1, 0, 'dossier', $3, $4::jsonb, $5, "
        "3, $6, $7)", str(uuid.uuid4()), code, unit, json.dumps({"service": "DongBoHoSoMC"}),
        status, error, datetime.now(UTC))


async def test_leaders_see_what_the_portal_has_not_acknowledged(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    """A waiting and a failed dossier of the leader's unit are listed with the last error;
    another unit's and a delivered one are not; the counts per destination are shown."""
    waiting, failed, delivered = (new_code() for _ in range(3))
    await _portal_row(pool, waiting, UNIT, "pending", "portal unreachable: ConnectError")
    await _portal_row(pool, failed, UNIT, "failed", "portal error -2: Thiếu MaTTHC")
    await _portal_row(pool, delivered, UNIT, "delivered", None)
    await _portal_row(pool, new_code("000.00.00.X99"), "000.00.00.X99", "pending", None)
    leader = await make_user("leader", unit=UNIT)
    clerk = await make_user("clerk", unit=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, leader, PASSWORD)).status_code == 303
        response = await http.get("/dong-bo")
    assert response.status_code == 200
    html = response.text
    assert f'data-code="{waiting}"' in html and "ConnectError" in html
    assert f'data-code="{failed}"' in html and "Thiếu MaTTHC" in html
    assert f'data-code="{delivered}"' not in html and "X99" not in html
    assert 'data-destination="portal"' in html
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, clerk, PASSWORD)).status_code == 303
        assert (await http.get("/dong-bo")).status_code == 403


async def test_the_clerk_records_the_citizen_s_notice_choice_at_the_counter(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    """The intake form's notice checkboxes and proxy fields reach the receipt event."""
    clerk = await make_user("clerk", unit=UNIT)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, clerk, PASSWORD)).status_code == 303
        form = await http.get("/tiep-nhan")
        assert 'name="notify_by" value="zalo"' in form.text
        token = _CSRF.search(form.text)
        assert token
        posted = await http.post("/tiep-nhan", data={
            "csrf_token": token[1], "procedure_code": "1.004222", "channel": "counter",
            "name": "Nguyễn Văn An", "phone": "0912345678", "documents": "Tờ khai",
            "notify_by": ["sms", "email"], "proxy_name": "Trần Văn Bình",
            "proxy_phone": "0987654321", "email": "an@example.vn"})
    assert posted.status_code == 303, posted.text[-2000:]
    code = posted.headers["location"].split("/")[2]
    payload = json.loads(await pool.fetchval(
        "SELECT payload FROM events WHERE stream = $1 AND position = 1", code))
    assert payload["notify_by"] == ["sms", "email"]
    assert (payload["proxy_name"], payload["proxy_phone"]) == ("Trần Văn Bình", "0987654321")
