"""`EventEnvelope`: one domain event with what the store keeps beside it.

The one shape of "an event as stored": the workflow builds envelopes (identity and stream
position chosen deterministically, so a retried append is recognised and stored once), the
store writes them and reads them back (adding the global position), and the API, the
projector and the documents read the typed event from them (`event`, upcast to the current
schema by `domain.events.from_payload`).

The dataclass fields are its JSON shape in Temporal payloads (activity inputs and results in
recorded histories): add a field only with a default, so older histories still decode.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
import functools
from datetime import datetime
from typing import Any

from domain import events as ev


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventEnvelope:
    """One event as stored. `metadata` holds who did it (`actor`), why (`causation`: the
    update, timer or notification behind it), the command's name and the correlation id.
    `global_position` is the store's commit-order number, known only once it is stored."""

    event_id: str
    stream: str
    position: int
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    metadata: dict[str, str]
    recorded_at: datetime
    global_position: int | None = None

    @classmethod
    def wrap(cls, event: ev.Event, *, event_id: str, stream: str, position: int,
             metadata: dict[str, str]) -> "EventEnvelope":
        """The envelope of a freshly decided `event` (recorded at the instant it happened)."""
        return cls(event_id=event_id, stream=stream, position=position,
                   event_type=event.event_type, schema_version=event.schema_version,
                   payload=ev.to_payload(event), metadata=metadata, recorded_at=event.at)

    @functools.cached_property
    def event(self) -> ev.Event:
        """The typed domain event, upcast to its current schema (decoded once)."""
        return ev.from_payload(self.event_type, self.payload, self.schema_version)

    @property
    def actor(self) -> str:
        """Who caused the event ('' if the metadata does not say)."""
        return self.metadata.get("actor") or ""

    @property
    def causation(self) -> str:
        """What caused it: `update:<id>`, `timer:<kind>`, `notification:<id>` or `start`."""
        return self.metadata.get("causation") or ""
