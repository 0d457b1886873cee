"""The lateness forecast against the real read model, on a history counted by hand.

Forty finished dossiers of one 7-working-day procedure: 10 finished on working day 2, 10 on
day 5, 4 on day 7 (on time) and 16 on day 9 (late). An open dossier that has spent 6 working
days is among the 20 that had not finished by day 6 (4 on time, 16 late): P(late) = 0.8. One
that has spent 3 days: 30 still running, 16 late, P = 16/30. One just received: 16/40.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import asyncpg
import pytest

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import TimeUnit
from domain.clock import due_at, due_soon_at
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.states import Channel
from motcua.catalog.calendar import load_calendar
from motcua.eventstore import projector, store
from motcua.whatif import forecast
from motcua.whatif.simulate import WorkdayIndex
from tests.report_data import envelopes

UNIT, PROC = "999.16.99.H99", "9.000016"
FINISHED = {2: 10, 5: 10, 7: 4, 9: 16}
FIRST = date(2025, 3, 3)  # a Monday; receipts on the following weekdays
NOW_DAY = date(2025, 6, 2)
SPENT = {"fresh": 0, "middle": 3, "risky": 6}


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return load_calendar()


def _life(cal: Calendar, code: str, received_day: date, finish_offset: int | None,
          until: datetime) -> list[ev.Event]:
    received = cal.at(received_day, time(9))
    due = due_at(cal, received, 7, TimeUnit.WORKING_DAYS)
    steps: list[tuple[datetime, cmd.Command]] = [
        (received, cmd.ReceiveDossier(code=code, unit_code=UNIT, procedure_code=PROC,
                                      channel=Channel.ONLINE, applicant_name="Phạm Văn Dũng")),
        (received + timedelta(seconds=1), cmd.SetDeadline(
            due_at=due, due_soon_at=due_soon_at(cal, due, 1), reason="receipt",
            rule="civil_code", amount=7, unit="working_days", calendar_version=cal.version,
            catalog_version="test")),
        (received + timedelta(minutes=5), cmd.AssignOfficer(officer="officer-2")),
        (received + timedelta(minutes=6), cmd.StartProcessing())]
    if finish_offset is not None:
        done = cal.at(cal.nth_working_day_after(received_day, finish_offset), time(10))
        steps.append((done, cmd.CompleteProcessing(summary="Xong")))
    state, out = Dossier(), []
    for at, command in steps:
        if at >= until:
            break
        for event in decide(state, command, at):
            state = evolve(state, event)
            out.append(event)
    return out


@pytest.fixture(scope="module")
async def history(pool: asyncpg.Pool, cal: Calendar) -> dict[str, str]:
    """The forty finished dossiers and three open ones; returns open name -> code."""
    now = cal.at(NOW_DAY, time(10))
    streams: dict[str, list[ev.Event]] = {}
    n = 0
    for offset, count in FINISHED.items():
        for _ in range(count):
            n += 1
            day = cal.nth_working_day_after(FIRST, n % 15)
            streams[f"{UNIT}-{day:%y%m%d}-{n:04d}"] = _life(cal, f"{UNIT}-{day:%y%m%d}-{n:04d}",
                                                           day, offset, now)
    opened = {}
    for name, spent in SPENT.items():
        n += 1
        day = cal.nth_working_day_before(NOW_DAY, spent)
        code = f"{UNIT}-{day:%y%m%d}-{n:04d}"
        streams[code] = _life(cal, code, day, None, now)
        opened[name] = code
    async with pool.acquire() as conn:
        for code, events in streams.items():
            await store.append(conn, code, envelopes(code, events))
        await projector.catch_up(conn, count_metrics=False)
    return opened


async def test_risk_of_open_dossiers_matches_the_count_by_hand(
        pool: asyncpg.Pool, cal: Calendar, history: dict[str, str]) -> None:
    now = cal.at(NOW_DAY, time(10))
    snap = await forecast.assess(pool, cal, now)
    model = await forecast.learn(pool, cal, now)
    index = WorkdayIndex(cal)
    rows = {r["code"]: forecast.open_from_record(r) for r in await pool.fetch(
        "SELECT * FROM dossiers WHERE code = ANY($1)", list(history.values()))}
    risks = {name: forecast.score(model, index, cal, rows[code], now)
             for name, code in history.items()}
    assert risks["risky"] == forecast.Risk(0.8, "procedure_unit", 20)
    assert risks["middle"] == forecast.Risk(16 / 30, "procedure_unit", 30)
    assert risks["fresh"] == forecast.Risk(16 / 40, "procedure_unit", 40)
    # Only the dossier at 0.8 is "likely late", and it is counted for its unit.
    mine = [i for i in snap.likely_late if i["unit_code"] == UNIT]
    assert [i["code"] for i in mine] == [history["risky"]]
    assert mine[0]["risk"] == {"probability": 0.8, "basis": "procedure_unit", "sample": 20}
    assert snap.at_risk[UNIT] == 1


def test_state_decides_before_the_history(cal: Calendar) -> None:
    model = forecast.Model([(PROC, UNIT, 0.5, 100)])
    index = WorkdayIndex(cal)
    received = cal.at(date(2025, 3, 3), time(9))
    due = due_at(cal, received, 7, TimeUnit.WORKING_DAYS)
    base = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                         received_at=received, due_at=due)
    after_due = due + timedelta(hours=20)
    assert forecast.score(model, index, cal, base, after_due) == forecast.Risk(1.0, "overdue", 0)
    flagged = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC, state="processing",
                            received_at=received, due_at=due, late_by_supplement=True)
    assert forecast.score(model, index, cal, flagged, received) == \
        forecast.Risk(1.0, "late_by_supplement", 0)
    # Paused within time: judged on the time used when the clock stopped, even long after.
    paused = forecast.Open(code="x", unit_code=UNIT, procedure_code=PROC,
                           state="awaiting_supplement", received_at=received, due_at=due,
                           paused_at=received + timedelta(days=1))
    risk = forecast.score(model, index, cal, paused, due + timedelta(days=30))
    assert risk == forecast.Risk(0.0, "procedure_unit", 100)
    # Nothing learnt for this procedure or unit: the other levels, then nothing at all.
    assert forecast.Model([]).risk(PROC, UNIT, 1, 7) is None
    assert forecast.Model([("other", "u", 2.0, 5)]).risk(PROC, UNIT, 1, 7) == \
        forecast.Risk(1.0, "all", 5)


async def test_backtest_reports_calibration(pool: asyncpg.Pool, cal: Calendar,
                                            history: dict[str, str]) -> None:
    # At 14 March the dossiers received from 3 March are open; they finished afterwards.
    result = await forecast.backtest(pool, cal, [cal.at(date(2025, 3, 14), time(12))],
                                     unit=UNIT)
    assert result["scored"] > 0
    assert result["flagged"] >= result["flagged_late"]
    assert sum(b["dossiers"] for b in result["reliability"]) == result["scored"]
    assert 0 <= result["calibration_error"] <= 1
