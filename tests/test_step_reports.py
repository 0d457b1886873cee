"""Who made it late (issue 22 item 5), over real events appended to PostgreSQL and projected:
the `step_runs` read model (one row per run, its holder and verdict by instant), the steps
report per officer and per unit, and Biểu 06 per unit counting the legs of transferred
dossiers, each against numbers worked out by hand below; rebuild gives the same rows.

Office hours are the shipped ones (07:30-11:30, 13:30-17:00, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain import commands as cmd
from domain import events as ev
from domain import steps
from domain.calendar import Calendar
from domain.decide import decide
from domain.dossier import Dossier, evolve, fold
from domain.states import Channel
from motcua.catalog.calendar import load_calendar
from motcua.catalog.source import load_catalog
from motcua.eventstore import projector, reporting, store
from motcua.reports.sla import sla_report
from motcua.reports.steps import steps_report
from tests.report_data import envelopes

# Units and a procedure code of these tests only (the database is shared with other tests).
U1, U2, U3 = "000.77.01.H77", "000.77.02.H77", "000.77.03.H77"
LEG_PROC = "9.777777"


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+07:00")


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return load_calendar()


def walk_events(cal: Calendar, code: str) -> list[ev.Event]:
    """Nghệ An 3854 (2.002755) received by U1 Monday 2 March 2026 08:00, driven as the
    workflow drives it (decide, fold, the plan at receipt, each run's due instant from the
    step activity's `domain.steps.run_due`); the department leader sends the officer's draft
    back twice."""
    d, out = Dossier(), list[ev.Event]()

    def run(command: cmd.Command, now: datetime, *, begin: bool = False) -> None:
        nonlocal d
        events = decide(d, command, now)
        state = fold(events, d)
        if begin:
            proc = load_catalog().procedure("2.002755")
            assert proc.steps is not None
            more = decide(state, cmd.BeginSteps(plan=steps.plan_for(
                proc.steps, U1, carry_over=False)), now)
            events, state = [*events, *more], fold(more, state)
        request = steps.due_request(state, events)
        if request is not None:
            due = steps.run_due(cal, request)
            more = decide(state, cmd.SetStepDue(step=state.step_runs[-1].step,
                                                due_at=due.due_at, due_soon_at=due.due_soon_at,
                                                credit_seconds=due.credit_seconds), now)
            events, state = [*events, *more], fold(more, state)
        d = state
        out.extend(events)

    run(cmd.ReceiveDossier(code=code, unit_code=U1, procedure_code="2.002755",
                           channel=Channel.COUNTER, applicant_name="Nguyễn Văn An",
                           actor="clerk-1"), at("2026-03-02", "08:00"), begin=True)
    run(cmd.HandOverStep(actor="clerk-1"), at("2026-03-02", "10:00"))
    run(cmd.AssignOfficer(officer="cv-1", actor="lanh-dao"), at("2026-03-02", "11:00"))
    run(cmd.HandOverStep(actor="cv-1"), at("2026-03-04", "09:00"))
    run(cmd.SendBackStep(reason="Sai mẫu", actor="lanh-dao"), at("2026-03-04", "10:00"))
    run(cmd.HandOverStep(actor="cv-1"), at("2026-03-09", "08:00"))
    run(cmd.SendBackStep(reason="Thiếu chữ ký", actor="lanh-dao"), at("2026-03-09", "09:00"))
    return out


# Worked out by hand (7.5 office hours a day): (run, step, holder, due, ended, verdict).
# Step 1 (4 h) from Mon 08:00: 3.5 h to 11:30 + 0.5 h -> 14:00; handed over 10:00 the same day.
# Step 2 (4 h) from 10:00: 1.5 + 2.5 -> 16:00; the assignment at 11:00 hands over (on time).
# Step 3 (20 h) from Mon 11:00: 4 (Mon) + 7.5 (Tue) + 7.5 (Wed) + 1 -> Thu 08:30; handed over
# Wed 09:00, an earlier date: early. Step 4 (4 h) from Wed 09:00 -> 15:00, sent back at 10:00.
# Step 3 again from Wed 10:00 (20 h) -> Fri 17:00, handed over Mon 9 March 08:00: late.
# Step 4 again from Mon 08:00 -> 14:00, sent back 09:00; step 3 a third time from 09:00
# (20 h) -> Wed 11 March 16:00, open, handed to nobody by name.
RUNS = [(0, 0, "clerk-1", at("2026-03-02", "14:00"), at("2026-03-02", "10:00"), "on_time"),
        (1, 1, "lanh-dao", at("2026-03-02", "16:00"), at("2026-03-02", "11:00"), "on_time"),
        (2, 2, "cv-1", at("2026-03-05", "08:30"), at("2026-03-04", "09:00"), "early"),
        (3, 3, "lanh-dao", at("2026-03-04", "15:00"), at("2026-03-04", "10:00"), "on_time"),
        (4, 2, "cv-1", at("2026-03-06", "17:00"), at("2026-03-09", "08:00"), "late"),
        (5, 3, "lanh-dao", at("2026-03-09", "14:00"), at("2026-03-09", "09:00"), "on_time"),
        (6, 2, None, at("2026-03-11", "16:00"), None, None)]


async def _append(pool: asyncpg.Pool, code: str, events: list[ev.Event]) -> None:
    async with pool.acquire() as conn:
        await store.append(conn, code, envelopes(code, events))
        while await projector.project_batch(conn, limit=5, count_metrics=False):
            pass


def _counts(rows: list[Any]) -> dict[tuple[str | None, str | None], tuple[int, ...]]:
    return {(r.unit_code, r.officer): (r.ended_early, r.ended_on_time, r.ended_late,
                                       r.ended_untimed, r.open_overdue) for r in rows}


async def test_step_runs_and_the_steps_report_agree_with_the_count_by_hand(
        pool: asyncpg.Pool, cal: Calendar) -> None:
    code = f"{U1}-260302-0001"
    await _append(pool, code, walk_events(cal, code))
    query = ("SELECT run, step, holder, due_at, ended_at, timeliness, unit_code, role "
             "FROM step_runs WHERE code = $1 ORDER BY run")
    got = await pool.fetch(query, code)
    assert [tuple(r)[:6] for r in got] == RUNS
    assert {r["unit_code"] for r in got} == {U1}
    assert got[-1]["role"] == "officer"

    now = at("2026-03-12", "12:00")
    by_officer = await steps_report(pool, period_start=date(2026, 3, 1),
                                    period_end=date(2026, 3, 31), unit=U1, group_by="officer",
                                    now=now, tz=cal.tz)
    assert _counts(by_officer.rows) == {
        (U1, "clerk-1"): (0, 1, 0, 0, 0), (U1, "lanh-dao"): (0, 3, 0, 0, 0),
        (U1, "cv-1"): (1, 0, 1, 0, 0), (U1, None): (0, 0, 0, 0, 1)}
    assert [r.role for r in by_officer.rows if r.officer is None] == ["officer"]
    by_unit = await steps_report(pool, period_start=date(2026, 3, 1),
                                 period_end=date(2026, 3, 31), unit=U1, group_by="unit",
                                 now=now, tz=cal.tz)
    assert _counts(by_unit.rows) == {(U1, None): (1, 4, 1, 0, 1)}
    assert by_unit.totals.as_dict()["late_rate"] == round(1 / 6, 6)
    # 1-4 March: four runs ended; the one open at the period's end is not due until Friday.
    early_march = await steps_report(pool, period_start=date(2026, 3, 1),
                                     period_end=date(2026, 3, 4), unit=U1, now=now, tz=cal.tz)
    assert _counts(early_march.rows) == {(U1, None): (1, 3, 0, 0, 0)}
    # 10 March: nothing ended; the open run is not overdue before 16:00 on the 11th.
    assert (await steps_report(pool, period_start=date(2026, 3, 10),
                               period_end=date(2026, 3, 10), unit=U1, now=now,
                               tz=cal.tz)).rows == []
    assert _counts((await steps_report(pool, period_start=date(2026, 3, 12),
                                       period_end=date(2026, 3, 12), unit=U1, now=now,
                                       tz=cal.tz)).rows) == {(U1, None): (0, 0, 0, 0, 1)}

    # The projector's rebuild gives the same rows.
    async with pool.acquire() as conn:
        await projector.rebuild(conn)
    assert [tuple(r) for r in await pool.fetch(query, code)] == [tuple(r) for r in got]


# -- Biểu 06 per unit counts the legs a unit held ---------------------------------------------

def _due(due: datetime) -> cmd.SetDeadline:
    return cmd.SetDeadline(due_at=due, due_soon_at=due - timedelta(days=1), reason="receipt",
                           rule="civil_code", amount=4, unit="working_days",
                           calendar_version="c1", catalog_version="k1")


def leg_dossiers() -> dict[str, list[ev.Event]]:
    """Three dossiers received by U2 on Monday 2 March 2026, due Friday 6 March 17:00, each
    transferred to U3 on Tuesday 10:00: A is completed by U3 on Monday 9 March (late) and its
    result sent back; B is returned by U3 as unfit on Wednesday and completed by U2 on
    Friday (on time); C stays with U3, still open."""
    due = at("2026-03-06", "17:00")
    start: list[tuple[datetime, cmd.Command]] = [
        (at("2026-03-02", "09:00"), _due(due)),
        (at("2026-03-02", "10:00"), cmd.AssignOfficer(officer="o-2")),
        (at("2026-03-02", "11:00"), cmd.StartProcessing()),
        (at("2026-03-03", "10:00"), cmd.TransferDossier(unit_code=U3, reason="liên thông"))]
    scripts: dict[str, list[tuple[datetime, cmd.Command]]] = {
        "A": [*start, (at("2026-03-09", "10:00"), cmd.CompleteProcessing(summary="xong")),
              (at("2026-03-10", "09:00"), cmd.ReturnResult())],
        "B": [*start, (at("2026-03-04", "10:00"), cmd.ReturnTransfer(reason="thiếu giấy")),
              (at("2026-03-06", "15:00"), cmd.CompleteProcessing(summary="xong"))],
        "C": start}
    out = {}
    for n, (name, script) in enumerate(sorted(scripts.items()), 1):
        code = f"{U2}-260302-{n:04d}"
        d, events = Dossier(), list[ev.Event]()
        receive = cmd.ReceiveDossier(code=code, unit_code=U2, procedure_code=LEG_PROC,
                                     channel=Channel.COUNTER, applicant_name=f"Hồ sơ {name}")
        for when, command in [(at("2026-03-02", "08:00"), receive), *script]:
            for event in decide(d, command, when):
                d = evolve(d, event)
                events.append(event)
        out[code] = events
    return out


def test_the_legs_of_each_dossier_by_hand() -> None:
    """A: U3's leg from Tuesday, ended with the dossier's own verdict (late) on Monday 9th.
    B: U3's leg ended Wednesday when it returned the dossier, before the due date: early
    (its overdue day, Friday, never came while U3 held it).
    C: U3's leg open, overdue from Friday 6th (the dossier's due date)."""
    tz = load_calendar().tz
    legs = {}
    for code, events in leg_dossiers().items():
        d, fact, mine = Dossier(), None, tuple[reporting.Leg, ...]()
        for event in events:
            after = evolve(d, event)
            applied = reporting.Applied(event, d, after)
            fact = reporting.advance(fact, applied, tz)
            if after.transfers > 0:
                mine = reporting.advance_legs(mine, fact, applied, tz)
            d = after
        legs[code[-1]] = [(g.leg, g.unit_code, g.received_day, g.resolved_day, g.timeliness,
                           g.overdue_from) for g in mine]
    tue, fri = date(2026, 3, 3), date(2026, 3, 6)
    assert legs == {"1": [(1, U3, tue, date(2026, 3, 9), "late", fri)],
                    "2": [(1, U3, tue, date(2026, 3, 4), "early", fri)],
                    "3": [(1, U3, tue, None, None, fri)]}


async def test_bieu06_per_unit_counts_the_legs_each_unit_held(pool: asyncpg.Pool) -> None:
    """March 2026, by hand: U2 received three dossiers (A late, B on time, C in progress and
    overdue); U3 held a leg of each (A late, B early: returned before the due date, C in
    progress and overdue). The procedure's total counts each dossier once."""
    for code, events in leg_dossiers().items():
        await _append(pool, code, events)
    march: dict[str, Any] = {"period_start": date(2026, 3, 1), "period_end": date(2026, 3, 31),
                             "as_of": date(2026, 4, 1)}
    keys = ("received_total", "received_direct_postal", "resolved_early", "resolved_on_time",
            "resolved_late", "in_progress_overdue", "in_progress_within_time")

    def pick(row: Any) -> tuple[int, ...]:
        values = row.as_dict()
        return tuple(values[k] for k in keys)

    by_unit = await sla_report(pool, group_by=("unit",), procedure=LEG_PROC, **march)
    assert {r.unit_code: pick(r) for r in by_unit.rows} == {
        U2: (3, 3, 0, 1, 1, 1, 0), U3: (3, 3, 1, 0, 1, 1, 0)}
    u3 = await sla_report(pool, unit=U3, **march)
    assert pick(u3.totals) == (3, 3, 1, 0, 1, 1, 0)
    assert u3.totals.as_dict()["on_time_rate"] == round(1 / 3, 6)
    # Each dossier once outside the per-unit scopes.
    once = await sla_report(pool, procedure=LEG_PROC, **march)
    assert pick(once.totals) == (3, 3, 0, 1, 1, 1, 0)
    # April: the legs and dossiers carried over.
    april = await sla_report(pool, unit=U3, period_start=date(2026, 4, 1),
                             period_end=date(2026, 4, 30), as_of=date(2026, 5, 1))
    assert (april.totals.received_carried_over, april.totals.in_progress_overdue) == (1, 1)
    # Recounting from the facts and legs in SQL gives the same counts as the projector.
    legs_counts = (f"SELECT * FROM report_counts WHERE scope IN (4, 5) AND "
                   f"({' OR '.join(f'{m} <> 0' for m in reporting.MEASURES)}) "
                   "ORDER BY grain, scope, bucket, unit_code, procedure_code")
    async with pool.acquire() as conn:
        before = await conn.fetch(legs_counts)
        await reporting.recount(conn)
        after = await conn.fetch(legs_counts)
    assert before
    assert [dict(r) for r in before] == [dict(r) for r in after]
    assert pick((await sla_report(pool, unit=U3, **march)).totals) == (3, 3, 1, 0, 1, 1, 0)


def test_a_transfer_back_to_the_receiving_unit_opens_no_leg() -> None:
    """A dossier of U2 handed to U3 on Tuesday and back to U2 on Wednesday (a leader's
    transfer back, or a send-back into U2's step under `step-transfer-v1`): U3 held one leg,
    ended Wednesday before the due date (early); U2, the receiving unit, counts the dossier
    itself and gets no leg."""
    tz = load_calendar().tz
    code = f"{U2}-260302-0009"
    script: list[tuple[datetime, cmd.Command]] = [
        (at("2026-03-02", "08:00"), cmd.ReceiveDossier(
            code=code, unit_code=U2, procedure_code=LEG_PROC, channel=Channel.COUNTER,
            applicant_name="Hồ sơ D")),
        (at("2026-03-02", "09:00"), _due(at("2026-03-06", "17:00"))),
        (at("2026-03-03", "10:00"), cmd.TransferDossier(unit_code=U3, reason="liên thông")),
        (at("2026-03-04", "10:00"), cmd.TransferDossier(unit_code=U2, reason="trả về xã"))]
    d, fact, mine = Dossier(), None, tuple[reporting.Leg, ...]()
    for when, command in script:
        for event in decide(d, command, when):
            after = evolve(d, event)
            applied = reporting.Applied(event, d, after)
            fact = reporting.advance(fact, applied, tz)
            if after.transfers > 0:
                mine = reporting.advance_legs(mine, fact, applied, tz)
            d = after
    assert d.holding_unit_code == U2
    assert [(g.leg, g.unit_code, g.received_day, g.resolved_day, g.timeliness)
            for g in mine] == [(1, U3, date(2026, 3, 3), date(2026, 3, 4), "early")]
