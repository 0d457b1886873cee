"""Digitisation before assignment in Debian's chromium (issue 26): under a procedure that
requires it, the leader's dossier page says which papers are not yet scanned and offers no
assignment; a form sent anyway (a page left open) is refused with the names; once the papers
are scanned, the assignment is offered and goes through."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import asyncpg
import httpx
import pytest

from motcua.access.tokens import create_token
from tests.conftest import UNIT
from tests.console.conftest import PASSWORD, MakeUser, needs_chromium
from tests.console.test_browser import shot, signed_in
from tests.console.test_login import login
from tests.files.catalogs import digitise_first
from tests.files.pdfs import pdf

pytestmark = [pytest.mark.engine, needs_chromium]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAPERS = ["Tờ khai thay đổi thông tin cư trú", "Giấy tờ chứng minh chỗ ở hợp pháp"]


async def test_assign_is_held_until_the_papers_are_scanned(
        browser: Any, console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    leader = await make_user("leader", unit=UNIT, full_name="Lê Văn Hùng")
    officer = await make_user("officer", unit=UNIT, full_name="Phạm Thu Hà")
    token = await create_token(pool, name=f"intake-{officer}", roles=["clerk"], unit_code=UNIT)
    auth = {"Authorization": f"Bearer {token}"}
    async with digitise_first(pool) as procedure, httpx.AsyncClient(base_url=console_url) as api:
        deadline = time.monotonic() + 30
        while True:  # until the API and the worker follow the catalog naming `procedure`
            made = await api.post("/v1/dossiers", headers=auth, json={
                "procedure_code": procedure, "unit_code": UNIT, "channel": "counter",
                "applicant": {"name": "Đỗ Minh Tuấn"}, "documents": PAPERS})
            if made.status_code == 201:
                break
            assert made.status_code == 422 and time.monotonic() < deadline, made.text
            await asyncio.sleep(0.1)
        code = made.json()["code"]
        scanned = await api.post(f"/v1/dossiers/{code}/files", headers=auth,
                                 data={"name": PAPERS[0], "kind": "original", "pages": "1"},
                                 files={"file": ("a.pdf", pdf(1), "application/pdf")})
        assert scanned.status_code == 201, scanned.text

        page = await signed_in(browser, console_url, leader)
        try:
            await page.goto(f"/ho-so/{code}")
            note = page.locator("[data-testid=digitise-first]")
            said = await note.inner_text()
            assert PAPERS[1] in said and PAPERS[0] not in said
            assert "Nghị định 118/2025/NĐ-CP" in said
            assert await page.locator(f"form[action='/ho-so/{code}/assign']").count() == 0
            assert "Số hóa giấy tờ còn thiếu" in await page.locator(
                "[data-testid=next-step]").inner_text()
            await note.scroll_into_view_if_needed()
            await shot(page, "26-so-hoa-truoc-phan-cong", full_page=False)

            # A form sent anyway (the page was open before the rule applied) is refused.
            async with httpx.AsyncClient(base_url=console_url) as http:
                assert (await login(http, leader, PASSWORD)).status_code == 303
                shown = await http.get(f"/ho-so/{code}")
                csrf = _CSRF.search(shown.text)
                assert csrf
                refused = await http.post(f"/ho-so/{code}/assign",
                                          data={"csrf_token": csrf[1], "officer": officer})
                assert refused.status_code == 409
                assert "Còn thiếu bản quét" in refused.text and PAPERS[1] in refused.text
            assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                                       "event_type = 'OfficerAssigned'", code) == 0

            second = await api.post(f"/v1/dossiers/{code}/files", headers=auth,
                                    data={"name": PAPERS[1], "kind": "copy", "pages": "2"},
                                    files={"file": ("b.pdf", pdf(2), "application/pdf")})
            assert second.status_code == 201, second.text
            await page.goto(f"/ho-so/{code}")
            assert await page.locator("[data-testid=digitise-first]").count() == 0
            form = page.locator(f"form[action='/ho-so/{code}/assign']")
            await form.locator("[name=officer]").select_option(officer)
            await form.locator("button[type=submit]").click()
            await page.wait_for_url("**xong=assign")
            assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                                       "event_type = 'OfficerAssigned'", code) == 1
        finally:
            await page.context.close()
