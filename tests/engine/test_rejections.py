"""Invalid commands are rejected with a stable type, before they touch history."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from tests.conftest import Receive
from tests.engine.helpers import assert_stream_sound

pytestmark = pytest.mark.engine


# Workflow-task bookkeeping (scheduled, started, completed): since `internal-steps-v1` the
# server may keep the empty task that ran a rejected update's validator; it holds no event of
# the command (no update accepted or completed, no marker, no timer).
_TASK_EVENTS = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


async def _history_length(client: Client, code: str) -> int:
    """The history's events other than workflow-task bookkeeping."""
    return len([e async for e in client.get_workflow_handle(code).fetch_history_events()
                if e.event_type not in _TASK_EVENTS])


@pytest.mark.parametrize(("action", "command", "error_type"), [
    ("start", cmd.StartProcessing(), "InvalidTransition"),
    ("complete", cmd.CompleteProcessing(summary="x"), "InvalidTransition"),
    ("return", cmd.ReturnResult(), "InvalidTransition"),
    ("supplement", cmd.ProvideSupplement(), "InvalidTransition"),
    ("rate", cmd.RateService(satisfaction="satisfied"), "InvalidTransition"),  # type: ignore[arg-type]
    ("assign", cmd.AssignOfficer(officer="   "), "InvalidCommand"),
    ("refuse", cmd.RefuseDossier(reason=""), "InvalidCommand"),
])
async def test_invalid_command_rejected_without_history(
        client: Client, pool: asyncpg.Pool, receive: Receive, action: str,
        command: cmd.Command, error_type: str) -> None:
    """A command the state forbids, or a malformed one, fails with its stable type and
    leaves both the workflow history and the event store untouched."""
    d = await receive()
    before = await _history_length(client, d.code)
    with pytest.raises(dossiers.CommandRejected) as err:
        await dossiers.act(client, d.code, action, command)
    assert err.value.type == error_type
    assert err.value.details["state"] == "received"
    assert await _history_length(client, d.code) == before
    await assert_stream_sound(pool, d.code, await dossiers.current(client, d.code))


async def test_second_extension_refused(client: Client, receive: Receive) -> None:
    """The appointment can be moved once; the second extension is AlreadyExtended."""
    d = await receive()
    assert d.due_at is not None
    d = await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(
        reason="Cần xác minh thêm", new_due_at=d.due_at + timedelta(days=3)))
    assert d.extended and d.deadline_version == 2
    assert d.due_at is not None
    with pytest.raises(dossiers.CommandRejected) as err:
        await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(
            reason="again", new_due_at=d.due_at + timedelta(days=3)))
    assert err.value.type == "AlreadyExtended"
