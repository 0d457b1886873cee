"""The internal procedure in Debian's chromium (issue 22 item 6): a leader opens a dossier at
the department leader's review step, sees every step with its due time and verdict, and sends
the draft back to the officer with a reason; the page then shows the officer's step again
(run twice) and the reason in the trail."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from motcua.access.tokens import create_token
from motcua.access.users import create_user
from tests.conftest import Receive, new_code
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import shot, signed_in

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.25.39.H39"


async def test_the_leader_sends_a_dossier_back(browser: Any, console_url: str, receive: Receive,
                                               make_user: MakeUser, pool: asyncpg.Pool) -> None:
    """Send-back from step 4 to step 3 with its reason, through the page's form."""
    d = await receive(code=new_code(UNIT), unit_code=UNIT, procedure_code="1.004944")
    leader = await make_user("leader", unit=UNIT, full_name="Hoàng Văn Minh")
    # The officer who takes the step is an active user of the unit (issue 24 point 5).
    await create_user(pool, username="cv-buoc", password="mat-khau-thu-nghiem-1",
                      roles=["officer"], unit_code=UNIT, replace=True)
    token = await create_token(pool, name=f"all-{uuid.uuid4().hex[:6]}",
                               roles=["clerk", "leader"], unit_code=UNIT)
    async with httpx.AsyncClient(base_url=console_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        for action, body in (("hand-over", {}), ("assign", {"officer": "cv-buoc"}),
                             ("start", {}), ("hand-over", {"note": "Dự thảo xong"})):
            response = await api.post(f"/v1/dossiers/{d.code}/{action}", json=body)
            assert response.status_code == 200, response.text
        assert response.json()["current_step"] == 3
    page = await signed_in(browser, console_url, leader)
    try:
        await page.goto(f"/ho-so/{d.code}")
        steps = page.locator("[data-testid=steps]")
        assert await steps.locator("tbody tr").count() == 7
        current = steps.locator("tr[aria-current=step]")
        assert await current.get_attribute("data-step") == "4"
        assert "Đúng hạn" in await steps.locator("tr[data-step='1']").inner_text() or \
            "Trước hạn" in await steps.locator("tr[data-step='1']").inner_text()
        form = page.locator("form[data-action=send-back]")
        assert await page.locator("form[data-action=hand-over]").count() == 1
        assert await form.locator("select[name=to_step] option").count() == 3
        # Sending back is grouped with the other actions behind a disclosure (issue 23.2).
        await form.evaluate("f => { for (let d = f.closest('details'); d; "
                            "d = d.parentElement.closest('details')) d.open = true; }")
        await form.locator("[name=reason]").fill("Dự thảo chưa đúng mẫu")
        await shot(page, "15-quy-trinh-noi-bo")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url("**xong=send-back")
        steps = page.locator("[data-testid=steps]")
        assert await steps.locator("tr[aria-current=step]").get_attribute("data-step") == "3"
        assert "(2 lần)" in await steps.locator("tr[data-step='3']").inner_text()
        await page.locator("[data-testid=steps] details summary").click()
        trail = await page.locator("[data-testid=step-runs]").inner_text()
        assert "Bị trả lại" in trail and "Dự thảo chưa đúng mẫu" in trail
        await shot(page, "16-tra-lai-buoc")
        # The leader at the officer's step (handed to cv-buoc) may still hand it on, not
        # send it back further than step 1.
        assert await page.locator("form[data-action=send-back] option").count() == 2
    finally:
        await page.context.close()
