"""Files on a dossier in the domain (issue 26): when a component or a result may be recorded,
and what a `FileAttached` event carries."""

from __future__ import annotations

import dataclasses

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.decide import decide
from domain.dossier import fold
from domain.errors import InvalidCommand, InvalidTransition
from domain.states import DossierState
from tests.domain.test_decide import T0, received

SCAN = cmd.AttachFile(file_id="f-1", name="Tờ khai", kind="original", pages=2, sha256="a" * 64,
                      size=10, media_type="application/pdf", actor="clerk-1")


def test_component_recorded_with_its_description() -> None:
    """A component at intake becomes one FileAttached naming its uploader; the state only
    counts the event (the description lives in the stream)."""
    d = received()
    (event,) = decide(d, SCAN, T0)
    assert isinstance(event, ev.FileAttached)
    assert (event.uploaded_by, event.sha256, event.pages, event.purpose) == (
        "clerk-1", "a" * 64, 2, "component")
    assert fold([event], d).version == d.version + 1
    assert ev.from_payload("FileAttached", ev.to_payload(event), 1) == event


def test_when_files_are_refused() -> None:
    """No result before processing; no component once ready; malformed descriptions are
    invalid commands."""
    d = received()
    with pytest.raises(InvalidTransition):
        decide(d, dataclasses.replace(SCAN, purpose="result"), T0)
    ready = dataclasses.replace(d, state=DossierState.READY)
    with pytest.raises(InvalidTransition):
        decide(ready, SCAN, T0)
    assert decide(ready, dataclasses.replace(SCAN, purpose="result"), T0)
    for bad in ({"kind": "scan"}, {"pages": 0}, {"sha256": "xyz"}, {"reused": True},
                {"purpose": "other"}, {"name": " "}):
        with pytest.raises(InvalidCommand):
            decide(d, dataclasses.replace(SCAN, **bad), T0)  # type: ignore[arg-type]
