"""The rules that live in the domain for the workflow, the deadline activity, the projector and
the API: when a new due time is due and how it is worked out, when a dossier's life ends, its
recorded SLA status, and the legacy receipt check."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain import commands as cmd
from domain import deadlines
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import Catalog, UnknownProcedure
from domain.clock import due_at, pause_extension, working_time_between
from domain.contracts import DeadlineRequest, Pause
from domain.decide import check_original_receipt, no_more_commands, refusal_after_end
from domain.dossier import RATING_WINDOW, Dossier
from domain.errors import AlreadyRated, InvalidCommand, InvalidTransition
from domain.states import Channel, DossierState, Satisfaction, SlaStatus
from motcua.catalog.source import load_catalog

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hà Nội
PROCEDURE = "1.004873"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_which_events_call_for_a_new_deadline() -> None:
    """Receipt, a supplement's arrival and an extension give a new due time; a calendar
    correction always recomputes; anything else does not."""
    received = ev.DossierReceived(at=T0, code="c", unit_code="u", procedure_code="p",
                                  channel=Channel.COUNTER, applicant_name="a")
    back = ev.SupplementReceived(at=T0)
    assigned = ev.OfficerAssigned(at=T0, officer="o")
    assert deadlines.deadline_reason(cmd.AssignOfficer(officer="o"), [assigned]) is None
    assert deadlines.deadline_reason(cmd.ProvideSupplement(), [back]) == "supplement_received"
    assert deadlines.deadline_reason(cmd.AssignOfficer(officer="o"), [received, assigned]) == \
        "receipt"
    assert deadlines.deadline_reason(cmd.CorrectCalendar(reason="lịch sửa"), []) == \
        "calendar_correction"


def test_compute_adds_pauses_and_after_an_extension_only_the_later_ones(
        cal: Calendar, catalog: Catalog) -> None:
    """From the receipt: the procedure's time plus every pause. After an extension: the new
    appointment plus only the pauses that began after the extension."""
    proc = catalog.procedure(PROCEDURE)
    early = Pause(start=T0 + timedelta(hours=1), end=T0 + timedelta(days=1))
    plain = deadlines.compute(cal, catalog, DeadlineRequest(procedure_code=PROCEDURE,
                                                            received_at=T0))
    assert plain.due_at == due_at(cal, T0, proc.reduced_amount, proc.reduced_unit,
                                  proc.counting_rule)
    paused = deadlines.compute(cal, catalog, DeadlineRequest(
        procedure_code=PROCEDURE, received_at=T0, pauses=[early]))
    assert paused.due_at == pause_extension(
        cal, plain.due_at, working_time_between(cal, early.start, early.end), proc.reduced_unit)

    extended_at = T0 + timedelta(days=2)
    appointment = plain.due_at + timedelta(days=7)
    late = Pause(start=extended_at + timedelta(hours=1), end=extended_at + timedelta(days=1))
    after = deadlines.compute(cal, catalog, DeadlineRequest(
        procedure_code=PROCEDURE, received_at=T0, pauses=[early, late],
        extended_due_at=appointment, extended_at=extended_at))
    assert after.due_at == pause_extension(
        cal, appointment, working_time_between(cal, late.start, late.end), proc.reduced_unit)
    assert after.due_soon_at < after.due_at
    with pytest.raises(UnknownProcedure):
        deadlines.compute(cal, catalog, DeadlineRequest(procedure_code="nope", received_at=T0))


def test_a_dossier_ends_when_closed_or_rated_or_after_the_rating_window() -> None:
    """Refused/withdrawn/stopped end at once; a returned one when rated or after the window."""
    returned = Dossier(state=DossierState.RETURNED, closed_at=T0)
    assert not Dossier().ended(T0)
    assert not Dossier(state=DossierState.PROCESSING).ended(T0)
    assert Dossier(state=DossierState.REFUSED).ended(T0)
    assert not returned.ended(T0 + RATING_WINDOW - timedelta(seconds=1))
    assert returned.ended(T0 + RATING_WINDOW)
    assert dataclasses.replace(returned, satisfaction=Satisfaction.SATISFIED).ended(T0)
    refusal = no_more_commands(Dossier(state=DossierState.WITHDRAWN))
    assert isinstance(refusal, InvalidTransition)
    assert refusal.details == {"state": "withdrawn"} and "no more commands" in refusal.message
    # After the end, the precise refusal when the domain has one (issue 23 item 12): a
    # second rating is "already rated"; a rating past the window, no more commands.
    rated = dataclasses.replace(returned, satisfaction=Satisfaction.SATISFIED)
    assert isinstance(refusal_after_end(rated, cmd.RateService), AlreadyRated)
    late = refusal_after_end(returned, cmd.RateService)
    assert isinstance(late, InvalidTransition) and "no more commands" in late.message


def test_recorded_sla_status_follows_the_alerts_raised() -> None:
    """Without a clock: due soon / overdue once raised for the deadline in force; a newer
    deadline version puts the dossier back on track."""
    d = Dossier(state=DossierState.PROCESSING, due_at=T0, due_soon_at=T0, deadline_version=1)
    assert d.recorded_sla_status() is SlaStatus.ON_TRACK
    assert dataclasses.replace(d, due_soon_raised_for=1).recorded_sla_status() is \
        SlaStatus.DUE_SOON
    overdue = dataclasses.replace(d, due_soon_raised_for=1, overdue_raised_for=1)
    assert overdue.recorded_sla_status() is SlaStatus.OVERDUE
    assert dataclasses.replace(overdue, deadline_version=2).recorded_sla_status() is \
        SlaStatus.ON_TRACK
    assert dataclasses.replace(d, state=DossierState.AWAITING_SUPPLEMENT,
                               overdue_raised_for=1).recorded_sla_status() is SlaStatus.PAUSED


def test_original_receipt_cannot_be_in_the_future() -> None:
    """The one check, called by `decide` and by the API before a code is spent."""
    check_original_receipt(None, T0)
    check_original_receipt(T0, T0)
    with pytest.raises(InvalidCommand) as err:
        check_original_receipt(T0 + timedelta(seconds=1), T0)
    assert err.value.details == {"field": "original_received_at"}
