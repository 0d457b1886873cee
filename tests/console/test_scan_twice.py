"""The console's scan form sent twice (a double click) stores the scan once: its one-time form
id is the upload's Idempotency-Key, as for the console's actions (issue 26)."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest

from tests.conftest import UNIT, Receive
from tests.console.conftest import PASSWORD, MakeUser
from tests.console.test_login import login
from tests.files.pdfs import pdf

pytestmark = pytest.mark.engine

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SCAN_ID = re.compile(r'name="form_id" value="([^"]+-tep)"')


async def test_a_double_click_stores_the_scan_once(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool, receive: Receive) -> None:
    clerk = await make_user("clerk", unit=UNIT)
    d = await receive()
    scan = pdf(2, text="Tờ khai")
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, clerk, PASSWORD)).status_code == 303
        page = await http.get(f"/ho-so/{d.code}")
        csrf, form_id = _CSRF.search(page.text), _SCAN_ID.search(page.text)
        assert csrf and form_id

        async def send(data: bytes) -> httpx.Response:
            return await http.post(
                f"/ho-so/{d.code}/tep",
                data={"csrf_token": csrf[1], "form_id": form_id[1], "name": "Tờ khai",
                      "kind": "original", "pages": "2"},
                files={"file": ("to-khai.pdf", data, "application/pdf")})

        for _ in range(2):
            sent = await send(scan)
            assert sent.status_code == 303, sent.text
        other = await send(pdf(2, text="Một bản khác"))
        assert other.status_code == 422 and "đã được gửi với tệp khác" in other.text
    count = await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                                "event_type = 'FileAttached'", d.code)
    assert count == 1
