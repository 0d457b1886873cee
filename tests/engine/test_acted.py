"""An action's update answers with the state and the events it stored (issue 13 point 4): the
API builds its response from them and a read of the stream taken while the update ran, so they
must be exactly what the event store holds."""

from __future__ import annotations

import dataclasses

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from domain.dossier import fold
from domain.envelope import EventEnvelope
from motcua import dossiers
from motcua.eventstore.store import read_stream
from motcua.services.dossiers import stream_after
from motcua.services.views import dossier_view
from tests.conftest import Receive

pytestmark = pytest.mark.engine


def _as_stored(events: list[EventEnvelope]) -> list[tuple[object, ...]]:
    return [(e.event_id, e.stream, e.position, e.event_type, e.schema_version, e.payload,
             e.metadata, e.recorded_at) for e in events]


async def test_an_update_answers_with_the_events_as_stored(
        client: Client, pool: asyncpg.Pool, receive: Receive) -> None:
    """Each action's answer holds the events it appended, equal to the stored ones; with the
    stream read before the update they give the view a read after it would have given; a read
    that missed an event is detected (None), never answered with a gap."""
    d = await receive()
    steps: list[tuple[str, cmd.Command, list[str]]] = [
        ("assign", cmd.AssignOfficer(officer="o-1"), ["OfficerAssigned"]),
        ("start", cmd.StartProcessing(), ["ProcessingStarted"]),
        ("request-supplement", cmd.RequestSupplement(reason="thiếu"), ["SupplementRequested"]),
        ("supplement", cmd.ProvideSupplement(), ["SupplementReceived", "DeadlineSet"])]
    for action, command, appended in steps:
        before = await read_stream(pool, d.code)
        acted = await dossiers.act_with_events(client, d.code, action, command)
        stored = await read_stream(pool, d.code)
        assert [e.event_type for e in acted.appended] == appended
        assert _as_stored(acted.appended) == _as_stored(stored[-len(appended):])
        assert acted.state == fold([e.event for e in stored])
        merged = stream_after(before, acted)
        assert merged is not None and _as_stored(merged) == _as_stored(stored)
        answered = dossier_view(acted.state, merged).model_dump(mode="json")
        assert answered == dossier_view(acted.state, stored).model_dump(mode="json")
        assert stream_after(stored, acted) is not None  # a read that already saw them
        assert stream_after(before[:-1], acted) is None  # a read that missed one
    late = dataclasses.replace(acted, appended=[])
    assert stream_after(stored[:-1], late) is None  # shorter than the state's version
