"""Files in Debian's chromium (issue 26): a clerk scans a component at intake on the dossier
page and downloads it back; once the leader issues the signed result, the citizen opens the
receipt's lookup URL on a phone and downloads the signed PDF, which pyHanko finds intact."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from motcua import lookup
from motcua.access.tokens import create_token
from tests.conftest import Receive, new_code
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import PHONE, WAIT_MS, shot, signed_in
from tests.files.pdfs import pdf

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.24.39.H39"


async def test_scan_at_intake_and_download_the_signed_result(
        browser: Any, console_url: str, receive: Receive, make_user: MakeUser,
        pool: asyncpg.Pool, tmp_path: Path) -> None:
    """Scan, list, download byte for byte; then the citizen's signed result from the lookup."""
    d = await receive(code=new_code(UNIT), unit_code=UNIT)
    clerk = await make_user("clerk", unit=UNIT, full_name="Trần Thị Lan")
    page = await signed_in(browser, console_url, clerk)
    try:
        await page.goto(f"/ho-so/{d.code}")
        form = page.locator("[data-testid=scan-form]")
        scan = pdf(2, text="Tờ khai")
        (tmp_path / "to-khai.pdf").write_bytes(scan)
        await form.locator("[name=name]").fill("Tờ khai")
        await form.locator("[name=pages]").fill("2")
        await form.locator("[name=file]").set_input_files(str(tmp_path / "to-khai.pdf"))
        await form.locator("button[type=submit]").click()
        await page.wait_for_url("**xong=tep")
        listed = page.locator("[data-testid=files]")
        assert "Tờ khai" in await listed.inner_text()
        await shot(page, "13-so-hoa-thanh-phan")
        async with page.expect_download() as download:
            await page.locator("[data-testid=file-link]").first.click()
        saved = await (await download.value).path()
        assert await asyncio.to_thread(Path(saved).read_bytes) == scan
    finally:
        await page.context.close()

    leader_token = await create_token(pool, name=f"leader-{uuid.uuid4().hex[:6]}",
                                      roles=["leader"], unit_code=UNIT)
    async with httpx.AsyncClient(base_url=console_url, timeout=30,
                                 headers={"Authorization": f"Bearer {leader_token}"}) as api:
        for action, body in (("assign", {"officer": "o-files"}), ("start", {})):
            assert (await api.post(f"/v1/dossiers/{d.code}/{action}", json=body)
                    ).status_code == 200
        issued = await api.post(f"/v1/dossiers/{d.code}/result",
                                files=[("summary", (None, "Cấp giấy xác nhận"))])
        assert issued.status_code == 201, issued.text
    secret = await lookup.issue(pool, d.code, issued_by="test")

    phone = await browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True,
                                      accept_downloads=True)
    try:
        citizen = await phone.new_page()
        await citizen.goto(f"{console_url}{lookup.lookup_url(d.code, secret)}")
        button = citizen.locator("[data-testid=result-download] button")
        await button.wait_for(timeout=WAIT_MS)
        await shot(citizen, "14-tai-ket-qua-dien-thoai")
        async with citizen.expect_download() as download:
            await button.click()
        signed = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
    finally:
        await phone.close()
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[]))
    assert status.intact and status.valid  # trust is the dev CA's: checked in tests/api
