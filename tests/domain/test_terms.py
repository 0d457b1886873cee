"""`DeadlineTerms`: the deadline's fields written once, with the JSON shapes of the stored event
and of the recorded activity result exactly as before they were shared."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.codec import from_dict, to_dict
from domain.contracts import DeadlineResult
from domain.decide import decide
from domain.dossier import Dossier
from domain.states import DossierState

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"
DUE = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
# The keys each shape had when the fields were written out three times (Nov 2026).
TERMS = {"due_at", "due_soon_at", "rule", "amount", "unit", "calendar_version",
         "catalog_version", "rule_version", "rule_source", "legal_due_at"}
EVENT_KEYS = TERMS | {"at", "version", "reason"}


def _result() -> DeadlineResult:
    return DeadlineResult(due_at=DUE, due_soon_at=DUE - timedelta(days=1), rule="civil_code",
                          amount=7, unit="working_days", calendar_version="c1",
                          catalog_version="k1", rule_version=2, rule_source="Decree 297/2025",
                          legal_due_at=DUE)


def test_result_becomes_event_with_every_term() -> None:
    """The activity's result, through the command, gives an event with the same ten terms."""
    result = _result()
    state = Dossier(code="X", state=DossierState.RECEIVED, deadline_version=1)
    [event] = decide(state, cmd.SetDeadline(reason="receipt", **result.terms()), DUE)
    assert isinstance(event, ev.DeadlineSet)
    assert event.terms() == result.terms() and set(result.terms()) == TERMS
    assert (event.version, event.reason, event.at) == (2, "receipt", DUE)


def test_event_payload_keeps_its_flat_shape() -> None:
    """The stored payload is one flat object with the keys it always had (no nested terms)."""
    event = ev.DeadlineSet(at=DUE, version=1, reason="receipt", **_result().terms())
    payload = ev.to_payload(event)
    assert set(payload) == EVENT_KEYS
    assert payload["due_at"] == DUE.isoformat() and payload["amount"] == 7
    assert ev.from_payload("DeadlineSet", payload, 1) == event


def _recorded_results() -> list[dict[str, object]]:
    """Every deadline result recorded in the replay histories (local-activity markers)."""
    found = []
    for path in sorted(HISTORIES.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["events"]:
            marker = entry.get("markerRecordedEventAttributes")
            if not marker:
                continue
            for payload in marker["details"].get("result", {}).get("payloads", []):
                value = json.loads(base64.b64decode(payload["data"]))
                if isinstance(value, dict) and "due_soon_at" in value:
                    found.append(value)
    return found


@pytest.mark.parametrize("recorded", _recorded_results()[:12])
def test_recorded_results_decode_unchanged(recorded: dict[str, object]) -> None:
    """Results recorded in histories decode strictly (no unknown key) and encode back to the
    same object."""
    encoded = to_dict(from_dict(DeadlineResult, recorded))
    assert {key: encoded[key] for key in recorded} == recorded
    assert set(recorded) <= TERMS == set(encoded)


def test_histories_hold_deadline_results() -> None:
    """The shape check above has material to check (histories of every tag)."""
    assert len(_recorded_results()) >= 12
