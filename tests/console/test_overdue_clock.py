"""Overdue from the clock (issue 27 item 1), on the real stack: a dossier whose due instant
passes while no timer event for it has been processed (its events are appended straight to the
store, so no workflow and no timer exist for it: a timer backlog at its worst) is overdue at
the instant in the list filter (`GET /v1/dossiers?sla=overdue`), on the SLA board and in the
gauge `motcua_dossiers_open`, while the stored `sla_status` still says otherwise."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from domain import commands as cmd
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.envelope import EventEnvelope
from domain.states import Channel
from motcua.access.tokens import create_token
from motcua.eventstore import store
from tests.conftest import PROCEDURE
from tests.console.conftest import PASSWORD, MakeUser
from tests.console.test_login import login

pytestmark = pytest.mark.engine

LEAD = 6.0  # seconds from the append of the receipt to its due instant


async def _append_dossier(pool: asyncpg.Pool, code: str, unit: str, due: datetime,
                          soon: datetime) -> None:
    """Receipt and deadline, decided by the domain and stored as the workflow would."""
    at = datetime.now(UTC) - timedelta(hours=1)
    d = Dossier()
    events = decide(d, cmd.ReceiveDossier(code=code, unit_code=unit, procedure_code=PROCEDURE,
                                          channel=Channel.COUNTER, applicant_name="Lê Văn C"),
                    at)
    d = fold(events, d)
    events += decide(d, cmd.SetDeadline(
        reason="receipt", due_at=due, due_soon_at=soon, rule="civil_code", amount=7,
        unit="working_days", calendar_version="test", catalog_version="test",
        legal_due_at=due), at)
    envelopes = [EventEnvelope.wrap(e, event_id=str(uuid.uuid4()), stream=code, position=i,
                                    metadata={"actor": "test", "causation": "test"})
                 for i, e in enumerate(events, start=1)]
    async with pool.acquire() as conn:
        await store.append(conn, code, envelopes)


def _gauge(text: str, unit: str, status: str) -> float:
    pattern = (rf'^motcua_dossiers_open\{{sla_status="{status}",state="received",'
               rf'unit="{re.escape(unit)}"\}} (\S+)$')
    found = re.search(pattern, text, re.M)
    return float(found[1]) if found else 0.0


def _board_overdue(html: str) -> str:
    section = re.search(r'data-testid="overdue">(.*?)</table>', html, re.S)
    assert section, html[-2000:]
    return section[1]


async def test_overdue_at_the_due_instant_without_any_timer_event(
        console_url: str, make_user: MakeUser, pool: asyncpg.Pool) -> None:
    unit = f"000.99.T{uuid.uuid4().hex[:6].upper()}"
    code = f"{unit}-{datetime.now(UTC):%y%m%d}-0001"
    leader = await make_user("leader", unit=unit)
    token = await create_token(pool, name=f"clock-{uuid.uuid4().hex[:6]}", roles=["leader"],
                               unit_code=unit)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=console_url, timeout=30) as http:
        assert (await login(http, leader, PASSWORD)).status_code == 303
        due = datetime.now(UTC) + timedelta(seconds=LEAD)
        await _append_dossier(pool, code, unit, due, soon=due - timedelta(hours=1))

        async def listed(sla: str) -> list[str]:
            answer = await http.get("/v1/dossiers", params={"sla": sla, "unit": unit},
                                    headers=headers)
            assert answer.status_code == 200, answer.text
            return [item["code"] for item in answer.json()["items"]]

        for _ in range(100):  # the console's projector catches up with the receipt
            if await pool.fetchval("SELECT 1 FROM dossiers WHERE code = $1", code):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the projector did not project the receipt")
        # Before the instant: due soon everywhere (the stored status says on track: no
        # due-soon alert was ever raised either).
        assert await listed("due_soon") == [code]
        assert await listed("overdue") == []
        assert code not in _board_overdue((await http.get("/bao-cao")).text)
        for _ in range(100):  # the gauges refresh when the read model changes
            if _gauge((await http.get("/metrics")).text, unit, "due_soon") == 1:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the gauge never counted the dossier")
        assert datetime.now(UTC) < due, "the set-up took longer than LEAD"

        await asyncio.sleep((due - datetime.now(UTC)).total_seconds())
        # At the instant: the list and the board judge from the clock.
        assert await listed("overdue") == [code]
        assert code in _board_overdue((await http.get("/bao-cao")).text)
        # The gauge's snapshot was refreshed at the next due instant among open dossiers.
        started = time.monotonic()
        while _gauge((await http.get("/metrics")).text, unit, "overdue") != 1:
            assert time.monotonic() - started < 1.0, "the gauge lagged the due instant"
            await asyncio.sleep(0.02)
        assert _gauge((await http.get("/metrics")).text, unit, "due_soon") == 0
    # No timer event was ever processed: the stored status still says on track.
    assert await pool.fetchval("SELECT sla_status FROM dossiers WHERE code = $1",
                               code) == "on_track"
