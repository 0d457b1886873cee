"""The lifecycle rules, without Temporal: decide's events, evolve's fold, and invariants under
random command sequences (hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as cmd
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.errors import DomainError, InvalidCommand, InvalidTransition
from domain.events import from_payload, to_payload
from domain.states import TERMINAL_STATES, Channel, DossierState, Satisfaction, Timeliness

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, a Monday


def received(at: datetime = T0) -> Dossier:
    state = fold(decide(Dossier(), cmd.ReceiveDossier(
        code="000.21.39.H39-250303-0001", unit_code="000.21.39.H39", procedure_code="1.004222",
        channel=Channel.COUNTER, applicant_name="Trần Thị Bình"), at))
    due = datetime.fromisoformat("2025-03-07T17:00:00+07:00")
    return fold(decide(state, set_deadline(due, "receipt"), at), state)


def set_deadline(due: datetime, reason: str) -> cmd.SetDeadline:
    return cmd.SetDeadline(due_at=due, due_soon_at=due - timedelta(days=1), reason=reason,
                           rule="civil_code", amount=4, unit="working_days",
                           calendar_version="c1", catalog_version="k1")


def test_receipt_then_deadline_is_version_one() -> None:
    """A received dossier has its first deadline as version 1 and its events at 1 and 2."""
    d = received()
    assert d.state is DossierState.RECEIVED and d.version == 2 and d.deadline_version == 1
    assert d.state.status_code == 2


def test_receiving_twice_is_refused() -> None:
    """A dossier is received once; a second receipt is an InvalidTransition."""
    with pytest.raises(InvalidTransition):
        decide(received(), cmd.ReceiveDossier(
            code="000.21.39.H39-250303-0001", unit_code="u", procedure_code="p",
            channel=Channel.ONLINE, applicant_name="x"), T0)


def test_bad_code_is_invalid_command() -> None:
    """A code that is not `unit-YYMMDD-NNNN` is refused naming the field."""
    with pytest.raises(InvalidCommand) as err:
        decide(Dossier(), cmd.ReceiveDossier(code="nope", unit_code="u", procedure_code="p",
                                             channel=Channel.ONLINE, applicant_name="x"), T0)
    assert err.value.details["field"] == "code"


@pytest.mark.parametrize(("finished", "expected"), [
    ("2025-03-06T16:00:00+07:00", Timeliness.EARLY),
    ("2025-03-07T08:00:00+07:00", Timeliness.ON_TIME),
    ("2025-03-07T16:59:00+07:00", Timeliness.ON_TIME),
    ("2025-03-10T08:00:00+07:00", Timeliness.LATE),
])
def test_timeliness_compares_office_dates(finished: str, expected: Timeliness) -> None:
    """Biểu 06: early before the due date, on time on it, late after, in Vietnam's dates."""
    d = dataclasses.replace(received(), state=DossierState.PROCESSING, assignee="o")
    (ready,) = decide(d, cmd.CompleteProcessing(summary="ok"), datetime.fromisoformat(finished))
    assert ready.timeliness is expected  # type: ignore[attr-defined]


def test_events_round_trip_through_their_payload() -> None:
    """Every stored payload decodes to the same event (the store's contract)."""
    d = received()
    events = decide(d, cmd.AssignOfficer(officer="o-1"), T0)
    for e in events:
        assert from_payload(e.event_type, to_payload(e)) == e


# -- property tests ----------------------------------------------------------------------

COMMANDS = st.one_of(
    st.builds(cmd.AssignOfficer, officer=st.sampled_from(["o-1", "o-2", " "])),
    st.builds(cmd.StartProcessing),
    st.builds(cmd.RequestSupplement, reason=st.sampled_from(["thiếu giấy", ""])),
    st.builds(cmd.ProvideSupplement),
    st.builds(cmd.CompleteProcessing, summary=st.just("xong")),
    st.builds(cmd.ReturnResult),
    st.builds(cmd.RefuseDossier, reason=st.just("không đủ điều kiện")),
    st.builds(cmd.WithdrawDossier, reason=st.just("xin rút")),
    st.builds(cmd.StopProcessing, reason=st.just("dừng")),
    st.builds(cmd.RateService, satisfaction=st.sampled_from(list(Satisfaction))),
    st.builds(cmd.ExtendDeadline, reason=st.just("xác minh"),
              new_due_at=st.just(datetime.fromisoformat("2025-03-12T17:00:00+07:00"))),
)


def check_invariants(d: Dossier) -> None:
    assert d.state is not None
    if d.state is DossierState.AWAITING_SUPPLEMENT:
        assert d.paused_at is not None and d.resume_state is not None
    else:
        assert d.paused_at is None
    if d.state is DossierState.READY or d.state is DossierState.RETURNED:
        assert d.finished_at is not None and d.timeliness is not None
    if d.state in TERMINAL_STATES:
        assert d.closed_at is not None
    if d.state is DossierState.PROCESSING:
        assert d.assignee
    if d.satisfaction is not None:
        assert d.state is DossierState.RETURNED
    assert d.deadline_version >= 1


@settings(max_examples=400, deadline=None)
@given(st.lists(COMMANDS, max_size=25))
def test_no_command_sequence_reaches_an_invalid_state(commands: list[cmd.Command]) -> None:
    """Whatever clerks send, in any order, the dossier stays consistent: refused commands
    change nothing, accepted ones advance the version by their events, and folding all the
    events from zero gives the same state."""
    state = received()
    history = decide(Dossier(), cmd.ReceiveDossier(
        code="000.21.39.H39-250303-0001", unit_code="000.21.39.H39", procedure_code="1.004222",
        channel=Channel.COUNTER, applicant_name="Trần Thị Bình"), T0)
    history += decide(fold(history), set_deadline(
        datetime.fromisoformat("2025-03-07T17:00:00+07:00"), "receipt"), T0)
    now = T0
    for command in commands:
        now += timedelta(hours=3)
        try:
            events = decide(state, command, now)
        except DomainError as err:
            assert err.type in {"InvalidTransition", "InvalidCommand", "AlreadyExtended",
                                "AlreadyRated"}
            continue
        assert events, "an accepted command records at least one event"
        new = fold(events, state)
        assert new.version == state.version + len(events)
        if isinstance(command, cmd.ProvideSupplement | cmd.ExtendDeadline):
            # the workflow follows these with a new deadline version
            more = decide(new, set_deadline(new.extended_due_at or new.due_at or now,
                                            "supplement_received"), now)
            events, new = events + more, fold(more, new)
        history += events
        state = new
        check_invariants(state)
        if state.state in TERMINAL_STATES and state.state is not DossierState.RETURNED:
            with pytest.raises(DomainError):
                decide(state, cmd.AssignOfficer(officer="o-9"), now)
    assert fold(history) == state
