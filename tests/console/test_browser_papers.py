"""Issue 23 items 4, 5, 6, 8, 9 and 10 in Debian's chromium, as a commune office meets them:
papers in words and signed by full names, a short supplement pause that moves nothing, the
SLA board and its Biểu 06 files as the form, refusals and withdrawals shown as such, and the
what-if's times before it runs. Screenshots go to docs/screenshots/ (papers-*.png).

The story (module-scoped): in one unit, a clerk, an officer and a leader with full names;
dossier A is assigned, processed with a supplement asked and brought back seconds apart, and
returned; B is refused by the leader during processing; C is withdrawn at the counter.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import openpyxl
import pytest
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from motcua.reports.sla import sla_report
from motcua.runtime import calendar_for
from tests.conftest import PROCEDURE, new_code, settings_for
from tests.console.conftest import MakeUser, needs_chromium
from tests.console.test_browser import closing, shot, signed_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.engine, needs_chromium]

UNIT = "000.22.39.H39"
INTERNAL = ("civil_code", "working_days", "same_time_of_day", "@v", "procedure_code",
            "catalog version", "unit_code", "resolved_early", "on_time_rate")


@dataclass
class Story:
    clerk: str
    officer: str
    leader: str
    returned: str = ""
    refused: str = ""
    withdrawn: str = ""


async def _until_projected(pool: asyncpg.Pool, code: str, state: str) -> None:
    for _ in range(200):
        if await pool.fetchval("SELECT state FROM dossiers WHERE code = $1", code) == state:
            return
        import asyncio
        await asyncio.sleep(0.1)
    raise AssertionError(f"{code} never reached {state} in the read model")


@pytest.fixture(scope="module")
async def story(make_user: MakeUser, client: Client, pool: asyncpg.Pool,
                console_url: str) -> Story:
    s = Story(clerk=await make_user("clerk", unit=UNIT, full_name="Trần Thị Lan"),
              officer=await make_user("officer", unit=UNIT, full_name="Lê Văn Minh"),
              leader=await make_user("leader", unit=UNIT, full_name="Nguyễn Quốc Bảo"))
    from tests.conftest import TASK_QUEUE, receipt

    async def received() -> str:
        d = await dossiers.receive(client, receipt(new_code(UNIT), unit_code=UNIT,
                                                   actor=s.clerk), task_queue=TASK_QUEUE)
        return d.code

    s.returned = await received()
    for action, command in (
            ("assign", cmd.AssignOfficer(officer=s.officer, actor=s.leader)),
            ("start", cmd.StartProcessing(actor=s.officer)),
            ("request-supplement", cmd.RequestSupplement(reason="Thiếu giấy xác nhận",
                                                         actor=s.officer)),
            ("supplement", cmd.ProvideSupplement(actor=s.officer)),
            ("complete", cmd.CompleteProcessing(summary="Đã giải quyết", actor=s.officer)),
            ("return", cmd.ReturnResult(actor=s.clerk))):
        await dossiers.act(client, s.returned, action, command)
    s.refused = await received()
    await dossiers.act(client, s.refused, "assign",
                       cmd.AssignOfficer(officer=s.officer, actor=s.leader))
    await dossiers.act(client, s.refused, "refuse",
                       cmd.RefuseDossier(reason="Không đủ điều kiện", actor=s.leader))
    s.withdrawn = await received()
    await dossiers.act(client, s.withdrawn, "withdraw",
                       cmd.WithdrawDossier(reason="Công dân xin rút", stop_notice=True,
                                           actor=s.clerk))
    open_one = await received()  # one in progress, for the load per officer
    await dossiers.act(client, open_one, "assign",
                       cmd.AssignOfficer(officer=s.officer, actor=s.leader))
    await _until_projected(pool, open_one, "assigned")
    await _until_projected(pool, s.returned, "returned")
    await _until_projected(pool, s.refused, "refused")
    return s


async def _paper(page: Any, code: str, kind: str) -> str:
    await page.goto(f"/ho-so/{code}/giay-to/{kind}")
    return str(await page.content())


def _signed(html: str, block: str) -> str:
    import re
    found = re.search(rf'<div class="bold">{block}</div>.*?<div class="name[^"]*">([^<]*)</div>',
                      html, re.S)
    assert found, block
    return found[1].strip()


async def test_papers_read_in_words_and_carry_full_names(
        browser: Any, console_url: str, story: Story, closing: list[Any]) -> None:  # noqa: F811
    """Items 5 and 6: the receipt says how the time is counted in a sentence and is signed by
    the clerk's full name; the refusal during processing is the head's notice, not the intake
    form; the stop notice taken at the counter leaves "Thủ trưởng" to the head."""
    page = await signed_in(browser, console_url, story.leader)
    closing.append(page)
    await page.goto(f"/ho-so/{story.returned}/bien-nhan")
    receipt = str(await page.content())
    assert "Cách tính thời hạn: tính từ ngày làm việc kế tiếp ngày tiếp nhận, đủ 07 ngày" \
        in receipt
    assert _signed(receipt, "NGƯỜI TIẾP NHẬN HỒ SƠ") == "Trần Thị Lan"
    assert not [w for w in INTERNAL if w in receipt] and story.clerk not in receipt
    await shot(page, "papers-receipt")

    refusal = await _paper(page, story.refused, "refusal")
    assert "Thông báo từ chối giải quyết hồ sơ".upper() in refusal.upper()
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" not in refusal
    assert _signed(refusal, "THỦ TRƯỞNG CƠ QUAN") == "Nguyễn Quốc Bảo"
    await shot(page, "papers-refusal-notice")

    stop = await _paper(page, story.withdrawn, "stop-notice")
    assert _signed(stop, "THỦ TRƯỞNG CƠ QUAN") == ""
    assert _signed(stop, "NGƯỜI LẬP") == "Trần Thị Lan"
    await shot(page, "papers-stop-notice")

    slip = await _paper(page, story.returned, "process-control")
    assert "Lê Văn Minh" in slip and story.officer not in slip
    assert "hạn giải quyết không đổi" in slip
    await shot(page, "papers-process-control")


async def test_dossier_page_in_words_and_a_short_pause_moves_nothing(
        browser: Any, console_url: str, story: Story, closing: list[Any],  # noqa: F811
        pool: asyncpg.Pool) -> None:
    """Items 5, 6 and 8: the rule in a sentence, the timeline's "Phân công cho <full name>",
    and a supplement brought back seconds after it was asked: 0 minutes of office time, the
    due time unchanged, and the page says so."""
    page = await signed_in(browser, console_url, story.leader)
    closing.append(page)
    await page.goto(f"/ho-so/{story.returned}")
    text = str(await page.inner_text("main"))
    assert "Phân công cho Lê Văn Minh" in text
    assert "Cách tính thời hạn: tính từ ngày làm việc kế tiếp" in text
    assert not [w for w in INTERNAL if w in text]
    effect = await page.inner_text("[data-testid=pause-effect]")
    assert "hạn giải quyết không đổi" in effect and "0 phút" in effect
    versions = await pool.fetch(
        "SELECT payload->>'due_at' AS due FROM events WHERE stream = $1 "
        "AND event_type = 'DeadlineSet' ORDER BY position", story.returned)
    assert len({v["due"] for v in versions}) == 1, versions  # the pause moved nothing
    await page.locator("[data-testid=pauses]").scroll_into_view_if_needed()
    await shot(page, "papers-dossier-pause")


async def test_a_wrong_procedure_reads_as_a_sentence(
        browser: Any, console_url: str, story: Story, closing: list[Any]) -> None:  # noqa: F811
    """Item 5: a procedure code the catalog does not have: a Vietnamese sentence, no field
    name, no catalog version."""
    page = await signed_in(browser, console_url, story.clerk)
    closing.append(page)
    await page.goto("/tiep-nhan")
    await page.fill("[data-testid=procedure]", "9.999999")
    await page.fill("input[name=name]", "Nguyễn Văn Bình")
    await page.locator("form[method=post] button[type=submit]").last.click()
    error = await page.inner_text("[data-testid=error]")
    assert "Mã thủ tục không có trong danh mục" in error
    assert not [w for w in INTERNAL if w in error]
    await shot(page, "papers-intake-unknown-procedure", full_page=False)


async def test_board_reads_as_bieu_06_and_its_files_read_back(
        browser: Any, console_url: str, story: Story, closing: list[Any],  # noqa: F811
        pool: asyncpg.Pool, postgres: Any, temporal_server: Any) -> None:
    """Items 4 and 10: the board's Biểu 06 has the form's groups, the procedure's name under
    its field, headers over every column, refusals and withdrawals said apart; the CSV and
    XLSX downloaded from it read back in Vietnamese with rates as percentages."""
    page = await signed_in(browser, console_url, story.leader)
    closing.append(page)
    today = datetime.now(UTC).astimezone(calendar_for(settings_for(postgres,
                                                                   temporal_server)).tz).date()
    start = date(today.year, today.month, 1)
    await page.goto(f"/bao-cao?tu={start}&den={today}")
    table = page.locator("[data-testid=bieu06]")
    heads = await table.locator("thead th").all_inner_texts()
    for group in ("Số hồ sơ nhận giải quyết", "Số hồ sơ đã giải quyết",
                  "Số hồ sơ đang giải quyết", "Trước hạn", "Đúng hạn", "Trong hạn"):
        assert group in heads
    # Every body cell sits under a header: the numbered row has one per column.
    numbers = await table.locator("tr.colnum th").count()
    widths = await table.locator("tbody tr.procedure").evaluate_all(
        "rows => rows.map(r => r.children.length)")
    assert widths and set(widths) == {numbers}
    names = await table.locator("tbody tr.procedure td.name").all_inner_texts()
    assert any(n.startswith(f"{PROCEDURE} — Đăng ký thường trú") for n in names), names
    report = await sla_report(pool, period_start=start, period_end=today, unit=UNIT,
                              group_by=("procedure",), tz=calendar_for(
                                  settings_for(postgres, temporal_server)).tz)
    without = report.totals.as_dict()["resolved_without_result"]
    assert without >= 2  # B refused, C withdrawn
    kpi = await page.inner_text("[data-testid=kpi-without-result]")
    assert f"trong đó {without} trả lại, rút hoặc dừng" in kpi
    note = await page.inner_text("[data-testid=bieu06-note]")
    assert "không bao giờ là Trước hạn" in note and "2026-12.1" in note
    # Load per officer: as many headers as cells.
    load_heads = await page.locator("[data-testid=load] thead th").count()
    load_cells = await page.locator("[data-testid=load] tbody tr").first.locator("td").count()
    assert load_heads == load_cells == 4
    align = await page.locator("[data-testid=bieu06] thead th").nth(3).evaluate(
        "e => getComputedStyle(e).textAlign")
    assert align == "center"
    # The officers' unit is a name: left, as its cells (the walk of issue 23).
    unit_head = page.locator("[data-testid=steps-by-officer] thead th").nth(1)
    assert await unit_head.inner_text() == "Đơn vị"
    assert await unit_head.evaluate("e => getComputedStyle(e).textAlign") == "left"
    await shot(page, "papers-board-bieu06")

    async with page.expect_download() as csv_download:
        await page.click("[data-testid=csv]")
    rows = list(csv.reader(io.StringIO(
        (await (await csv_download.value).path()).read_text(encoding="utf-8-sig"),
        newline="")))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    assert "Số hồ sơ đã giải quyết" in rows[head] and "Trước hạn" in rows[head + 1]
    assert not [c for r in rows[:head + 3] for c in r if "_" in c]
    residence = next(r for r in rows if r[1].startswith(f"{PROCEDURE} — "))
    assert all(c.endswith("%") or c == "—" for c in residence[-3:])
    async with page.expect_download() as xlsx_download:
        await page.click("[data-testid=xlsx]")
    book = openpyxl.load_workbook(io.BytesIO(
        (await (await xlsx_download.value).path()).read_bytes()))
    sheet = book["Biểu 06"]
    assert sheet["A1"].value == "Biểu số 06/VPCP/KSTT"
    line = next(r for r in sheet.iter_rows() if str(r[1].value).startswith(f"{PROCEDURE} — "))
    assert {c.number_format for c in line[-3:]} == {"0.0%"}


async def test_whatif_shows_the_times_before_it_runs(
        browser: Any, console_url: str, story: Story, closing: list[Any]) -> None:  # noqa: F811
    """Item 9: the leader asks for a 30 % cut and first sees each procedure's time under it
    (7 working days → 4, −43 %) and the rule in words that agree (rounded down, at least)."""
    page = await signed_in(browser, console_url, story.leader)
    closing.append(page)
    await page.goto("/bao-cao/gia-dinh")
    await page.fill("input[name=cat]", "30")
    await page.fill("input[name=thutuc]", PROCEDURE)
    await page.click("[data-testid=preview-button]")
    row = page.locator(f"[data-testid=preview] tr[data-procedure='{PROCEDURE}']")
    assert await row.locator("[data-testid=time-now]").inner_text() == "7 ngày làm việc"
    assert await row.locator("[data-testid=time-cut]").inner_text() == "4 ngày làm việc"
    assert await row.locator("[data-testid=actual-cut]").inner_text() == "−43%"
    rule = await page.inner_text("[data-testid=cut-rule]")
    assert "làm tròn xuống" in rule and "không nhỏ hơn" in rule
    assert await page.locator("[data-testid=whatif]").count() == 0
    await shot(page, "papers-whatif-preview")
