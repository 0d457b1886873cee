"""An action's update answers with the state and the events (issue 13 point 4): the API builds
its response from them, so they must be exactly what the event store holds."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from domain.dossier import fold
from domain.envelope import EventEnvelope
from motcua import dossiers
from motcua.api.views import dossier_view
from motcua.eventstore.store import read_stream
from tests.conftest import Receive

pytestmark = pytest.mark.engine


def _as_stored(events: list[EventEnvelope]) -> list[tuple[object, ...]]:
    return [(e.event_id, e.stream, e.position, e.event_type, e.schema_version, e.payload,
             e.metadata, e.recorded_at) for e in events]


async def test_an_update_answers_with_the_stream_as_stored(
        client: Client, pool: asyncpg.Pool, receive: Receive) -> None:
    """Each action's answer holds the events it appended and the whole stream, equal to the
    stored one, and the staff view built from it equals the view built from a stream read."""
    d = await receive()
    steps: list[tuple[str, cmd.Command, list[str]]] = [
        ("assign", cmd.AssignOfficer(officer="o-1"), ["OfficerAssigned"]),
        ("start", cmd.StartProcessing(), ["ProcessingStarted"]),
        ("request-supplement", cmd.RequestSupplement(reason="thiếu"), ["SupplementRequested"]),
        ("supplement", cmd.ProvideSupplement(), ["SupplementReceived", "DeadlineSet"])]
    for action, command, appended in steps:
        acted = await dossiers.act_with_events(client, d.code, action, command)
        stored = await read_stream(pool, d.code)
        assert [e.event_type for e in acted.appended] == appended
        assert acted.events is not None
        assert _as_stored(acted.events) == _as_stored(stored)
        assert _as_stored(acted.appended) == _as_stored(stored[-len(appended):])
        assert acted.state == fold([e.event for e in stored])
        answered = dossier_view(acted.state, acted.events).model_dump(mode="json")
        assert answered == dossier_view(acted.state, stored).model_dump(mode="json")
    assert (await dossiers.act(client, d.code, "complete", cmd.CompleteProcessing(
        summary="xong"))).state_name == "ready"
