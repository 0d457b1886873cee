"""Online intake on a real Temporal server and PostgreSQL (issue 11 points 7-8): a submission
awaits acceptance with no due time (code 1); processing commands are refused; a supplement
asked for at intake restarts the period from the complete dossier; a refusal at intake is
code 3 and ends the workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from domain import commands as cmd
from domain.catalog import TimeUnit
from domain.clock import due_at
from domain.states import Channel, DossierState
from motcua import dossiers
from motcua.catalog.calendar import load_calendar
from tests.conftest import PROCEDURE, TASK_QUEUE, UNIT, new_code
from tests.engine.helpers import assert_stream_sound, stored_events

pytestmark = pytest.mark.engine


def submission(**overrides: object) -> cmd.SubmitOnline:
    fields: dict[str, object] = {
        "code": new_code(), "unit_code": UNIT, "procedure_code": PROCEDURE,
        "applicant_name": "Võ Thị Em", "applicant_phone": "0987654321",
        "documents": ("Tờ khai",), "actor": "portal"}
    fields.update(overrides)
    return cmd.SubmitOnline(**fields)  # type: ignore[arg-type]


@pytest.fixture
def skipper(client: Client, worker: None) -> TimeSkipper:
    return TimeSkipper(client, config=TimeSkippingConfig(enabled=False))


async def test_intake_supplement_restarts_the_clock_then_acceptance_sets_it(
        skipper: TimeSkipper, pool: asyncpg.Pool) -> None:
    """Submitted, four days later a supplement is asked for, five days later it completes the
    dossier, then it is accepted: the first due time counts from the supplement's arrival."""
    client = skipper.client
    d = await dossiers.submit_online(client, submission(), task_queue=TASK_QUEUE)
    assert d.state is DossierState.SUBMITTED and d.state.status_code == 1
    assert d.channel is Channel.ONLINE and d.due_at is None and d.received_at is None
    again = await dossiers.submit_online(client, submission(code=d.code),
                                         task_queue=TASK_QUEUE)
    assert again == d  # the same code finds the same dossier
    with pytest.raises(dossiers.CommandRejected) as refused:
        await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-1"))
    assert refused.value.type == "InvalidTransition"
    assert refused.value.details["state"] == "submitted"
    handle = client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, timedelta(days=4))
    waiting = await dossiers.act(client, d.code, "request-intake-supplement",
                                 cmd.RequestIntakeSupplement(reason="Thiếu bản sao CCCD",
                                                             actor="clerk-1"))
    assert waiting.state is DossierState.AWAITING_INTAKE_SUPPLEMENT
    assert waiting.state.status_code == 5 and waiting.due_at is None
    await skipper.fast_forward(handle, timedelta(days=5))
    complete = await dossiers.act(client, d.code, "intake-supplement",
                                  cmd.ProvideIntakeSupplement(documents=("Bản sao CCCD",)))
    assert complete.state is DossierState.SUBMITTED and complete.counted_from is not None
    accepted = await dossiers.act(client, d.code, "accept",
                                  cmd.AcceptSubmission(actor="clerk-1"))
    assert accepted.state is DossierState.RECEIVED and accepted.state.status_code == 2
    assert accepted.counted_from == complete.counted_from
    assert d.submitted_at is not None and accepted.received_at is not None
    assert accepted.counted_from - d.submitted_at >= timedelta(days=9)
    assert accepted.deadline_version == 1 and accepted.pauses == ()
    types = await assert_stream_sound(pool, d.code, accepted)
    assert types == ["DossierSubmitted", "IntakeSupplementRequested",
                     "IntakeSupplementReceived", "SubmissionAccepted", "DeadlineSet"]
    events = await stored_events(pool, d.code)
    deadline = events[-1].payload
    assert deadline["reason"] == "receipt"
    cal = load_calendar()
    counted = due_at(cal, accepted.counted_from, deadline["amount"],
                     TimeUnit(deadline["unit"]))
    assert datetime.fromisoformat(deadline["due_at"]) == counted == accepted.due_at
    assert accepted.due_at != due_at(cal, d.submitted_at, deadline["amount"],
                                     TimeUnit(deadline["unit"]))
    # Processing goes on as for any received dossier.
    assigned = await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-1"))
    assert assigned.state is DossierState.ASSIGNED


async def test_refusal_at_intake_is_code_3_and_ends_the_workflow(
        client: Client, worker: None, pool: asyncpg.Pool) -> None:
    d = await dossiers.submit_online(client, submission(), task_queue=TASK_QUEUE)
    with pytest.raises(dossiers.CommandRejected):
        await dossiers.act(client, d.code, "refuse", cmd.RefuseDossier(reason="x"))
    refused = await dossiers.act(client, d.code, "refuse-intake",
                                 cmd.RefuseAtIntake(reason="Không thuộc thẩm quyền"))
    assert refused.state is DossierState.REFUSED_AT_INTAKE and refused.state.status_code == 3
    assert refused.timeliness is None and refused.received_at is None
    assert await assert_stream_sound(pool, d.code, refused) == [
        "DossierSubmitted", "SubmissionRefused"]
    result = await client.get_workflow_handle(d.code).result()
    assert result["state"] == "refused_at_intake"
