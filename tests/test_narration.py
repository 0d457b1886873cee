"""`motcua.documents.narration.describe`: every stored event type is told in Vietnamese, and
free text or personal data only reaches a reader allowed to see it."""

from __future__ import annotations

import dataclasses
import types
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest

from domain import events as ev
from domain.states import AlertKind
from motcua.catalog.calendar import office_zone
from motcua.documents.narration import ALERT_LABELS, describe

AT = datetime(2026, 4, 8, 1, 30, tzinfo=UTC)
SECRET = "BÍ MẬT"
# Fields holding free text or the applicant's data: never in the sentence everyone may read.
PRIVATE_FIELDS = {"applicant_name", "reason", "note", "documents", "summary", "comment",
                  "text", "complainant", "outcome", "error"}


def _value(name: str, hint: Any) -> Any:
    """A sample value of `hint`; free-text fields get the marker text."""
    if get_origin(hint) in (Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is tuple:
        return (SECRET,)
    if hint is datetime:
        return AT
    if isinstance(hint, type) and issubclass(hint, Enum):
        return next(iter(hint))
    if hint is bool:
        return True
    if hint is int:
        return 3
    if name == "kind":  # notifications carry the alert kind as text
        return AlertKind.OVERDUE.value
    return SECRET if name in PRIVATE_FIELDS else f"{name}-1"


def sample(cls: type[ev.Event]) -> ev.Event:
    """An instance of `cls` with every field set."""
    hints = get_type_hints(cls)
    event = cls(**{f.name: _value(f.name, hints[f.name]) for f in dataclasses.fields(cls)})
    # A deadline's reason is a code (`domain.deadlines.DEADLINE_REASONS`), not free text.
    return dataclasses.replace(event, reason="receipt") if cls is ev.DeadlineSet else event


@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=lambda c: c.__name__)
def test_every_event_type_is_told(cls: type[ev.Event]) -> None:
    """No stored type falls back to its English name, on screens or on the slip."""
    told = describe(sample(cls), office_zone())
    assert told.step and told.line
    assert cls.event_type not in (told.step, told.line)


@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=lambda c: c.__name__)
def test_free_text_only_for_readers_of_personal_data(cls: type[ev.Event]) -> None:
    """The public sentence carries no free text; the private one carries the event's."""
    event = sample(cls)
    told = describe(event, office_zone())
    assert SECRET not in told.line and SECRET not in told.sentence(private=False)
    if {f.name for f in dataclasses.fields(cls)} & PRIVATE_FIELDS and cls is not ev.DeadlineSet:
        assert SECRET in told.sentence(private=True)


def test_slip_note_and_alert_wording() -> None:
    """The slip's note starts with a capital and joins the printed details and remarks; the
    alert's wording comes from the one label table."""
    extended = ev.DeadlineExtended(at=AT, reason="chờ xác minh", previous_due_at=AT,
                                   new_due_at=AT, in_time=False)
    note = describe(extended, office_zone()).note()
    assert note == ("Lý do: chờ xác minh; hẹn lại: 08 giờ 30 phút, ngày 08 tháng 4 năm 2026; "
                    "văn bản xin lỗi gửi sau thời hạn phải gửi")
    received = sample(ev.DossierReceived)
    assert SECRET not in describe(received, office_zone()).note()  # papers and name: own cells
    alert = ev.DeadlineAlertRaised(at=AT, kind=AlertKind.DUE_SOON, deadline_version=1, due_at=AT)
    assert describe(alert, office_zone()).line == ALERT_LABELS[AlertKind.DUE_SOON]
