"""Issue 24 point 7 in a real browser: the receipt printed right after intake shows the lookup
secret once; reloading it, or another clerk opening it, shows no secret and voids nothing; a
new secret takes the explicit form (a reason and a confirmation)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import signed_in

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.21.39.H39"


async def _opens(base: str, code: str, secret: str) -> bool:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.get(f"/v1/public/dossiers/{code}",
                                  headers={"X-Lookup-Secret": secret})
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def _shown_secret(page: Any) -> str | None:
    found = page.locator(".lookup-secret")
    return (await found.inner_text()).strip() if await found.count() else None


async def test_the_intake_receipt_shows_the_secret_once(
        browser: Any, console_url: str, make_user: MakeUser) -> None:
    """Intake → the receipt with the secret and its QR; a reload and a colleague's view show
    the placeholder line and the reissue form, and the printed secret still opens the
    lookup; the form refuses without confirmation, then prints a new secret that replaces
    the old one."""
    clerk = await make_user("clerk", unit=UNIT)
    colleague = await make_user("clerk", unit=UNIT)
    page = await signed_in(browser, console_url, clerk)
    other = await signed_in(browser, console_url, colleague)
    try:
        await page.goto("/tiep-nhan?thu_tuc=1.004222")
        await page.fill("input[name=name]", "Trần Thị Bình")
        await page.fill("textarea[name=documents]", "Tờ khai")
        await page.locator("form.intake button[type=submit]").click()
        await page.wait_for_url("**/bien-nhan")
        secret = await _shown_secret(page)
        assert secret is not None and await page.locator(".qr svg").count() == 1
        # The Print button prints; no "Ctrl+P" sentence beside it (issue 23 item 15).
        assert await page.locator("[data-testid=print]").is_visible()
        assert "Ctrl+P" not in await page.locator("body").inner_text()
        url = await page.locator("[data-testid=lookup-url]").get_attribute("href") or ""
        code = url.split("#", 1)[1].rsplit(".", 1)[0]
        assert await _opens(console_url, code, secret)

        for viewer in (page, other):
            await viewer.goto(f"/ho-so/{code}/bien-nhan")
            assert await _shown_secret(viewer) is None
            assert await viewer.locator(".qr svg").count() == 0
            assert await viewer.locator(".lookup-placeholder").count() == 1
            assert await viewer.locator("[data-testid=reissue]").count() == 1
        assert await _opens(console_url, code, secret)  # nobody's view voided it

        form = other.locator("[data-testid=reissue]")
        await form.locator("input[name=reason]").fill("Công dân báo mất biên nhận")
        # Without the confirmation the browser does not send it (required); sent anyway
        # (the attribute removed), the server refuses it too.
        await form.locator("input[name=confirm]").evaluate("e => e.required = false")
        await form.locator("button[type=submit]").click()
        await other.locator("[role=alert]").wait_for()
        assert await _opens(console_url, code, secret)
        form = other.locator("[data-testid=reissue]")
        await form.locator("input[name=reason]").fill("Công dân báo mất biên nhận")
        await form.locator("input[name=confirm]").check()
        await form.locator("button[type=submit]").click()
        await other.wait_for_url("**/bien-nhan")
        renewed = await _shown_secret(other)
        assert renewed is not None and renewed != secret
        assert not await _opens(console_url, code, secret)
        assert await _opens(console_url, code, renewed)
        await other.reload()
        assert await _shown_secret(other) is None  # once
    finally:
        await page.context.close()
        await other.context.close()


async def test_docs_render_under_their_content_security_policy(
        browser: Any, console_url: str) -> None:
    """/docs and /redoc, served with a CSP that allows the inline bootstrap only by hash,
    still render the operations; the browser blocks no script or style of theirs (only
    ReDoc's third-party logo, which the policy is meant to keep out)."""
    context = await browser.new_context(base_url=console_url)
    try:
        page = await context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        await page.goto("/docs")
        await page.locator(".opblock").first.wait_for(timeout=30_000)
        await page.goto("/redoc")
        await page.locator("[data-section-id]").first.wait_for(timeout=30_000)
        ours = [v for v in violations if "cdn.redoc.ly" not in v]
        assert ours == [] and not any("script" in v or "style" in v for v in violations)
    finally:
        await context.close()
