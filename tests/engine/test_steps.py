"""A dossier walking a three-step internal procedure on a real Temporal server (issue 22 items
2 and 5): the middle step, held by another unit, overruns on virtual time; its own alerts fire
at its own instants, it is judged late by instant, the dossier stays on time by the law's date
rule, and the control slip names that step's person and unit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain import commands as cmd
from domain import walk
from domain.contracts import StepDueRequest
from domain.states import Timeliness
from domain.steps import run_due
from motcua import dossiers
from motcua.catalog.calendar import load_calendar
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.documents.control import late_steps
from motcua.eventstore import outbox
from tests.conftest import UNIT, new_code, receipt, settings_for
from tests.engine.helpers import assert_stream_sound, stored_events
from worker import build_worker

pytestmark = pytest.mark.engine

QUEUE = "motcua-steps-test"
PROCEDURE = "L.thu-nghiem.ba-buoc"
OTHER_UNIT = "000.00.30.H40"  # Sở Nội vụ, in the shipped units
CATALOG = f"""
procedures:
  - code: "{PROCEDURE}"
    name: "Thủ tục thử nghiệm ba bước"
    field: "Thử nghiệm"
    level: commune
    prescribed_amount: 5
    prescribed_unit: working_days
    source: "test procedure"
    steps_version: "test"
    steps:
      - name: "Tiếp nhận, số hoá, chuyển xử lý"
        role: clerk
        actor: "Bộ phận một cửa"
        allowance: "01 ngày làm việc"
        source: "test B1"
      - name: "Thẩm định hồ sơ, dự thảo kết quả"
        role: officer
        actor: "Chuyên viên Sở"
        unit_code: "{OTHER_UNIT}"
        allowance: "03 ngày làm việc"
        source: "test B2"
      - name: "Trả kết quả"
        role: clerk
        actor: "Bộ phận một cửa"
        allowance: "01 ngày làm việc"
        source: "test B3"
"""


@pytest.fixture
async def step_worker(client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
                      temporal_server: TemporalDevServer,
                      tmp_path: Path) -> AsyncIterator[None]:
    """A worker of its own whose catalog holds the three-step procedure."""
    path = tmp_path / "procedures.yaml"
    await asyncio.to_thread(path.write_text, CATALOG, encoding="utf-8")
    settings = settings_for(postgres, temporal_server, QUEUE).model_copy(
        update={"procedures_file": path})
    async with build_worker(settings, client, pool) as w:
        task = asyncio.create_task(w.run())
        yield
        await w.shutdown()
        await task


async def test_the_middle_step_overruns(client: Client, step_worker: None,
                                        pool: asyncpg.Pool) -> None:
    """The counter hands over at once; the department's 3-day step runs an hour past its
    due instant (due soon and overdue raised to it, naming its unit); it is late, the others
    are not, the dossier is on time, and the control slip names cv-so and the department."""
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    cal = load_calendar()
    d = await dossiers.receive(skipper.client, receipt(code=new_code(),
                                                       procedure_code=PROCEDURE),
                               task_queue=QUEUE)
    assert d.step_plan is not None and len(d.step_plan.steps) == 3
    assert d.received_at is not None and d.due_at is not None
    first = d.step_runs[0]
    assert first.due_at == run_due(cal, StepDueRequest(started_at=d.received_at,
                                                       allowance_hours=8)).due_at
    d = await dossiers.act(client, d.code, "hand-over",
                           cmd.HandOverStep(receiver="cv-so", actor="clerk-1"))
    middle = d.step_runs[1]
    assert (middle.step, middle.receiver) == (1, "cv-so")
    # The department's step: the steps handed the dossier to it (patch `step-transfer-v1`).
    assert (d.unit_code, d.holding_unit_code) == (UNIT, OTHER_UNIT)
    expected = run_due(cal, StepDueRequest(started_at=middle.started_at, allowance_hours=24))
    assert (middle.due_at, middle.due_soon_at) == (expected.due_at, expected.due_soon_at)
    assert middle.due_at is not None and middle.due_soon_at is not None

    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, middle.due_at - middle.started_at + timedelta(hours=1))
    alerts = [e.event for e in await stored_events(pool, d.code)
              if e.event_type == "StepAlertRaised"]
    assert [(a.kind.value, a.step, a.unit_code, a.receiver) for a in alerts] == [  # type: ignore[attr-defined]
        ("due_soon", 1, OTHER_UNIT, "cv-so"), ("overdue", 1, OTHER_UNIT, "cv-so")]
    assert abs(alerts[0].at - middle.due_soon_at) < timedelta(seconds=5)
    assert abs(alerts[1].at - middle.due_at) < timedelta(seconds=5)
    # Delivered to the step's actor: the department, the person the step was handed to.
    async with pool.acquire() as conn:
        await outbox.ingest(conn)
        rows = await conn.fetch("SELECT kind, unit_code, body::text AS body FROM deliveries "
                                "WHERE stream = $1 AND destination = 'webhook' ORDER BY id",
                                d.code)
    assert [(r["kind"], r["unit_code"]) for r in rows] == [
        ("step_due_soon", OTHER_UNIT), ("step_overdue", OTHER_UNIT)]
    assert {json.dumps(json.loads(r["body"])["actor"], sort_keys=True) for r in rows} == {
        json.dumps({"person": "cv-so", "role": "officer", "unit_code": OTHER_UNIT},
                   sort_keys=True)}

    for action, command in [("assign", cmd.AssignOfficer(officer="cv-so", actor="lanh-dao")),
                            ("start", cmd.StartProcessing(actor="cv-so")),
                            ("complete", cmd.CompleteProcessing(summary="xong", actor="cv-so")),
                            ("hand-over", cmd.HandOverStep(actor="cv-so")),
                            ("return", cmd.ReturnResult(actor="clerk-1"))]:
        d = await dossiers.act(client, d.code, action, command)
    verdicts = [walk.verdict(r) for r in d.step_runs]
    assert verdicts[1] is Timeliness.LATE
    assert verdicts[0] is not Timeliness.LATE and verdicts[2] is not Timeliness.LATE
    # The law's verdict for the dossier: the date rule against the legal due time (5 working
    # days), which the middle step's overrun did not reach.
    assert d.timeliness is not Timeliness.LATE and d.due_at == d.legal_due_at
    assert d.finished_at is not None and d.finished_at < d.due_at
    late = late_steps(d)
    assert [(s.step, s.person, s.unit_code) for s in late] == [(1, "cv-so", OTHER_UNIT)]
    await assert_stream_sound(pool, d.code, d)
    assert d.unit_code == UNIT
