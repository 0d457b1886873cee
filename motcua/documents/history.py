"""A dossier's stored events, typed and folded, with the catalog names the documents print."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TypeVar

from domain import events as ev
from domain.catalog import Catalog, Fee, UnknownProcedure, UnknownUnit
from domain.dossier import Dossier, fold
from domain.envelope import EventEnvelope
from motcua.catalog.calendar import office_zone
from motcua.documents.people import Person, name_of

E = TypeVar("E", bound=ev.Event)


class DocumentError(Exception):
    """Base of the errors `render` raises."""


class UnknownDocument(DocumentError, ValueError):
    """No document of that kind exists (see `KINDS`)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown document kind {kind!r}")
        self.kind = kind


class DocumentUnavailable(DocumentError):
    """The dossier's events do not contain what this document needs (e.g. no refusal)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class History:
    """Everything a document is drawn from: the typed events, the folded state, the receipt
    event (applicant contact details are not in the state) and the catalog's names."""

    steps: tuple[EventEnvelope, ...]  # in stream order; `.event` is the typed event
    state: Dossier
    # The receipt, or the online submission (same particulars) for a dossier submitted online.
    received: ev.DossierReceived | ev.DossierSubmitted
    received_by: str
    procedure_name: str
    unit_name: str
    province: str
    tz: tzinfo  # the office time zone the documents print times in (the calendar's)
    # The procedure's fee as the catalog now states it (issue 22 item 4), or None.
    procedure_fee: Fee | None = None
    # The names of the units answering for the dossier's steps (issue 22), by code.
    step_units: Mapping[str, str] = field(default_factory=dict)

    def unit_label(self, code: str) -> str:
        """A step unit's name, or its code when the catalog no longer lists it."""
        return self.step_units.get(code) or (self.unit_name if not code else f"Cơ quan mã {code}")

    # The users the events name, by login (`people.people_of`); empty: logins are printed.
    people: Mapping[str, Person] = dataclasses.field(default_factory=dict)

    def all(self, cls: type[E]) -> list[E]:
        """The events of type `cls`, in stream order."""
        return [s.event for s in self.steps if isinstance(s.event, cls)]

    def first(self, cls: type[E]) -> E | None:
        """The first event of type `cls`, if any."""
        found = self.all(cls)
        return found[0] if found else None

    def last(self, cls: type[E]) -> E | None:
        """The last event of type `cls`, if any."""
        found = self.all(cls)
        return found[-1] if found else None

    def actor_of(self, event: ev.Event) -> str:
        """Who recorded `event` (the metadata's actor), as a login."""
        return next((s.actor for s in self.steps if s.event is event), "")

    def name(self, login: str) -> str:
        """The full name papers print for `login` (the login when no user has it)."""
        return name_of(self.people, login)

    def person(self, login: str) -> Person | None:
        """The user `login` is, if known."""
        return self.people.get(login)


def load(kind: str, events: Sequence[EventEnvelope], catalog: Catalog,
         tz: tzinfo | None = None, people: Mapping[str, Person] | None = None) -> History:
    """Type, order and fold one dossier's stored events; `DocumentUnavailable` before receipt.
    `tz` is the office time zone (the calendar's; default: the domain's default zone)."""
    if not events:
        raise DocumentUnavailable(kind, "no events: the dossier was never received")
    streams = {e.stream for e in events}
    if len(streams) > 1:
        raise ValueError(f"events of several dossiers: {sorted(streams)}")
    ordered = sorted(events, key=lambda e: e.position)
    steps = tuple(ordered)
    first = steps[0].event
    if not isinstance(first, ev.DossierReceived | ev.DossierSubmitted):
        raise DocumentUnavailable(kind, "the stream does not start with DossierReceived")
    state = fold([s.event for s in steps])
    # An online submission is received by the clerk who accepted it.
    received_by = next((s.actor for s in steps if isinstance(s.event, ev.SubmissionAccepted)),
                       steps[0].actor)
    # A catalog that no longer lists the procedure or unit still lets the document be printed,
    # with the code in place of the name, rather than refusing a citizen their paper.
    fee: Fee | None = None
    try:
        procedure = catalog.procedure(first.procedure_code)
        procedure_name, fee = procedure.name, procedure.fee
    except UnknownProcedure:
        procedure_name = f"Thủ tục mã {first.procedure_code}"
    try:
        unit = catalog.unit(first.unit_code)
        unit_name, province = unit.name, unit.province
    except UnknownUnit:
        unit_name, province = f"Cơ quan mã {first.unit_code}", ""
    step_units: dict[str, str] = {}
    for planned in state.step_plan.steps if state.step_plan else ():
        with contextlib.suppress(UnknownUnit):  # printed with its code instead
            step_units[planned.unit_code] = catalog.unit(planned.unit_code).name
    return History(steps=steps, state=state, received=first, received_by=received_by,
                   procedure_name=procedure_name, unit_name=unit_name, province=province,
                   tz=tz or office_zone(), step_units=step_units, people=dict(people or {}),
                   procedure_fee=fee)
