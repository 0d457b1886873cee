"""Client-side operations on dossiers, shared by the HTTP API, the CLI and the tests."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, timedelta
from typing import Any

import asyncpg
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import UpdateMethodMultiParam

from domain import commands as cmd
from domain.codec import from_dict
from domain.contracts import TASK_QUEUE
from domain.dossier import Dossier
from motcua.actions import ACTIONS
from motcua.reports import register
from workflows import Acted, DossierStart, DossierWorkflow


class CommandRejected(Exception):
    """The workflow refused the command; `type` is the domain error's stable type."""

    def __init__(self, type_: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.details = details


def _rejection(err: WorkflowUpdateFailedError) -> CommandRejected | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) \
            else {}
        return CommandRejected(cause.type, cause.message, details)
    return None


async def next_code(pool: asyncpg.Pool, unit_code: str, day: date) -> str:
    """A new unique dossier code for `unit_code`, dated `day`: the office date of receipt
    (`calendar.local(now).date()`, in the calendar's time zone)."""
    # Through the register, so that no number is handed out without its line.
    return await register.allocate_now(pool, unit_code, day, allocated_by="system")


async def receive(client: Client, command: cmd.ReceiveDossier, *, task_queue: str = TASK_QUEUE,
                  update_id: str | None = None,
                  rpc_timeout: timedelta | None = None) -> Dossier:
    """Start the dossier's workflow (or find it running) and wait for its receipt and deadline
    to be stored. Calling it again with the same code returns the same dossier."""
    return await _start(client, command.code, DossierStart(receipt=command),
                        DossierWorkflow.receipt, task_queue, update_id, rpc_timeout)


async def submit_online(client: Client, command: cmd.SubmitOnline, *,
                        task_queue: str = TASK_QUEUE, update_id: str | None = None,
                        rpc_timeout: timedelta | None = None) -> Dossier:
    """Start the dossier's workflow with a citizen's online submission (or find it running)
    and wait until the submission is stored: the dossier awaits acceptance (code 1), with no
    due time yet. Calling it again with the same code returns the same dossier."""
    return await _start(client, command.code, DossierStart(submission=command),
                        DossierWorkflow.submission, task_queue, update_id, rpc_timeout)


async def _start(client: Client, code: str, start_input: DossierStart,
                 update: UpdateMethodMultiParam[[DossierWorkflow], Dossier], task_queue: str,
                 update_id: str | None, rpc_timeout: timedelta | None) -> Dossier:
    """Update-with-start: the workflow with id `code` (started with `start_input` unless it
    runs already) answers `update` once its first command is stored."""
    start = WithStartWorkflowOperation(
        DossierWorkflow.run, start_input, id=code,
        task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    try:
        by_reference: Any = update  # so that `result_type` may override its return type
        raw = await client.execute_update_with_start_workflow(
            by_reference, start_workflow_operation=start, id=update_id, rpc_timeout=rpc_timeout,
            result_type=dict)
        return from_dict(Dossier, raw, ignore_unknown=True)
    except WorkflowUpdateFailedError as err:
        raise (_rejection(err) or err) from err
    except Exception:
        # Read the start operation's own outcome, else asyncio reports it as never retrieved.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(start.workflow_handle(), timeout=0.1)
        raise


async def act(client: Client, code: str, action: str, command: cmd.Command, *,
              update_id: str | None = None, rpc_timeout: timedelta | None = None) -> Dossier:
    """Run `action` (a name in `motcua.actions.ACTIONS`) as its workflow update; raises
    `CommandRejected` when refused."""
    acted = await act_with_events(client, code, action, command, update_id=update_id,
                                  rpc_timeout=rpc_timeout)
    return acted.state


async def act_with_events(client: Client, code: str, action: str, command: cmd.Command, *,
                          update_id: str | None = None,
                          rpc_timeout: timedelta | None = None) -> Acted:
    """`act`, answering with what the update returns: the state and the events it stored."""
    update: Any = ACTIONS[action].update  # a workflow update method, called by reference
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    # Read as plain JSON and decoded by `domain.codec` (types resolved once): Temporal's generic
    # converter resolved the type hints of every field of every result, about half the API's
    # CPU per action in the lifecycle profile (issue 13 point 4).
    try:
        raw = await handle.execute_update(update, command, id=update_id,
                                          rpc_timeout=rpc_timeout, result_type=dict)
        return from_dict(Acted, raw, ignore_unknown=True)
    except WorkflowUpdateFailedError as err:
        raise (_rejection(err) or err) from err


async def current(client: Client, code: str) -> Dossier:
    """The dossier's state from its workflow (also works once the workflow has finished)."""
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    return await handle.query(DossierWorkflow.state)
