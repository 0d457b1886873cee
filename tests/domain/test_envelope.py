"""The event envelope: its JSON shape in Temporal payloads, and upcasting of older schemas."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import default

from domain import events as ev
from domain.envelope import EventEnvelope
from domain.states import Channel

AT = datetime(2025, 4, 8, 1, 30, tzinfo=UTC)
# The fields of the envelope as recorded in the histories under tests/replay/histories.
RECORDED_FIELDS = {"event_id", "stream", "position", "event_type", "schema_version", "payload",
                   "metadata", "recorded_at"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Probe(ev.Event):
    """A test-only event at version 3: v1 called `subject` `topic`, v2 added `count`."""

    event_type: ClassVar[str] = "TestProbe"
    schema_version: ClassVar[int] = 3
    subject: str
    count: int


def _v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in payload.items() if k != "topic"}
    return {**rest, "subject": payload["topic"]}


def _v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "count": 1}


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Probe` known to `from_payload`, with a fresh upcaster registry holding its two steps
    (both undone after the test)."""
    monkeypatch.setitem(ev.EVENT_TYPES, Probe.event_type, Probe)
    monkeypatch.setattr(ev, "UPCASTERS", {})
    ev.upcaster(Probe.event_type, 1)(_v1_to_v2)
    ev.upcaster(Probe.event_type, 2)(_v2_to_v3)


def _received() -> ev.DossierReceived:
    return ev.DossierReceived(at=AT, code="000.21.39.H39-250408-0001", unit_code="000.21.39.H39",
                              procedure_code="1.004873", channel=Channel.COUNTER,
                              applicant_name="Nguyễn Văn An", documents=("Tờ khai",))


def test_an_older_payload_is_upcast_step_by_step(probe: None) -> None:
    """A v1 payload goes through v1->v2 (rename) and v2->v3 (new field) to today's event."""
    old = {"at": AT.isoformat(), "topic": "xác minh"}
    assert ev.from_payload("TestProbe", old, 1) == Probe(at=AT, subject="xác minh", count=1)
    assert ev.from_payload("TestProbe", {"at": AT.isoformat(), "subject": "v2"}, 2) == \
        Probe(at=AT, subject="v2", count=1)
    current = ev.to_payload(Probe(at=AT, subject="s", count=2))
    assert ev.from_payload("TestProbe", current, 3) == ev.from_payload("TestProbe", current)


def test_an_envelope_reads_its_event_at_the_stored_version(probe: None) -> None:
    """The envelope decodes with its own schema_version: what the store and the workflow do."""
    stored = EventEnvelope(event_id="e-1", stream="s", position=1, event_type="TestProbe",
                           schema_version=1, payload={"at": AT.isoformat(), "topic": "t"},
                           metadata={"actor": "clerk-1", "causation": "start"}, recorded_at=AT)
    assert stored.event == Probe(at=AT, subject="t", count=1)
    assert stored.event is stored.event  # decoded once: documents compare events by identity
    assert (stored.actor, stored.causation) == ("clerk-1", "start")


def test_a_missing_step_or_a_newer_version_is_refused(probe: None) -> None:
    """No silent guess: a version with no upcaster, or one newer than the code, is an error."""
    ev.UPCASTERS.pop(("TestProbe", 2))
    with pytest.raises(ValueError, match="no upcaster for TestProbe v2"):
        ev.from_payload("TestProbe", {"at": AT.isoformat(), "topic": "t"}, 1)
    with pytest.raises(ValueError, match="newer than this code"):
        ev.from_payload("TestProbe", {"at": AT.isoformat(), "subject": "t", "count": 1}, 4)
    with pytest.raises(ValueError, match="is registered"):
        ev.upcaster("TestProbe", 1)(_v1_to_v2)


def test_every_version_ever_stored_can_be_read() -> None:
    """Each event type has an upcaster from every version below its current one (events have
    been stored at every version since 1), and a current payload decodes unchanged."""
    missing = [(cls.event_type, v) for cls in ev.EVENT_TYPES.values()
               for v in range(1, cls.schema_version) if (cls.event_type, v) not in ev.UPCASTERS]
    assert missing == []
    event = _received()
    assert ev.from_payload(event.event_type, ev.to_payload(event),
                           event.schema_version) == event


def test_the_envelope_keeps_its_json_shape_in_temporal_payloads() -> None:
    """What the workflow sends has the recorded fields (plus the optional global position),
    and a payload recorded before the global position existed still decodes."""
    converter = default().payload_converter
    envelope = EventEnvelope.wrap(_received(), event_id="e-1", stream="s", position=1,
                                  metadata={"actor": "clerk-1"})
    sent = json.loads(converter.to_payloads([envelope])[0].data)
    assert set(sent) == RECORDED_FIELDS | {"global_position"}
    assert sent["global_position"] is None
    old = {k: v for k, v in sent.items() if k != "global_position"}
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(old).encode())
    (decoded,) = converter.from_payloads([payload], [EventEnvelope])
    assert decoded == envelope
    assert decoded.event == _received()
