""""My dossiers" follows the steps (issue 22 item 6), in Debian's chromium: the steps waiting
on me are the dossiers whose current step is handed to me by name or is my role's step in my
unit, each with the step's name and its own due time. A leader sees the dossier at the
leader's step (assigning the officer); once assigned, the officer sees it at the officer's
step, and the leader no longer does."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from motcua.access.tokens import create_token
from tests.conftest import Receive, new_code
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import shot, signed_in

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.26.39.H39"  # this test's own unit


async def _projected(pool: asyncpg.Pool, code: str, step: int) -> None:
    """Wait (polling, up to 15 s) until the read model has the dossier at `step` (0-based)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if await pool.fetchval("SELECT step FROM step_runs WHERE code = $1 AND ended_at IS NULL",
                               code) == step:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{code} never reached step {step + 1} in step_runs")


async def test_my_dossiers_are_the_steps_waiting_on_me(
        browser: Any, console_url: str, receive: Receive, make_user: MakeUser,
        pool: asyncpg.Pool) -> None:
    d = await receive(code=new_code(UNIT), unit_code=UNIT, procedure_code="1.004944")
    leader = await make_user("leader", unit=UNIT, full_name="Vũ Thị Thanh")
    officer = await make_user("officer", unit=UNIT, full_name="Đặng Văn Hùng")
    token = await create_token(pool, name=f"all-{uuid.uuid4().hex[:6]}",
                               roles=["clerk", "leader"], unit_code=UNIT)
    async with httpx.AsyncClient(base_url=console_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        response = await api.post(f"/v1/dossiers/{d.code}/hand-over", json={})
        assert response.status_code == 200, response.text
        leader_step = response.json()["steps"][1]
        await _projected(pool, d.code, 1)
        page = await signed_in(browser, console_url, leader)
        try:
            await page.goto("/ho-so?cua_toi=1")
            row = page.locator(f"[data-testid=my-steps] tr[data-code='{d.code}']")
            assert await row.get_attribute("data-step") == "2"
            assert leader_step["name"][:30] in await row.locator(
                "[data-testid=step-name]").inner_text()
            due = await row.locator("[data-testid=step-due]").inner_text()
            assert due and "Không tính" not in due  # a timed step shows its own due time
            await shot(page, "22-cua-toi-lanh-dao")

            response = await api.post(f"/v1/dossiers/{d.code}/assign",
                                      json={"officer": officer})
            assert response.status_code == 200, response.text
            officer_step = response.json()["steps"][2]
            await _projected(pool, d.code, 2)
            await page.goto("/ho-so?cua_toi=1")
            assert await page.locator(
                f"[data-testid=my-steps] tr[data-code='{d.code}']").count() == 0
        finally:
            await page.context.close()
    page = await signed_in(browser, console_url, officer)
    try:
        await page.goto("/ho-so?cua_toi=1")
        row = page.locator(f"[data-testid=my-steps] tr[data-code='{d.code}']")
        assert await row.get_attribute("data-step") == "3"
        text = await row.locator("[data-testid=step-name]").inner_text()
        assert officer_step["name"][:30] in text and "Đặng Văn Hùng" in text
        assert await row.locator("[data-testid=step-due]").inner_text()
        # Assigned to the officer, but walking steps: listed with the steps, not again below.
        assert await page.locator(f"table.queue tr[data-code='{d.code}']").count() == 1
        await shot(page, "23-cua-toi-buoc-dang-cho")
    finally:
        await page.context.close()
