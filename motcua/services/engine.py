"""Calls into the engine (`motcua.dossiers`), bounded in time, with every failure translated to
a problem: refused command -> 409/422 with its stable type; no such workflow -> 404; Temporal
unreachable, or no worker answering in time -> 503 with `Retry-After`. No interface hangs on
Temporal, and none answers 500 for an engine that is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import structlog
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain import commands as cmd
from domain import errors
from domain.dossier import Dossier
from motcua import dossiers
from motcua.problems import (
    ALREADY_EXTENDED,
    ALREADY_RATED,
    INVALID_COMMAND,
    INVALID_TRANSITION,
    NOT_FOUND,
    Kind,
    Problem,
    unavailable,
)
from motcua.services.resources import CALL_TIMEOUT, RPC_TIMEOUT
from workflows import Acted

log = structlog.get_logger(__name__)

T = TypeVar("T")

# The problem for each domain error, by the error's stable `type` (its class attribute).
_REJECTIONS: dict[str, Kind] = {
    error.type: kind for error, kind in (
        (errors.InvalidTransition, INVALID_TRANSITION),
        (errors.InvalidCommand, INVALID_COMMAND),
        (errors.AlreadyExtended, ALREADY_EXTENDED),
        (errors.AlreadyRated, ALREADY_RATED))
}
_UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                RPCStatusCode.CANCELLED, RPCStatusCode.RESOURCE_EXHAUSTED,
                RPCStatusCode.ABORTED}


class WorkflowNotFound(Exception):
    """Temporal knows no running workflow for this dossier code."""


def rejection(err: dossiers.CommandRejected) -> Problem:
    """The problem for a command the workflow refused."""
    kind = _REJECTIONS.get(err.type, INVALID_COMMAND)
    return Problem(kind, err.message, state=err.details.get("state"),
                   field=err.details.get("field"))


async def bounded(call: Awaitable[T]) -> T:
    """Await a Temporal call with an overall deadline, translating transport failures."""
    try:
        return await asyncio.wait_for(call, CALL_TIMEOUT)
    except dossiers.CommandRejected as err:
        raise rejection(err) from err
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise unavailable("temporal", "Temporal or its workers did not answer in time") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFound(err.message) from err
        if err.status in _UNAVAILABLE:
            raise unavailable("temporal", f"Temporal is unavailable: {err.message}") from err
        # Any other refusal by Temporal (e.g. the workflow task is failing after a bad deploy)
        # is the engine's fault, not the client's: a 503 to retry later, never a 500 with a
        # stack trace. The details go to the log for operations.
        log.error("temporal.refused", status=err.status.name, error=err.message)
        raise unavailable("temporal", "the engine could not take this request now") from err


async def receive(client: Client, command: cmd.ReceiveDossier, *, task_queue: str) -> Dossier:
    """Start the dossier's workflow and wait for its receipt and due time."""
    return await bounded(dossiers.receive(client, command, task_queue=task_queue,
                                          update_id=f"receive:{command.code}",
                                          rpc_timeout=RPC_TIMEOUT))


async def submit_online(client: Client, command: cmd.SubmitOnline, *,
                        task_queue: str) -> Dossier:
    """Start the dossier's workflow with an online submission and wait until it is stored."""
    return await bounded(dossiers.submit_online(client, command, task_queue=task_queue,
                                                update_id=f"submit:{command.code}",
                                                rpc_timeout=RPC_TIMEOUT))


async def act(client: Client, code: str, action: str, command: cmd.Command, *,
              update_id: str | None) -> Acted:
    """Run an action as a workflow update (deduplicated by `update_id`): the state after it
    and the events it stored."""
    return await bounded(dossiers.act_with_events(client, code, action, command,
                                                  update_id=update_id, rpc_timeout=RPC_TIMEOUT))


def not_found() -> Problem:
    return Problem(NOT_FOUND, "no such dossier")
