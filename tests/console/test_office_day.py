"""A commune office's day on the console (issue 23), in Debian's chromium: one test per point.
Screenshots go to docs/screenshots/23-*.png.

- item 1: a complaint recorded on a dossier whose workflow has ended (refused), in its history;
- item 2: the usual next step first, the other and the irreversible actions behind disclosures,
  and a confirmation with the reason before an irreversible one;
- item 3: the applicant's contact details for staff (each read audited), not for operations;
- item 7: the clerk records at the counter the papers the citizen brought, the assignee is told,
  and after intake the page says who acts next;
- item 13: online submissions first in the queue, with the time left to check them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from domain.clock import add_working_time
from motcua import dossiers
from motcua.config import Settings
from motcua.console.web import vn_time
from motcua.runtime import calendar_for
from tests.conftest import TASK_QUEUE, Receive, new_code
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import shot, signed_in

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.25.39.H39"
APPLICANT = "Vũ Thị Thu Trang"
CONTACTS = {"applicant_phone": "0912345678", "applicant_id_number": "001190012345",
            "applicant_address": "Số 5 ngõ 12 phố Hàng Bông, Hà Nội",
            "applicant_email": "thutrang@example.vn"}


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    pages: list[Any] = []
    yield pages
    for page in pages:
        await page.context.close()


async def _ended(client: Client, code: str) -> None:
    """Wait until the dossier's workflow has finished (its life ended)."""
    await asyncio.wait_for(client.get_workflow_handle(code).result(), 30)


async def test_item1_a_complaint_after_the_end_lands_in_the_history(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        client: Client, pool: asyncpg.Pool, closing: list[Any]) -> None:
    leader = await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo")
    clerk = await make_user("clerk", unit=UNIT, full_name="Trần Thị Lan")
    code = new_code(UNIT)
    await receive(code=code, unit_code=UNIT, applicant_name=APPLICANT)
    await dossiers.act(client, code, "refuse",
                       cmd.RefuseDossier(reason="Không thuộc thẩm quyền", actor=leader))
    await _ended(client, code)  # the workflow is gone: no update can reach it

    page = await signed_in(browser, console_url, clerk)
    closing.append(page)
    await page.goto(f"/ho-so/{code}")
    offered = await page.locator("form[data-action]").evaluate_all(
        "fs => fs.map(f => f.dataset.action)")
    assert offered == ["complaint"]  # nothing else on an ended dossier
    form = page.locator("form[data-action='complaint']")
    await form.locator("[name=complainant]").fill(APPLICANT)
    await form.locator("[name=channel]").select_option("hotline")
    await form.locator("[name=text]").fill("Không đồng ý với lý do từ chối")
    await form.locator("button[type=submit]").click()
    await page.locator("[data-testid=done]").wait_for()
    timeline = await page.locator(".timeline").inner_text()
    assert "Không đồng ý với lý do từ chối" in timeline
    await shot(page, "23-1-phan-anh-sau-khi-ket-thuc")
    row = await pool.fetchrow(
        "SELECT position, metadata->>'causation' AS causation, metadata->>'actor' AS actor "
        "FROM events WHERE stream = $1 AND event_type = 'ComplaintRecorded'", code)
    assert row is not None and row["causation"] == "after-end" and row["actor"] == clerk
    last = await pool.fetchval("SELECT max(position) FROM events WHERE stream = $1", code)
    assert row["position"] == last  # appended after the refusal, contiguous
    # A second one (a feedback note later) takes the next position.
    await form.locator("[name=complainant]").fill(APPLICANT)
    await form.locator("[name=text]").fill("Đề nghị hướng dẫn thủ tục đúng thẩm quyền")
    await form.locator("button[type=submit]").click()
    await page.locator("[data-testid=done]").wait_for()
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                               "event_type = 'ComplaintRecorded'", code) == 2


async def test_item2_irreversible_actions_are_grouped_and_confirmed(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        pool: asyncpg.Pool, closing: list[Any]) -> None:
    leader = await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo")
    await make_user("officer", unit=UNIT, full_name="Lê Văn Minh")
    code = new_code(UNIT)
    await receive(code=code, unit_code=UNIT, applicant_name=APPLICANT)
    page = await signed_in(browser, console_url, leader)
    closing.append(page)
    await page.goto(f"/ho-so/{code}")
    # The usual next step (assign) is the one form in sight; no red button shows.
    forms = page.locator("form[data-action]")
    visible = [await forms.nth(i).get_attribute("data-action")
               for i in range(await forms.count()) if await forms.nth(i).is_visible()]
    assert visible == ["assign"]
    assert not await page.locator("button.danger").first.is_visible()
    more = page.locator("[data-testid=irreversible-actions]")
    assert "Từ chối" in await more.locator("summary").inner_text()
    await shot(page, "23-2-thao-tac")
    await more.locator("summary").click()
    refuse = page.locator("form[data-action='refuse']")
    await refuse.locator("[name=reason]").fill("Hồ sơ không thuộc thẩm quyền của xã")
    await refuse.locator("button[type=submit]").click()
    await page.locator("[data-testid=confirm]").wait_for()
    assert "Hồ sơ không thuộc thẩm quyền của xã" in await page.locator(
        "[data-testid=confirm-reason]").inner_text()
    await shot(page, "23-2-xac-nhan-tu-choi")
    # Going back sends nothing.
    await page.locator("[data-testid=confirm-no]").click()
    assert "Mới tiếp nhận" in await page.locator("[data-testid=state]").inner_text()
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1 AND "
                               "event_type = 'DossierRefused'", code) == 0
    # Confirmed, it acts.
    await page.locator("[data-testid=irreversible-actions] summary").click()
    await refuse.locator("[name=reason]").fill("Hồ sơ không thuộc thẩm quyền của xã")
    await refuse.locator("button[type=submit]").click()
    await page.locator("[data-testid=confirm-yes]").click()
    await page.locator("[data-testid=done]").wait_for()
    assert "Từ chối" in await page.locator("[data-testid=state]").inner_text()


async def test_item3_staff_see_the_contacts_and_each_read_is_audited(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        pool: asyncpg.Pool, closing: list[Any]) -> None:
    officer = await make_user("officer", unit=UNIT, full_name="Lê Văn Minh")
    ops = await make_user("ops", unit=None, full_name="Vận hành")
    code = new_code(UNIT)
    await receive(code=code, unit_code=UNIT, applicant_name=APPLICANT, **CONTACTS)
    page = await signed_in(browser, console_url, officer)
    closing.append(page)
    await page.goto(f"/ho-so/{code}")
    shown = " ".join(await page.locator("[data-testid=contact]").all_inner_texts())
    for value in CONTACTS.values():
        assert value in shown
    assert await page.locator("a[href='tel:0912345678']").count() == 1
    await shot(page, "23-3-lien-he")
    reads = await pool.fetchval("SELECT count(*) FROM pii_reads WHERE dossier_code = $1 AND "
                                "principal = $2 AND what = 'console:contacts'", code, officer)
    assert reads == 1
    watcher = await signed_in(browser, console_url, ops)
    closing.append(watcher)
    await watcher.goto(f"/ho-so/{code}")
    assert await watcher.locator("[data-testid=contact]").count() == 0
    assert "0912345678" not in await watcher.content()


async def test_item7_the_clerk_records_the_papers_brought_to_the_counter(
        browser: Any, console_url: str, make_user: MakeUser, client: Client,
        pool: asyncpg.Pool, closing: list[Any]) -> None:
    clerk = await make_user("clerk", unit=UNIT, full_name="Trần Thị Lan")
    officer = await make_user("officer", unit=UNIT, full_name="Lê Văn Minh")
    await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo")
    page = await signed_in(browser, console_url, clerk)
    closing.append(page)
    # After intake, the page says who acts next.
    await page.goto("/tiep-nhan")
    await page.fill("input[name=procedure_code]", "1.004222")
    await page.fill("input[name=name]", APPLICANT)
    await page.fill("input[name=phone]", "0912345678")
    await page.fill("textarea[name=documents]", "Tờ khai thay đổi thông tin cư trú")
    await page.locator("form button[type=submit]").last.click()
    await page.wait_for_url("**/bien-nhan")
    code = await page.locator(".dossier-code").first.inner_text()
    await page.goto(f"/ho-so/{code}")
    step = await page.locator("[data-testid=next-step]").inner_text()
    assert "Phân công" in step and "Nguyễn Quốc Bảo" in step
    await shot(page, "23-7-buoc-tiep-theo")

    for action, command in (("assign", cmd.AssignOfficer(officer=officer, actor="x")),
                            ("start", cmd.StartProcessing(actor=officer)),
                            ("request-supplement", cmd.RequestSupplement(
                                reason="Thiếu giấy tờ chứng minh chỗ ở", actor=officer))):
        await dossiers.act(client, code, action, command)
    await page.goto(f"/ho-so/{code}")
    assert "Chờ bổ sung" in await page.locator("[data-testid=state]").inner_text()
    assert "tại quầy" in await page.locator("[data-testid=next-step]").inner_text()
    first = page.locator("form[data-action]").first
    assert await first.get_attribute("data-action") == "supplement"
    await first.locator("[name=documents]").fill("Hợp đồng thuê nhà có công chứng")
    await shot(page, "23-7-nhan-bo-sung-tai-quay")
    # The assignee has their list open: the banner will tell them.
    assignee = await signed_in(browser, console_url, officer)
    closing.append(assignee)
    await assignee.goto("/ho-so?cua_toi=1")
    await first.locator("button[type=submit]").click()
    await page.locator("[data-testid=done]").wait_for()
    assert "Đang xử lý" in await page.locator("[data-testid=state]").inner_text()
    actor = await pool.fetchval("SELECT metadata->>'actor' FROM events WHERE stream = $1 AND "
                                "event_type = 'SupplementReceived'", code)
    assert actor == clerk
    # The assignee is told: their live banner carries it.
    told = await assignee.request.get("/cap-nhat?since=2000-01-01T00:00:00%2B00:00")
    kinds = {(a["code"], a["kind"]) for a in (await told.json())["alerts"]}
    assert (code, "supplement_received") in kinds
    await assignee.locator("#alerts p", has_text=code).wait_for()
    await shot(assignee, "23-7-can-bo-duoc-bao", full_page=False)



async def test_item13_online_submissions_first_with_the_time_left_to_check_them(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        client: Client, pool: asyncpg.Pool, closing: list[Any]) -> None:
    unit = "000.26.39.H39"  # a queue of its own
    clerk = await make_user("clerk", unit=unit, full_name="Trần Thị Lan")
    counter = new_code(unit)
    await receive(code=counter, unit_code=unit, applicant_name=APPLICANT)
    online = new_code(unit)
    await dossiers.submit_online(client, cmd.SubmitOnline(
        code=online, unit_code=unit, procedure_code="1.004222", applicant_name=APPLICANT,
        actor="cong-dvcqg"), task_queue=TASK_QUEUE)
    page = await signed_in(browser, console_url, clerk)
    closing.append(page)
    for _ in range(60):  # the projector runs asynchronously
        await page.goto("/ho-so")
        if await page.locator(f"tr[data-code='{online}']").count():
            break
        await page.wait_for_timeout(250)
    block = page.locator("[data-testid=intake-first]")
    assert "08 giờ làm việc" in await block.inner_text()
    assert "Điều 6 khoản 4" in await block.inner_text()
    # First on the page, before the counter dossier, and not listed twice.
    codes = await page.locator("tr[data-code]").evaluate_all(
        "rs => rs.map(r => r.dataset.code)")
    assert codes[0] == online and codes.count(online) == 1 and counter in codes
    arrived = await pool.fetchval("SELECT recorded_at FROM events WHERE stream = $1 AND "
                                  "event_type = 'DossierSubmitted'", online)
    calendar = calendar_for(Settings())
    limit = add_working_time(calendar, arrived, timedelta(hours=8))
    row = await block.locator(f"tr[data-code='{online}']").inner_text()
    assert vn_time(limit, calendar.tz) in row
    left = await block.locator("[data-testid=intake-left]").inner_text()
    assert "làm việc" in left and left != "—"
    await shot(page, "23-13-truc-tuyen-truoc")
    # Its page has no empty table of due versions: it says the time starts at acceptance.
    await page.goto(f"/ho-so/{online}")
    assert await page.locator("[data-testid=due-versions]").count() == 0
    assert "khi hồ sơ được tiếp nhận" in await page.locator(
        "[data-testid=no-due-yet]").inner_text()


async def test_item14_dates_are_typed_dd_mm_yyyy_in_an_english_browser(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        closing: list[Any]) -> None:
    """No native date or time picker (they follow the browser's locale); an English browser
    types 05/01/2027 and 16:30 and the appointment is 16:30 on 5 January."""
    leader = await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo")
    code = new_code(UNIT)
    await receive(code=code, unit_code=UNIT, applicant_name=APPLICANT)
    context = await browser.new_context(viewport={"width": 1366, "height": 768},
                                        locale="en-US", base_url=console_url)
    page = await context.new_page()
    closing.append(page)
    page.set_default_timeout(15_000)
    await page.goto("/login")
    await page.fill("input[name=username]", leader)
    await page.fill("input[name=password]", "mat-khau-thu-nghiem-1")
    await page.press("input[name=password]", "Enter")
    await page.wait_for_url(lambda url: "/login" not in url)
    for path in (f"/ho-so/{code}", "/bao-cao", "/bao-cao/gia-dinh"):
        await page.goto(path)
        assert await page.locator("input[type=date], input[type=time], "
                                  "input[type=datetime-local]").count() == 0, path
    await page.goto("/bao-cao")
    start = await page.input_value("input[name=tu]")
    assert len(start) == 10 and start[2] == "/" and start[5] == "/"  # dd/mm/yyyy
    await page.goto(f"/ho-so/{code}")
    await page.locator("[data-testid=more-actions] summary").click()
    form = page.locator("form[data-action='extend']")
    await form.locator("[name=reason]").fill("Cần xác minh thêm")
    await form.locator("[name=new_date]").fill("12/01/2027")
    await form.locator("[name=new_time]").fill("16:30")
    await shot(page, "23-14-ngay-dd-mm-yyyy")
    await form.locator("button[type=submit]").click()
    await page.locator("[data-testid=done]").wait_for()
    timeline = await page.locator(".timeline").inner_text()
    assert "12 tháng 01 năm 2027" in timeline or "12/01/2027" in timeline, timeline
    # A US-style time is refused by the form, and a wrong day by the server, in Vietnamese.
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    wrong = await page.request.post(f"/ho-so/{code}/extend", form={
        "csrf_token": token or "", "reason": "x", "new_date": "2027-31-12"})
    assert wrong.status == 422 and "dd/mm/yyyy" in await wrong.text()


async def test_item15_print_button_and_one_extension_said(
        browser: Any, console_url: str, make_user: MakeUser, receive: Receive,
        client: Client, closing: list[Any]) -> None:
    leader = await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo")
    code = new_code(UNIT)
    d = await receive(code=code, unit_code=UNIT, applicant_name=APPLICANT)
    assert d.due_at is not None
    await dossiers.act(client, code, "extend", cmd.ExtendDeadline(
        reason="Cần xác minh thêm", new_due_at=d.due_at + timedelta(days=7), actor=leader))
    page = await signed_in(browser, console_url, leader)
    closing.append(page)
    await page.goto(f"/ho-so/{code}")
    assert await page.locator("form[data-action='extend']").count() == 0
    said = await page.locator("[data-testid=extended-once]").inner_text()
    assert "không quá một lần" in said
    await shot(page, "23-15-da-gia-han-mot-lan")
    for kind in ("apology", "process-control"):
        await page.goto(f"/ho-so/{code}/giay-to/{kind}")
        button = page.locator("[data-testid=print]")
        assert await button.is_visible()
        # The button opens the browser's print dialog (window.print), no Ctrl+P.
        await page.evaluate("window.__printed = 0; window.print = () => window.__printed++")
        await button.click()
        assert await page.evaluate("window.__printed") >= 1, await page.evaluate(
            "document.querySelectorAll('script').length")
        await page.emulate_media(media="print")
        assert not await button.is_visible()  # not on the paper
        await page.emulate_media(media="screen")
    await shot(page, "23-15-nut-in")
