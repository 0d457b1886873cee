"""Issue 23 items 11 and 15 in a real browser. The clerk receives one dossier with form 01's
paper table (form and count per paper) and one received after hours the evening before,
entered the next morning with a reason; a third is withdrawn at the counter. The receipt
lists each paper with its form and count; the dossier page shows the real receipt time and
when it was entered. The leader opens the register (Sổ theo dõi hồ sơ) from the navigation
with the signed-in session: the states in the console's words, the real receipt time, the
appointment, the empty signature column; its printable book has a Print button; its CSV and
XLSX read back with Vietnamese headers. Screenshots: docs/screenshots/register-*.png."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pytest

from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import act, closing, shot, signed_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.21.39.H39"
TZ_OFFSET = timedelta(hours=7)  # the shipped calendar's zone, Asia/Ho_Chi_Minh


async def _intake(page: Any, name: str, *, papers: list[tuple[str, str, str]] | None = None,
                  backdate: tuple[str, str, str] | None = None) -> str:
    await page.goto("/tiep-nhan?thu_tuc=1.004222")
    await page.fill("input[name=name]", name)
    rows = page.locator("[data-testid=papers] tbody tr")
    for index, (paper, form, count) in enumerate(papers or []):
        row = rows.nth(index)
        await row.locator("input[name=paper_name]").fill(paper)
        await row.locator("select[name=paper_form]").select_option(form)
        await row.locator("input[name=paper_count]").fill(count)
    if backdate is not None:
        day, clock, reason = backdate
        await page.fill("input[name=received_day]", day)
        await page.fill("input[name=received_clock]", clock)
        await page.fill("input[name=backdate_reason]", reason)
    await page.locator("form.intake button[type=submit]").click()
    await page.wait_for_url("**/bien-nhan")
    return str(page.url).rsplit("/ho-so/", 1)[1].split("/", 1)[0]


async def test_receipt_papers_backdating_and_the_register(
        browser: Any, console_url: str, make_user: MakeUser,
        closing: list[Any]) -> None:  # noqa: F811 (the fixture imported above)
    """Form 01's papers and a backdated receipt at intake; the leader's register from the
    navigation, its print page and its files."""
    clerk = await make_user("clerk", unit=UNIT, full_name="Hoàng Thị Mai")
    leader = await make_user("leader", unit=UNIT, full_name="Phạm Văn Đức")
    page = await signed_in(browser, console_url, clerk)
    closing.append(page)

    papers = [("Tờ khai đăng ký thường trú", "original", "1"),
              ("Giấy tờ chứng minh chỗ ở hợp pháp", "certified_copy", "2")]
    await page.goto("/tiep-nhan?thu_tuc=1.004222")
    await shot(page, "register-intake-form")
    first = await _intake(page, "Lò Văn Pá", papers=papers)
    rows = page.locator("table.papers tbody tr")
    assert await rows.count() == 2
    assert [t.strip() for t in await rows.nth(1).locator("td").all_inner_texts()] == [
        "2", "Giấy tờ chứng minh chỗ ở hợp pháp", "Bản sao có chứng thực", "02"]
    await shot(page, "register-receipt-papers")

    # After hours yesterday (17:40 office time), entered now with a reason.
    office_now = datetime.utcnow() + TZ_OFFSET  # noqa: DTZ003 (office wall clock)
    evening = (office_now - timedelta(days=1)).replace(hour=17, minute=40)
    day = f"{evening:%d/%m/%Y}"
    # A half entry (no reason) is refused in Vietnamese, nothing received.
    await page.goto("/tiep-nhan?thu_tuc=1.004222")
    await page.fill("input[name=name]", "Vàng Thị Mai")
    await page.fill("input[name=received_day]", day)
    await page.fill("input[name=received_clock]", "17:40")
    await page.locator("form.intake button[type=submit]").click()
    assert "cần ghi lý do" in await page.locator("[data-testid=error]").inner_text()
    second = await _intake(page, "Vàng Thị Mai", backdate=(
        day, "17:40", "Nhận sau giờ làm việc, nhập vào sáng hôm sau"))
    assert f"17 giờ 40 phút, ngày {evening:%d} tháng {evening.month} năm {evening.year}" \
        in await page.content()
    await page.goto(f"/ho-so/{second}")
    shown = await page.locator("[data-testid=received-at]").inner_text()
    assert shown.startswith(f"17:40 {day}") and "nhập vào hệ thống lúc" in shown
    assert "Nhận sau giờ làm việc" in shown
    await shot(page, "register-backdated-dossier")

    third = await _intake(page, "Giàng A Sử")
    await page.goto(f"/ho-so/{third}")
    await act(page, "withdraw", reason="Công dân xin rút hồ sơ")

    boss = await signed_in(browser, console_url, leader)
    closing.append(boss)
    await boss.goto("/ho-so")
    await boss.get_by_role("link", name="Sổ theo dõi").click()
    await boss.wait_for_url("**/so-theo-doi")
    today = f"{office_now:%d/%m/%Y}"
    for _ in range(60):  # the read model follows the events within a second or so
        await boss.goto(f"/so-theo-doi?tu={today}&den={today}")
        state = boss.locator(f"tr[data-code='{third}'] td.state")
        if await state.count() and "Công dân rút" in await state.inner_text():
            break
        await boss.wait_for_timeout(250)
    assert "401" not in await boss.content() and "bearer" not in await boss.content()

    def cell(code: str, key: str) -> Any:
        return boss.locator(f"tr[data-code='{code}'] td.{key}")

    assert "Công dân rút" in await cell(third, "state").inner_text()
    assert await cell(first, "state").inner_text() == "Mới tiếp nhận"
    assert await cell(first, "received_by").inner_text() == "Hoàng Thị Mai"
    assert await cell(first, "appointment").inner_text() != ""
    assert await cell(first, "signature").inner_text() == ""
    assert (await cell(second, "received_at").inner_text()) == f"17:40 {day}"
    assert "Nhập lùi lúc" in await cell(second, "note").inner_text()
    assert await cell(first, "applicant_name").inner_text() == "Lò Văn Pá"
    await shot(boss, "register-leader-page")

    async with boss.expect_popup() as popup:
        await boss.locator("[data-testid=print-register]").click()
    printed = await popup.value
    closing.append(printed)
    await printed.wait_for_load_state()
    assert await printed.locator("[data-testid=print]").count() == 1
    assert "Chữ ký của cá nhân, tổ chức nhận kết quả" in await printed.content()
    await shot(printed, "register-printable")

    query = f"tu={today}&den={today}"
    response = await boss.request.get(f"/so-theo-doi.csv?{query}")
    assert response.ok
    text = (await response.body()).decode("utf-8")
    read = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    mine = {line["Mã hồ sơ"]: line for line in read}
    assert mine[third]["Tình trạng"].startswith("Công dân rút")
    assert mine[second]["Nhận hồ sơ (giờ, ngày)"] == f"17:40 {day}"
    assert mine[first]["Tên cá nhân, tổ chức"] == "Lò Văn Pá"
    response = await boss.request.get(f"/so-theo-doi.xlsx?{query}")
    assert response.ok
    sheet = openpyxl.load_workbook(io.BytesIO(await response.body())).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1][0] == "SỔ THEO DÕI HỒ SƠ"
    assert values[3][:3] == ["Quyển số", "Số thứ tự", "Mã hồ sơ"]
    assert any(r[2] == third and str(r[10]).startswith("Công dân rút") for r in values[4:])
