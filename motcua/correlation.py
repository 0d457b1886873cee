"""A correlation id that follows a request from the HTTP API into the workflow and every
activity it runs, in Temporal headers, and into each log line (structlog contextvars).

The API binds the id for the request (`bind`); the client interceptor puts it in the headers
of every workflow start, update and query; the workflow interceptor keeps it for the update (or
run) being handled and forwards it on the activities that handler starts; the activity
interceptor binds it for the activity's logs.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Mapping
from typing import Any

import structlog
from temporalio import activity, client, worker
from temporalio.api.common.v1 import Payload
from temporalio.converter import default as default_converter

HEADER = "motcua-correlation-id"
LOG_KEY = "correlation_id"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "motcua_correlation_id", default=None)


def bind(correlation_id: str | None) -> contextvars.Token[str | None]:
    """Make `correlation_id` current for this task (and the logs it writes)."""
    if correlation_id:
        structlog.contextvars.bind_contextvars(**{LOG_KEY: correlation_id})
    return _current.set(correlation_id)


def reset(token: contextvars.Token[str | None]) -> None:
    """Undo `bind` (end of the request)."""
    _current.reset(token)


def current() -> str | None:
    return _current.get()


def _encode(value: str) -> Payload:
    return default_converter().payload_converter.to_payloads([value])[0]


def _decode(headers: Mapping[str, Payload]) -> str | None:
    payload = headers.get(HEADER)
    if payload is None:
        return None
    value = default_converter().payload_converter.from_payloads([payload])[0]
    return value if isinstance(value, str) else None


def _with(headers: Mapping[str, Payload], value: str | None) -> Mapping[str, Payload]:
    return {**headers, HEADER: _encode(value)} if value else headers


class ClientInterceptor(client.Interceptor):
    """Adds the current correlation id to what a client sends to workflows."""

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _ClientOutbound(next)


class _ClientOutbound(client.OutboundInterceptor):
    async def start_workflow(self, input: client.StartWorkflowInput) -> Any:
        input.headers = _with(input.headers, current())
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput) -> Any:
        input.headers = _with(input.headers, current())
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
            self, input: client.StartWorkflowUpdateWithStartInput) -> Any:
        input.start_workflow_input.headers = _with(input.start_workflow_input.headers, current())
        input.update_workflow_input.headers = _with(input.update_workflow_input.headers,
                                                    current())
        return await super().start_update_with_start_workflow(input)


class WorkerInterceptor(worker.Interceptor):
    """Carries the id through workflows to activities, and binds it in activity logs."""

    def intercept_activity(
            self, next: worker.ActivityInboundInterceptor) -> worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
            self, input: worker.WorkflowInterceptorClassInput
    ) -> type[worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        value = _decode(input.headers)
        token = bind(value)
        try:
            if value:
                activity.logger.debug("correlation %s", value)
            return await super().execute_activity(input)
        finally:
            _current.reset(token)
            structlog.contextvars.unbind_contextvars(LOG_KEY)


class _WorkflowInbound(worker.WorkflowInboundInterceptor):
    def init(self, outbound: worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: worker.ExecuteWorkflowInput) -> Any:
        _current.set(_decode(input.headers))
        return await super().execute_workflow(input)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        # Each update runs in its own task, so this does not leak into other handlers.
        _current.set(_decode(input.headers))
        return await super().handle_update_handler(input)


class _WorkflowOutbound(worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: worker.StartActivityInput) -> Any:
        return super().start_activity(
            dataclasses.replace(input, headers=_with(input.headers, _current.get())))

    def start_local_activity(self, input: worker.StartLocalActivityInput) -> Any:
        return super().start_local_activity(
            dataclasses.replace(input, headers=_with(input.headers, _current.get())))
