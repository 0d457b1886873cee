"""The correlation id travels in Temporal headers from the client into every activity."""

from __future__ import annotations

import pytest
import structlog
from temporalio.client import Client

from motcua import correlation, dossiers
from motcua.devstack.temporal_server import TemporalDevServer
from tests.conftest import TASK_QUEUE, receipt

pytestmark = pytest.mark.engine


async def test_correlation_id_reaches_the_activities(temporal_server: TemporalDevServer,
                                                     worker: None) -> None:
    """A receipt sent under correlation id X is appended by an activity that logs X, though
    the command itself carries no id."""
    client = await Client.connect(temporal_server.address,
                                  interceptors=[correlation.ClientInterceptor()])
    token = correlation.bind("corr-test-42")
    try:
        with structlog.testing.capture_logs(
                processors=[structlog.contextvars.merge_contextvars]) as logs:
            d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    finally:
        correlation._current.reset(token)
        structlog.contextvars.clear_contextvars()
    appended = [e for e in logs if e["event"] == "event_store.appended"
                and e.get("stream") == d.code]
    assert appended and all(e.get("correlation_id") == "corr-test-42" for e in appended)
