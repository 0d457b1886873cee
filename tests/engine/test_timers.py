"""Deadline timers on virtual time (per-workflow time skipping on the dev server): due soon,
overdue and overdue-without-apology fire once each at their instant, and move with the clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain import commands as cmd
from domain.states import AlertKind
from motcua import dossiers
from motcua.cli.calendar import correct
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.temporal_server import TemporalDevServer
from tests.conftest import TASK_QUEUE, receipt, settings_for
from tests.engine.helpers import assert_stream_sound, stored_events
from worker import build_worker

pytestmark = pytest.mark.engine


@pytest.fixture
async def skipper(client: Client, worker: None) -> TimeSkipper:
    """Workflows start on real time; each test fast-forwards the one it drives."""
    return TimeSkipper(client, config=TimeSkippingConfig(enabled=False))


async def alerts(pool: asyncpg.Pool, code: str) -> list[tuple[str, str, int]]:
    return [(e.payload["kind"], e.payload["at"], e.payload["deadline_version"])
            for e in await stored_events(pool, code) if e.event_type == "DeadlineAlertRaised"]


async def test_due_soon_then_overdue_fire_once_at_their_instants(
        skipper: TimeSkipper, pool: asyncpg.Pool) -> None:
    """With nobody acting, due soon fires at the due-soon instant, then overdue and overdue
    without apology at the due time, once each, each marked for the dispatcher (the outbox:
    no notification activity or event in the workflow)."""
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.due_soon_at is not None and d.received_at is not None
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(days=2))
    state = await dossiers.current(skipper.client, d.code)
    fired = await alerts(pool, d.code)
    assert [(k, v) for k, _, v in fired] == [("due_soon", 1), ("overdue", 1),
                                             ("overdue_without_apology", 1)]
    instants = [skipper_time for _, skipper_time, _ in fired]
    assert abs(_parse(instants[0]) - d.due_soon_at) < timedelta(seconds=2)
    assert abs(_parse(instants[1]) - d.due_at) < timedelta(seconds=2)
    types = await assert_stream_sound(pool, d.code, state)
    assert "NotificationSent" not in types and "NotificationFailed" not in types
    assert {e.metadata["delivery"] for e in await stored_events(pool, d.code)
            if e.event_type == "DeadlineAlertRaised"} == {"outbox"}
    assert state.sla_status(d.due_at).value == "overdue"


async def test_returned_in_time_gets_no_alert(skipper: TimeSkipper, pool: asyncpg.Pool) -> None:
    """A dossier returned before its due-soon instant never raises an alert, even as its
    virtual clock runs past the due time and the rating window."""
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    for action, command in [("assign", cmd.AssignOfficer(officer="o-1")),
                            ("start", cmd.StartProcessing()),
                            ("complete", cmd.CompleteProcessing(summary="xong")),
                            ("return", cmd.ReturnResult())]:
        await dossiers.act(skipper.client, d.code, action, command)
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, timedelta(days=40))
    assert await alerts(pool, d.code) == []
    await handle.result()  # the rating window closed and the workflow ended


async def test_supplement_pause_shifts_both_alerts(skipper: TimeSkipper,
                                                   pool: asyncpg.Pool) -> None:
    """While the citizen gathers papers no alert fires; afterwards the due time has moved by
    the office time waited, and both alerts fire at the new instants."""
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None
    handle = skipper.client.get_workflow_handle(d.code)
    await dossiers.act(skipper.client, d.code, "request-supplement",
                       cmd.RequestSupplement(reason="Thiếu giấy tờ"))
    await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(days=3))
    assert await alerts(pool, d.code) == []
    resumed = await dossiers.act(skipper.client, d.code, "supplement", cmd.ProvideSupplement())
    assert resumed.due_at is not None and resumed.due_soon_at is not None
    assert resumed.due_at > d.due_at and resumed.deadline_version == 2
    now = await skipper.get_current_time(handle)
    await skipper.fast_forward(handle, resumed.due_at - now + timedelta(hours=1))
    fired = await alerts(pool, d.code)
    assert [(k, v) for k, _, v in fired] == [("due_soon", 2), ("overdue", 2),
                                             ("overdue_without_apology", 2)]
    assert abs(_parse(fired[1][1]) - resumed.due_at) < timedelta(seconds=2)


async def test_extension_keeps_the_legal_due_and_alerts_at_both(
        skipper: TimeSkipper, pool: asyncpg.Pool) -> None:
    """After an extension with apology the dossier is still late at its legal due time: overdue
    fires there (as without the apology), the overdue-without-apology alert never does, and a
    further alert fires when the new appointment passes too (issue 11 point 5; this test
    pinned overdue at the new appointment before: that was wrong, an apology does not make a
    late dossier on time)."""
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None
    extended = await dossiers.act(skipper.client, d.code, "extend", cmd.ExtendDeadline(
        reason="Cần xác minh", new_due_at=d.due_at + timedelta(days=7)))
    assert extended.due_at == d.due_at + timedelta(days=7)
    assert extended.legal_due_at == d.due_at and extended.appointment_at == extended.due_at
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, extended.due_at - d.received_at + timedelta(days=1))
    raised = [e.payload for e in await stored_events(pool, d.code)
              if e.event_type == "DeadlineAlertRaised"]
    assert [(a["kind"], datetime.fromisoformat(a["due_at"])) for a in raised] == [
        (AlertKind.OVERDUE.value, d.due_at),                      # late at the legal due time
        (AlertKind.DUE_SOON.value, extended.due_at),              # the new appointment nears
        (AlertKind.APPOINTMENT_OVERDUE.value, extended.due_at)]   # and passes too
    final = await dossiers.current(skipper.client, d.code)
    assert final.sla_status(final.due_at or d.due_at).value == "overdue"


async def test_calendar_correction_rearms_open_dossiers(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, tmp_path: Path) -> None:
    """An operator declares an extra day off after the receipt: the correction moves the due
    time one working day later, audited as a new deadline version, and the timers follow."""
    queue = "motcua-calendar-correction"
    settings = settings_for(postgres, temporal_server, queue)
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    async with build_worker(settings, client, pool) as w, w:
        d = await dossiers.receive(skipper.client, receipt(), task_queue=queue)
    assert d.due_at is not None and d.received_at is not None
    overrides = tmp_path / "overrides.yaml"
    day = d.due_at.date().isoformat()
    overrides.write_text(
        f"years:\n  {d.due_at.year}:\n    days_off:\n      - date: '{day}'\n"
        "        source: test announcement\n",
        encoding="utf-8")
    settings = settings.model_copy(update={"calendar_overrides": overrides})
    async with build_worker(settings, client, pool) as w, w:
        first = await correct(settings, "Quyết định nghỉ bù", "operator-1")
        again_outcome = await correct(settings, "chạy lại", "operator-1")
        assert first == {"moved": 1} and again_outcome == {"unchanged": 1}
        corrected = await dossiers.current(client, d.code)
        again = corrected
        assert corrected.due_at is not None and corrected.due_at > d.due_at
        assert corrected.calendar_version != d.calendar_version
        assert again.deadline_version == corrected.deadline_version == 2  # idempotent
        handle = skipper.client.get_workflow_handle(d.code)
        await skipper.fast_forward(handle, corrected.due_at - d.received_at + timedelta(hours=1))
        fired = await alerts(pool, d.code)
    assert [v for _, _, v in fired] == [2, 2, 2]
    assert abs(_parse(fired[1][1]) - corrected.due_at) < timedelta(seconds=2)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_search_attributes_find_overdue_dossiers(skipper: TimeSkipper) -> None:
    """`temporal workflow list --query` finds a dossier by unit and SLA status once overdue."""
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None
    handle = skipper.client.get_workflow_handle(d.code)
    query = (f"WorkflowId = '{d.code}' AND MotcuaUnit = '{d.unit_code}' "
             "AND MotcuaSlaStatus = 'overdue' AND MotcuaState = 'received'")
    assert [w.id async for w in skipper.client.list_workflows(query)] == []
    await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(hours=1))
    for _ in range(50):
        found = [w.id async for w in skipper.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [d.code]
