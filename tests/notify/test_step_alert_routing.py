"""Step alerts routed to the step's actor (issue 22 item 2): a `StepAlertRaised` becomes a
webhook delivery for the unit and role of the step (another unit's for a liên thông step), or
for the person the step was handed to, and the step-alert counter moves under that unit and
role. The outbox part runs on the session's PostgreSQL (no Temporal: the events are decided
as the workflow decides them and stored as its append stores them)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg
from prometheus_client import REGISTRY

from domain import commands as cmd
from domain import events as ev
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.envelope import EventEnvelope
from domain.states import AlertKind, Channel
from domain.walk import PlannedStep, StepPlan
from motcua.eventstore import outbox, store
from motcua.eventstore.counting import count
from tests.conftest import UNIT, new_code

OTHER = "000.00.30.H40"  # a provincial department in the shipped units
PROCEDURE = "1.001193"


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}:00+07:00")


PLAN = StepPlan(version="QĐ test", day_hours=8, carry_over=False, steps=(
    PlannedStep(name="Tiếp nhận", role="clerk", actor="Một cửa xã", unit_code=UNIT,
                allowance_hours=4),
    PlannedStep(name="Thẩm định tại Sở", role="officer", actor="Chuyên viên Sở",
                unit_code=OTHER, allowance_hours=8),
    PlannedStep(name="Trả kết quả", role="clerk", actor="Một cửa xã", unit_code=UNIT,
                untimed="Không tính thời gian")))


class Stream:
    """A dossier decided step by step, its events kept for the store."""

    def __init__(self, code: str) -> None:
        self.code, self.d, self.events = code, Dossier(), list[ev.Event]()

    def run(self, command: cmd.Command, now: datetime) -> list[ev.Event]:
        events = decide(self.d, command, now)
        self.d = fold(events, self.d)
        self.events += events
        return events


def _walked(code: str, *, receiver: str | None) -> Stream:
    s = Stream(code)
    s.run(cmd.ReceiveDossier(code=code, unit_code=UNIT, procedure_code=PROCEDURE,
                             channel=Channel.COUNTER, applicant_name="Nguyễn Văn An",
                             actor="clerk-1"), at("2026-03-02", "08:00"))
    s.run(cmd.BeginSteps(plan=PLAN, actor="clerk-1"), at("2026-03-02", "08:00"))
    s.run(cmd.SetStepDue(step=0, due_at=at("2026-03-02", "13:30"),
                         due_soon_at=at("2026-03-02", "11:00")), at("2026-03-02", "08:00"))
    # Step 1 raises its own due-soon alert (for the counter's clerk of the receiving unit)...
    s.run(cmd.RaiseStepAlert(kind=AlertKind.DUE_SOON, step=0), at("2026-03-02", "11:00"))
    s.run(cmd.HandOverStep(receiver=receiver, actor="clerk-1"), at("2026-03-02", "11:10"))
    s.run(cmd.SetStepDue(step=1, due_at=at("2026-03-03", "11:10"),
                         due_soon_at=at("2026-03-03", "08:40")), at("2026-03-02", "11:10"))
    # ... and step 2, the department's, its overdue alert.
    s.run(cmd.RaiseStepAlert(kind=AlertKind.DUE_SOON, step=1), at("2026-03-03", "08:40"))
    s.run(cmd.RaiseStepAlert(kind=AlertKind.OVERDUE, step=1), at("2026-03-03", "11:10"))
    return s


async def _store(pool: asyncpg.Pool, s: Stream) -> None:
    envelopes = [EventEnvelope.wrap(e, event_id=str(uuid.uuid4()), stream=s.code, position=i,
                                    metadata={"actor": "test"})
                 for i, e in enumerate(s.events, start=1)]
    async with pool.acquire() as conn:
        await store.append(conn, s.code, envelopes)


async def _webhook_rows(pool: asyncpg.Pool, code: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        await outbox.ingest(conn)
        return await conn.fetch(
            "SELECT kind, unit_code, body::text AS body FROM deliveries "
            "WHERE stream = $1 AND destination = 'webhook' ORDER BY id", code)


async def test_each_step_alert_goes_to_its_step_s_unit_and_role(pool: asyncpg.Pool) -> None:
    s = _walked(new_code(), receiver=None)
    assert [type(e).__name__ for e in s.events].count("StepAlertRaised") == 3
    await _store(pool, s)
    rows = await _webhook_rows(pool, s.code)
    assert [(r["kind"], r["unit_code"]) for r in rows] == [
        ("step_due_soon", UNIT), ("step_due_soon", OTHER), ("step_overdue", OTHER)]
    bodies = [json.loads(r["body"]) for r in rows]
    assert [b["actor"] for b in bodies] == [
        {"unit_code": UNIT, "role": "clerk", "person": None},
        {"unit_code": OTHER, "role": "officer", "person": None},
        {"unit_code": OTHER, "role": "officer", "person": None}]
    last = bodies[-1]
    # The dossier's receiving unit stays in `unit_code`, as in a deadline alert.
    assert (last["unit_code"], last["code"], last["step"], last["step_name"]) == (
        UNIT, s.code, 1, "Thẩm định tại Sở")
    assert datetime.fromisoformat(last["due_at"]) == at("2026-03-03", "11:10")


async def test_a_step_handed_to_a_person_alerts_that_person(pool: asyncpg.Pool) -> None:
    s = _walked(new_code(), receiver="can-bo-so")
    await _store(pool, s)
    rows = await _webhook_rows(pool, s.code)
    actors = [json.loads(r["body"])["actor"] for r in rows]
    assert actors[0]["person"] is None  # step 1 was not handed to anyone by name
    assert actors[1:] == [{"unit_code": OTHER, "role": "officer", "person": "can-bo-so"}] * 2


def _sample(unit: str, role: str, kind: str) -> float:
    value = REGISTRY.get_sample_value("motcua_step_alerts_total",
                                      {"unit": unit, "role": role, "kind": kind})
    return value or 0.0


def test_the_step_alert_counter_is_labelled_by_the_actor_s_unit_and_role() -> None:
    s = _walked(f"{UNIT}-260302-0000001", receiver=None)
    before = (_sample(OTHER, "officer", "overdue"), _sample(UNIT, "clerk", "due_soon"),
              _sample(UNIT, "officer", "overdue"))
    applied, d = [], Dossier()
    for e in s.events:
        d = fold([e], d)
        applied.append((e, d))
    count(applied)
    after = (_sample(OTHER, "officer", "overdue"), _sample(UNIT, "clerk", "due_soon"),
             _sample(UNIT, "officer", "overdue"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1.0, 1.0, 0.0]
