"""The policy what-if on the console's SLA board (`/bao-cao/gia-dinh`, issue 15): the same
computation as `GET /v1/reports/whatif`, for leaders, over real HTTP on the engine and the
projected read model."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from tests.conftest import PROCEDURE, UNIT, Receive
from tests.console.conftest import PASSWORD, MakeUser
from tests.console.test_login import login

pytestmark = pytest.mark.engine

OFFICE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _cell(html: str, procedure: str, testid: str) -> str:
    row = re.search(rf'<tr data-procedure="{re.escape(procedure)}">(.*?)</tr>', html, re.S)
    assert row, html[-3000:]
    cell = re.search(rf'<td data-testid="{testid}">([^<]*)</td>', row[1])
    assert cell, row[1]
    return cell[1]


async def test_a_leader_runs_the_whatif_of_a_cut_on_the_board(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool, client: Client,
        receive: Receive) -> None:
    leader = await make_user("leader", unit=UNIT)
    dossier = await receive(unit_code=UNIT)
    for action, command in (("assign", cmd.AssignOfficer(officer="officer-1")),
                            ("start", cmd.StartProcessing()),
                            ("complete", cmd.CompleteProcessing(summary="Đã giải quyết")),
                            ("return", cmd.ReturnResult())):
        await dossiers.act(client, dossier.code, action, command)
    for _ in range(100):  # the console's projector catches up
        if await pool.fetchval("SELECT state FROM dossiers WHERE code = $1",
                               dossier.code) == "returned":
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the projector did not catch up")
    received_at = await pool.fetchval("SELECT received_at FROM dossiers WHERE code = $1",
                                      dossier.code)
    day = received_at.astimezone(OFFICE_TZ).date()
    start = received_at.astimezone(OFFICE_TZ).replace(hour=0, minute=0, second=0,
                                                      microsecond=0)
    expected = await pool.fetchval(
        "SELECT count(*) FROM dossiers WHERE unit_code = $1 AND procedure_code = $2 "
        # Received dossiers only: an online submission awaiting acceptance has a row (its
        # period start) but no receipt and no due time yet, and what-if leaves it out.
        "AND received_at >= $3 AND received_at < $4 AND due_at IS NOT NULL", UNIT, PROCEDURE,
        start,
        start + timedelta(days=1))
    period = {"tu": day.isoformat(), "den": day.isoformat()}
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, leader, PASSWORD)).status_code == 303
        board = await http.get("/bao-cao", params=period)
        assert board.status_code == 200 and 'data-testid="whatif-link"' in board.text
        form = await http.get("/bao-cao/gia-dinh", params=period)  # the form alone
        assert form.status_code == 200 and 'data-testid="whatif-form"' in form.text
        assert 'data-testid="whatif"' not in form.text

        zero = await http.get("/bao-cao/gia-dinh", params={**period, "cat": "0",
                                                            "thutuc": PROCEDURE})
        assert zero.status_code == 200, zero.text[-2000:]
        assert 'data-testid="whatif"' in zero.text and "Tỷ lệ đúng hạn mô phỏng" in zero.text
        assert int(_cell(zero.text, PROCEDURE, "received")) == expected >= 1
        current = _cell(zero.text, PROCEDURE, "baseline-rate")
        assert current.endswith("%") and current == _cell(zero.text, PROCEDURE,
                                                            "simulated-rate")
        assert _cell(zero.text, PROCEDURE, "rate-change") == "+0.0 điểm %"
        assert _cell(zero.text, PROCEDURE, "to-late") == "0"

        cut = await http.get("/bao-cao/gia-dinh", params={**period, "cat": "50"})
        assert cut.status_code == 200, cut.text[-2000:]
        assert int(_cell(cut.text, PROCEDURE, "received")) == expected
        now, then = (_cell(cut.text, PROCEDURE, k) for k in ("time-now", "time-cut"))
        assert now.endswith("ngày làm việc") and then.endswith("ngày làm việc")
        assert int(then.split()[0]) < int(now.split()[0])  # 7 → 3 with the shipped catalog

        # Issue 23 item 9: the times under the cut are shown before anything runs, and the
        # words say the rounding the computation does (new time rounded down: cut >= 30%).
        preview = await http.get("/bao-cao/gia-dinh", params={**period, "cat": "30",
                                                               "thutuc": PROCEDURE, "xem": "1"})
        assert preview.status_code == 200, preview.text[-2000:]
        assert 'data-testid="preview"' in preview.text
        assert 'data-testid="whatif"' not in preview.text  # nothing ran yet
        before, after, actual = (_cell(preview.text, PROCEDURE, k)
                                 for k in ("time-now", "time-cut", "actual-cut"))
        amount, cut_amount = int(before.split()[0]), int(after.split()[0])
        assert cut_amount == max(1, (amount * 7) // 10)  # 7 → 4
        assert actual == f"−{round((amount - cut_amount) * 100 / amount)}%"
        assert (amount - cut_amount) / amount >= 0.3 or cut_amount == 1
        assert "làm tròn <strong>xuống</strong>" in preview.text
        assert "Mức cắt giảm được làm tròn xuống" not in preview.text
        ran = await http.get("/bao-cao/gia-dinh", params={**period, "cat": "30",
                                                          "thutuc": PROCEDURE})
        assert _cell(ran.text, PROCEDURE, "time-cut") == after
        assert _cell(ran.text, PROCEDURE, "actual-cut") == actual

        # Bad input: the form again, with a Vietnamese error, never a 500.
        for bad, message in (({"tu": "2025-13-45", "den": "2025-01-01", "cat": "10"},
                              "Ngày không hợp lệ"),
                             ({"tu": "2025-02-01", "den": "2025-01-01", "cat": "10"},
                              "Ngày kết thúc không được trước ngày bắt đầu"),
                             ({**period, "cat": "95"}, "Tỷ lệ cắt giảm phải là một số"),
                             ({**period, "cat": "abc"}, "Tỷ lệ cắt giảm phải là một số"),
                             ({**period, "cat": "10", "thutuc": "1.999999"},
                              "không có trong danh mục"),
                             ({**period, "cat": "10", "thutuc": "<script>"},
                              "Mã thủ tục không hợp lệ")):
            answer = await http.get("/bao-cao/gia-dinh", params=bad)
            assert 400 <= answer.status_code < 500, (bad, answer.text[-1000:])
            assert message in answer.text and 'data-testid="whatif-form"' in answer.text, bad
            assert 'data-testid="whatif"' not in answer.text
        assert "<script>" not in answer.text


async def test_only_leaders_run_the_whatif(console_url: str, make_user: MakeUser) -> None:
    ops = await make_user("ops", unit=None)
    async with httpx.AsyncClient(base_url=console_url) as http:
        assert (await login(http, ops, PASSWORD)).status_code == 303
        board = await http.get("/bao-cao")
        assert board.status_code == 200 and 'data-testid="whatif-link"' not in board.text
        refused = await http.get("/bao-cao/gia-dinh", params={"cat": "10"})
        assert refused.status_code == 403 and "Lãnh đạo" in refused.text
        assert 'data-testid="whatif"' not in refused.text
    async with httpx.AsyncClient(base_url=console_url) as http:  # no session: to the login
        assert (await http.get("/bao-cao/gia-dinh")).status_code == 303
