"""Online intake (issue 11 points 7 and 8): a submission awaits acceptance (code 1) with no
due time; accepting it gives the receipt deadline counted from the complete submission; a
supplement asked for before acceptance restarts the period (Decree 297/2025 art. 6(4)(a)),
it is not a pause; a refusal at intake is code 3."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import TimeUnit
from domain.clock import due_at
from domain.deadlines import compute, deadline_reason, request_for
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.errors import InvalidTransition
from domain.states import (
    REFUSAL_AFTER_ACCEPTANCE_CODE,
    REFUSAL_AT_INTAKE_CODE,
    AlertKind,
    Channel,
    DossierState,
    SlaStatus,
    Timeliness,
)
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROCEDURE = "1.004873"  # certificate of marital status: 03 working days, civil_code
SUBMITTED_AT = datetime(2026, 11, 27, 16, 0, tzinfo=VN)  # Friday 16:00
CODE = "000.21.39.H39-261127-0001"


def submitted(at: datetime = SUBMITTED_AT) -> Dossier:
    return fold(decide(Dossier(), cmd.SubmitOnline(
        code=CODE, unit_code="000.21.39.H39", procedure_code=PROCEDURE,
        applicant_name="Lê Văn Cường", applicant_phone="0912345678",
        documents=("Tờ khai",), actor="portal"), at))


def step(state: Dossier, command: cmd.Command, at: datetime) -> tuple[Dossier, list[ev.Event]]:
    events = decide(state, command, at)
    return fold(events, state), events


def accept(state: Dossier, at: datetime, cal: Calendar) -> Dossier:
    """Accept as the workflow does: decide, fold, then the receipt deadline computed from the
    state (`request_for`, the request the workflow sends) and recorded."""
    state, events = step(state, cmd.AcceptSubmission(actor="clerk-1"), at)
    assert deadline_reason(cmd.AcceptSubmission(), events) == "receipt"
    result = compute(cal, load_catalog(), request_for(state))
    return fold(decide(state, cmd.SetDeadline(
        reason="receipt", due_at=result.due_at, due_soon_at=result.due_soon_at,
        rule=result.rule, amount=result.amount, unit=result.unit,
        calendar_version=result.calendar_version, catalog_version=result.catalog_version,
        rule_version=result.rule_version, rule_source=result.rule_source,
        legal_due_at=result.legal_due_at), at), state)


def test_a_submission_awaits_acceptance_with_no_clock() -> None:
    """Code 1, online, not received, no due time, no alert pending, nothing paused."""
    d = submitted()
    assert d.state is DossierState.SUBMITTED and d.state.status_code == 1
    assert d.channel is Channel.ONLINE and d.code == CODE
    assert d.received_at is None and d.due_at is None and d.deadline_version == 0
    assert d.submitted_at == SUBMITTED_AT and d.counted_from == SUBMITTED_AT
    assert not d.clock_running and d.pending_alert(True) is None
    assert d.sla_status(SUBMITTED_AT + timedelta(days=30)) is SlaStatus.ON_TRACK
    assert d.is_open and not d.state.is_terminal


@pytest.mark.parametrize("command", [
    cmd.AssignOfficer(officer="o-1"), cmd.StartProcessing(officer="o-1"),
    cmd.RequestSupplement(reason="thiếu"), cmd.ProvideSupplement(),
    cmd.CompleteProcessing(summary="xong"), cmd.ReturnResult(),
    cmd.RefuseDossier(reason="không"), cmd.StopProcessing(reason="dừng"),
    cmd.ExtendDeadline(reason="x", new_due_at=datetime(2026, 12, 30, 17, tzinfo=VN)),
    cmd.RequireVerification(reason="x"), cmd.CorrectCalendar(reason="x"),
    cmd.RaiseAlert(kind=AlertKind.OVERDUE), cmd.ProvideIntakeSupplement(),
    cmd.ReceiveDossier(code=CODE, unit_code="000.21.39.H39", procedure_code=PROCEDURE,
                       channel=Channel.COUNTER, applicant_name="x"),
], ids=lambda c: type(c).__name__)
def test_processing_commands_are_refused_before_acceptance(command: cmd.Command) -> None:
    """Nothing that needs a received dossier (or a pending intake supplement) is accepted."""
    with pytest.raises(InvalidTransition) as err:
        decide(submitted(), command, SUBMITTED_AT + timedelta(hours=1))
    assert err.value.details["state"] == "submitted"


def test_accepted_without_supplement_counts_from_the_submission(cal: Calendar) -> None:
    """Submitted Fri 27 Nov 2026 16:00, accepted Mon 30 Nov 09:00, 3 working days: day one is
    Mon 30 Nov (the first working day after the date of submission, rule v2), due Wed 2 Dec
    17:00, not Thu 3 Dec as counting from the acceptance would give."""
    accepted_at = datetime(2026, 11, 30, 9, 0, tzinfo=VN)
    d = accept(submitted(), accepted_at, cal)
    assert d.state is DossierState.RECEIVED and d.state.status_code == 2
    assert d.received_at == accepted_at and d.counted_from == SUBMITTED_AT
    assert d.due_at == datetime(2026, 12, 2, 17, 0, tzinfo=VN)
    assert due_at(cal, accepted_at, 3, TimeUnit.WORKING_DAYS) == \
        datetime(2026, 12, 3, 17, 0, tzinfo=VN)  # what counting from acceptance would give
    assert d.deadline_version == 1 and d.pauses == () and d.clock_running


def test_intake_supplement_restarts_the_period_from_the_complete_dossier(cal: Calendar) -> None:
    """Decree 297/2025 art. 6(4)(a), "tính lại từ đầu sau khi nhận đủ hồ sơ": submitted Fri
    27 Nov 16:00, supplement asked Mon 30 Nov 08:30, complete supplement Tue 1 Dec 10:00,
    accepted Tue 1 Dec 14:00; 3 working days from 1 Dec (day one Wed 2 Dec): due Fri 4 Dec
    17:00. No pause is recorded: the wait is not added back, the count starts again."""
    d, events = step(submitted(), cmd.RequestIntakeSupplement(
        reason="Thiếu bản sao CCCD", documents=("Bản sao CCCD",)),
        datetime(2026, 11, 30, 8, 30, tzinfo=VN))
    assert [e.event_type for e in events] == ["IntakeSupplementRequested"]
    assert d.state is DossierState.AWAITING_INTAKE_SUPPLEMENT and d.state.status_code == 5
    assert d.due_at is None and d.paused_at is None and d.intake_supplement_requests == 1
    with pytest.raises(InvalidTransition):  # accepted only once the supplement is in
        decide(d, cmd.AcceptSubmission(), datetime(2026, 11, 30, 9, 0, tzinfo=VN))
    complete_at = datetime(2026, 12, 1, 10, 0, tzinfo=VN)
    d, _ = step(d, cmd.ProvideIntakeSupplement(documents=("Bản sao CCCD",)), complete_at)
    assert d.state is DossierState.SUBMITTED and d.counted_from == complete_at
    d = accept(d, datetime(2026, 12, 1, 14, 0, tzinfo=VN), cal)
    assert d.due_at == datetime(2026, 12, 4, 17, 0, tzinfo=VN)
    assert d.legal_due_at == d.due_at and d.pauses == () and d.supplement_requests == 0
    # The pause reading (count from the submission, add the wait back) would differ.
    assert d.due_at != due_at(cal, SUBMITTED_AT, 3, TimeUnit.WORKING_DAYS)


def test_a_supplement_during_processing_still_pauses(cal: Calendar) -> None:
    """After acceptance the existing rule stays: the request pauses the clock (code 5)."""
    d = accept(submitted(), datetime(2026, 11, 30, 9, 0, tzinfo=VN), cal)
    d, _ = step(d, cmd.RequestSupplement(reason="thiếu"),
                datetime(2026, 11, 30, 10, 0, tzinfo=VN))
    assert d.state is DossierState.AWAITING_SUPPLEMENT and d.paused_at is not None
    assert d.sla_status(datetime(2026, 12, 30, tzinfo=VN)) is SlaStatus.PAUSED


def test_refusal_at_intake_is_code_3_and_ends_the_dossier() -> None:
    """From submitted or awaiting an intake supplement; a refusal after acceptance stays 10."""
    at = SUBMITTED_AT + timedelta(hours=2)
    d, events = step(submitted(), cmd.RefuseAtIntake(reason="Không thuộc thẩm quyền"), at)
    assert [e.event_type for e in events] == ["SubmissionRefused"]
    assert d.state is DossierState.REFUSED_AT_INTAKE
    assert d.state.status_code == REFUSAL_AT_INTAKE_CODE == 3
    assert DossierState.REFUSED.status_code == REFUSAL_AFTER_ACCEPTANCE_CODE == 10
    assert d.state.is_terminal and d.ended(at) and d.received_at is None
    assert d.timeliness is None and d.outcome_reason == "Không thuộc thẩm quyền"
    waiting, _ = step(submitted(), cmd.RequestIntakeSupplement(reason="thiếu"), at)
    d, _ = step(waiting, cmd.RefuseAtIntake(reason="Quá hạn bổ sung"), at)
    assert d.state is DossierState.REFUSED_AT_INTAKE
    with pytest.raises(InvalidTransition):
        decide(d, cmd.AcceptSubmission(), at)


def test_withdrawal_before_acceptance_gets_no_verdict() -> None:
    """The citizen may withdraw a submission (code 7, then the stop notice, code 8); never
    received, it is neither on time nor late."""
    at = SUBMITTED_AT + timedelta(hours=1)
    d, events = step(submitted(), cmd.WithdrawDossier(reason="Nộp nhầm", stop_notice=True), at)
    assert [e.event_type for e in events] == ["DossierWithdrawn", "ProcessingStopped"]
    assert d.state is DossierState.STOPPED and d.timeliness is None and d.received_at is None


def test_submitting_twice_or_after_a_receipt_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        decide(submitted(), cmd.SubmitOnline(
            code=CODE, unit_code="000.21.39.H39", procedure_code=PROCEDURE,
            applicant_name="x"), SUBMITTED_AT)


def test_online_intake_events_round_trip_through_their_payload() -> None:
    """The new events are registered and survive the stored form."""
    at = SUBMITTED_AT
    for e in [ev.DossierSubmitted(at=at, code=CODE, unit_code="u", procedure_code="p",
                                  applicant_name="a", documents=("x",)),
              ev.IntakeSupplementRequested(at=at, reason="r", documents=("d",)),
              ev.IntakeSupplementReceived(at=at, note="n"),
              ev.SubmissionAccepted(at=at, counted_from=at - timedelta(days=1)),
              ev.SubmissionRefused(at=at, reason="r")]:
        assert ev.from_payload(e.event_type, ev.to_payload(e)) == e


def test_accepted_dossier_is_judged_against_the_restarted_due_time(cal: Calendar) -> None:
    """A result ready on the restarted due date is on time; the day after, late."""
    d, _ = step(submitted(), cmd.RequestIntakeSupplement(reason="thiếu"),
                datetime(2026, 11, 30, 8, 30, tzinfo=VN))
    d, _ = step(d, cmd.ProvideIntakeSupplement(), datetime(2026, 12, 1, 10, 0, tzinfo=VN))
    d = accept(d, datetime(2026, 12, 1, 14, 0, tzinfo=VN), cal)
    assert d.verdict_at(datetime(2026, 12, 4, 16, 0, tzinfo=VN)) is Timeliness.ON_TIME
    assert d.verdict_at(datetime(2026, 12, 7, 9, 0, tzinfo=VN)) is Timeliness.LATE
