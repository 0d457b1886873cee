"""Issue 23 item 12 in a real browser, and two small parts of item 15.

12: the kiosk is bound to its counter: it offers the dossier just returned there (never a list
of codes, never a code box), asks the reason on "Không hài lòng" (nothing recorded without
it), thanks and goes back; the citizen rates from the lookup page (what the receipt's QR
opens) with the lookup secret, once, on a phone; every screen has its way back.
15: the receipt and the lookup page say "mã tra cứu" for the secret; the procedure picker
shows each match's name, time, fee and checklist (what the catalog knows) after a search.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from motcua import lookup
from motcua.access.tokens import create_token
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import DESKTOP, PHONE, WAIT_MS, shot, signed_in

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.21.39.H39"
APPLICANT = "Vũ Thị Thu Trang"
REASON = "Phải đi lại hai lần vì thiếu hướng dẫn"


class Desk:
    """A counter's people: its clerk (console user and an API token of the same name, so a
    return through the API is the clerk's), a kiosk at the same counter, and a leader's token
    (of the unit) that moves dossiers to their result."""

    def __init__(self, base: str, clerk: str, clerk_token: str, kiosk: str,
                 leader_token: str, officer: str) -> None:
        self.base, self.clerk, self.clerk_token = base, clerk, clerk_token
        self.kiosk, self.leader_token, self.officer = kiosk, leader_token, officer

    async def returned(self, *, by: str | None = None) -> tuple[str, str]:
        """A dossier received, processed and returned (by the clerk's token, or `by`): its
        code and lookup secret."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            lead = {"Authorization": f"Bearer {self.leader_token}"}
            answer = await http.post("/v1/dossiers", headers=lead, json={
                "procedure_code": "1.004222", "unit_code": UNIT, "channel": "counter",
                "applicant": {"name": APPLICANT, "phone": "0912345678"},
                "documents": ["Tờ khai"]})
            assert answer.status_code == 201, answer.text
            code, secret = answer.json()["code"], answer.json()["lookup_secret"]
            for action, body in (("assign", {"officer": self.officer}), ("start", {}),
                                 ("complete", {"summary": "Đã giải quyết"})):
                step = await http.post(f"/v1/dossiers/{code}/{action}", json=body,
                                       headers=lead)
                assert step.status_code == 200, (action, step.text)
            back = await http.post(f"/v1/dossiers/{code}/return", json={}, headers={
                "Authorization": f"Bearer {by or self.clerk_token}"})
            assert back.status_code == 200, back.text
        return code, secret


async def _desk(pool: asyncpg.Pool, base: str, make_user: MakeUser, counter: str) -> Desk:
    clerk = await make_user("clerk", unit=UNIT, full_name="Ngô Thị Hạnh", counter=counter)
    kiosk = await make_user("kiosk", unit=UNIT, full_name=f"Kiosk quầy {counter}",
                            counter=counter)
    officer = await make_user("officer", unit=UNIT, full_name="Lê Văn Minh")
    clerk_token = await create_token(pool, name=clerk, roles=["clerk"], unit_code=UNIT)
    leader_token = await create_token(pool, name=f"lead-{uuid.uuid4().hex[:6]}",
                                      roles=["clerk", "leader"], unit_code=UNIT)
    return Desk(base, clerk, clerk_token, kiosk, leader_token, officer)


async def _ratings(pool: asyncpg.Pool, code: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT payload->>'satisfaction' AS satisfaction, payload->>'comment' AS comment, "
        "metadata->>'actor' AS actor FROM events "
        "WHERE stream = $1 AND event_type = 'ServiceRated'", code)


async def test_the_kiosk_offers_only_what_its_counter_just_returned(
        browser: Any, console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    counter = f"Q{uuid.uuid4().hex[:4]}"
    desk = await _desk(pool, console_url, make_user, counter)
    elsewhere = await _desk(pool, console_url, make_user, f"{counter}-b")
    kiosk = await signed_in(browser, console_url, desk.kiosk, DESKTOP)
    try:
        # Nothing returned at this counter yet: the waiting screen, no code box, no list.
        await kiosk.goto("/danh-gia")
        assert await kiosk.locator("[data-testid=kiosk-idle]").count() == 1
        assert await kiosk.locator("input[name=ma]").count() == 0
        assert await kiosk.locator("button.rate").count() == 0
        assert counter in await kiosk.locator("[data-testid=kiosk-counter]").inner_text()
        assert await kiosk.locator("a[href='/tra-cuu'], .kiosk-hint").count() >= 1
        await shot(kiosk, "23-12-kiosk-cho", full_page=False)

        mine, _ = await desk.returned()
        other, _ = await elsewhere.returned()  # another counter's return, a moment later
        await kiosk.goto("/danh-gia")
        assert await kiosk.locator("[data-testid=kiosk-code]").inner_text() == mine
        body = await kiosk.locator("body").inner_text()
        assert other not in body and APPLICANT not in body
        # Asking for another dossier changes nothing: the kiosk offers its counter's only.
        await kiosk.goto(f"/danh-gia?ma={other}")
        assert await kiosk.locator("[data-testid=kiosk-code]").inner_text() == mine
        assert await kiosk.locator("[data-testid=back]").get_attribute("href") == "/danh-gia"
        await shot(kiosk, "23-12-kiosk-ho-so", full_page=False)

        # "Không hài lòng" without a reason: asked for it, in Vietnamese; nothing recorded.
        await kiosk.locator("button.rate-not_satisfied").click()
        error = kiosk.locator("[data-testid=rate-error]")
        await error.wait_for()
        assert "lý do" in (await error.inner_text()).lower()
        assert await kiosk.locator("[data-testid=rate-comment]").get_attribute(
            "aria-invalid") == "true"
        assert await _ratings(pool, mine) == []
        await shot(kiosk, "23-12-kiosk-ly-do", full_page=False)

        await kiosk.locator("[data-testid=rate-comment]").fill(REASON)
        await kiosk.locator("button.rate-not_satisfied").click()
        await kiosk.locator("[data-testid=thanks]").wait_for()
        await shot(kiosk, "23-12-kiosk-cam-on", full_page=False)
        stored = await _ratings(pool, mine)
        assert [(r["satisfaction"], r["comment"], r["actor"]) for r in stored] == [
            ("not_satisfied", REASON, desk.kiosk)]
        # Rated: the kiosk offers nothing until the next return at its counter.
        assert await kiosk.locator("[data-testid=kiosk-idle]").count() == 1
        assert await kiosk.locator("button.rate").count() == 0
        assert await _ratings(pool, other) == []
    finally:
        await kiosk.context.close()
    # A kiosk user of no counter offers nothing, and says so.
    unbound = await signed_in(browser, console_url, await make_user("kiosk", unit=UNIT),
                              DESKTOP)
    try:
        await unbound.goto(f"/danh-gia?ma={other}")
        assert await unbound.locator("[data-testid=kiosk-unbound]").count() == 1
        assert await unbound.locator("button.rate").count() == 0
    finally:
        await unbound.context.close()


async def test_the_citizen_rates_from_the_lookup_page_once(
        browser: Any, console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    desk = await _desk(pool, console_url, make_user, f"P{uuid.uuid4().hex[:4]}")
    code, secret = await desk.returned()
    url = lookup.lookup_url(code, secret, console_url)
    phone = await browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    try:
        citizen = await phone.new_page()
        citizen.set_default_timeout(WAIT_MS)
        stale = await phone.new_page()  # the same form left open in a second tab
        stale.set_default_timeout(WAIT_MS)
        for tab in (citizen, stale):
            await tab.goto(url)
            await tab.locator("[data-testid=lookup-rating]").wait_for()
        assert "Mã tra cứu" in await citizen.locator("#lookup-form").inner_text()
        await shot(citizen, "23-12-tra-cuu-danh-gia")

        await citizen.locator("button.rate-not_satisfied").click()
        error = citizen.locator("[data-testid=rate-error]")
        await error.wait_for()
        assert "lý do" in (await error.inner_text()).lower()
        assert await _ratings(pool, code) == []
        await shot(citizen, "23-12-tra-cuu-ly-do")

        await citizen.locator("[data-testid=rate-comment]").fill(REASON)
        await citizen.locator("button.rate-not_satisfied").click()
        await citizen.locator("[data-testid=lookup-thanks]").wait_for()
        assert await citizen.locator("[data-testid=lookup-rating]").count() == 0
        assert "Cảm ơn" in await citizen.locator("[data-testid=next-step]").inner_text()
        await shot(citizen, "23-12-tra-cuu-cam-on")
        stored = await _ratings(pool, code)
        assert [(r["satisfaction"], r["comment"], r["actor"]) for r in stored] == [
            ("not_satisfied", REASON, "citizen-lookup")]

        # Once: the form still open in the other tab is refused with a clear message.
        await stale.locator("button.rate-very_satisfied").click()
        refused = stale.locator("[data-testid=rate-error]")
        await refused.wait_for()
        assert "đã được đánh giá" in await refused.inner_text()
        assert len(await _ratings(pool, code)) == 1
        await shot(stale, "23-12-tra-cuu-da-danh-gia")

        # The way back: to the lookup form.
        await citizen.locator("[data-testid=back]").click()
        await citizen.wait_for_url("**/tra-cuu")
        assert await citizen.locator("#lookup-form").count() == 1
    finally:
        await phone.close()
    # The counter sees it in the dossier's history: who rated (in words), how, and why.
    staff = await signed_in(browser, console_url, desk.clerk, DESKTOP)
    try:
        await staff.goto(f"/ho-so/{code}")
        history = await staff.locator("main").inner_text()
        assert "Công dân (trang tra cứu)" in history and REASON in history
        assert "citizen-lookup" not in history
    finally:
        await staff.context.close()


async def test_one_word_for_the_secret_on_the_receipt_and_the_lookup_page(
        browser: Any, console_url: str, make_user: MakeUser) -> None:
    """Item 15: "mã tra cứu" on the receipt printed at intake (beside its QR code) and on the
    lookup page; "mã bí mật" nowhere."""
    clerk = await make_user("clerk", unit=UNIT)
    page = await signed_in(browser, console_url, clerk, DESKTOP)
    try:
        await page.goto("/tiep-nhan?thu_tuc=1.004222")
        await page.fill("input[name=name]", "Trần Thị Bình")
        await page.fill("textarea[name=documents]", "Tờ khai")
        await page.locator("form.intake button[type=submit]").click()
        await page.wait_for_url("**/bien-nhan")
        lookup_box = page.locator(".lookup")
        text = await lookup_box.inner_text()
        assert "mã tra cứu" in text and "QR" in text
        assert "bí mật" not in (await page.locator("body").inner_text()).lower()
        await lookup_box.scroll_into_view_if_needed()
        await shot(page, "23-15-bien-nhan-ma-tra-cuu")
        await page.goto("/tra-cuu")
        assert "Mã tra cứu" in await page.locator("#lookup-form").inner_text()
        assert "bí mật" not in (await page.locator("body").inner_text()).lower()
    finally:
        await page.context.close()


async def test_the_procedure_picker_shows_time_fee_and_papers_after_a_search(
        browser: Any, console_url: str, make_user: MakeUser) -> None:
    """Item 15: a search lists each match with its name, time (and source), fee and papers
    (with their texts), or says the catalog has none; choosing one fills the form."""
    clerk = await make_user("clerk", unit=UNIT)
    page = await signed_in(browser, console_url, clerk, DESKTOP)
    try:
        await page.goto("/tiep-nhan")
        await page.fill("input[name=tim]", "khai sinh")
        await page.press("input[name=tim]", "Enter")
        match = page.locator(".match[data-code='1.001193']")
        await match.wait_for()
        assert "Thủ tục đăng ký khai sinh" in await match.locator(".match-name").inner_text()
        assert "Trong ngày" in await match.locator("[data-testid=match-time]").inner_text()
        fee = await match.locator("[data-testid=match-fee]").inner_text()
        assert "Miễn lệ phí" in fee and "Luật Hộ tịch 2014 Điều 11" in fee
        papers = await match.locator("[data-testid=match-papers] li").all_inner_texts()
        assert any("Giấy chứng sinh" in p for p in papers) and len(papers) == 2
        await shot(page, "23-15-chon-thu-tuc")

        await page.fill("input[name=tim]", "thường trú")
        await page.press("input[name=tim]", "Enter")
        other = page.locator(".match[data-code='1.004222']")
        await other.wait_for()
        assert "ngày làm việc" in await other.locator("[data-testid=match-time]").inner_text()
        assert "Chưa có" in await other.locator("[data-testid=match-fee]").inner_text()
        await other.locator("a.button", has_text="Chọn thủ tục này").click()
        await page.wait_for_url("**thu_tuc=1.004222")
        assert await page.locator("[data-testid=procedure]").input_value() == "1.004222"
    finally:
        await page.context.close()
