"""Transfers between units and the wait for payment (issue 22 items 3-4) in the pure domain,
on known dates: the forwarding setting, the 02-working-day return limit, who holds the
dossier after each event, and the code 6 pause moving the due time like a supplement's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import Catalog
from domain.deadlines import compute, deadline_reason, request_for
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.errors import InvalidCommand, InvalidTransition
from domain.states import Channel, DossierState, SlaStatus
from domain.transfers import Forwarding, forwarded_at, transfer, transfer_terms
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOME, OTHER, THIRD = "000.21.39.H39", "000.22.39.H39", "000.23.39.H39"
PROCEDURE = "1.004222"  # 7 working days (Luật Cư trú 2020 art. 22(3))


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=VN)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def run(cal: Calendar, catalog: Catalog, d: Dossier, command: cmd.Command,
        now: datetime) -> Dossier:
    """As the workflow runs a command: decide, a new due time where called for, fold."""
    events = decide(d, command, now)
    state = fold(events, d)
    reason = deadline_reason(command, events)
    if reason is not None:
        r = compute(cal, catalog, request_for(state))
        state = fold(decide(state, cmd.SetDeadline(reason=reason, **r.terms()), now), state)
    return state


def received(cal: Calendar, catalog: Catalog, now: datetime) -> Dossier:
    return run(cal, catalog, Dossier(), cmd.ReceiveDossier(
        code=f"{HOME}-250707-0001", unit_code=HOME, procedure_code=PROCEDURE,
        channel=Channel.COUNTER, applicant_name="Nguyễn Văn An"), now)


# -- the forwarding setting -------------------------------------------------------------------

@pytest.mark.parametrize(("now", "expected"), [
    (at(11, 14, 59), None),  # Friday before the cut-off: at once
    (at(11, 15, 0), None),  # "sau 15 giờ": 15:00 itself is not after it
    (at(11, 15, 1), at(14, 7, 30)),  # Friday after 15:00: Monday's opening
    (at(12, 10, 0), at(14, 7, 30)),  # Saturday: Monday's opening
    (at(1, 16, 0, month=9), at(3, 7, 30, month=9)),  # 1 Sep (holiday eve) -> after 2 Sep
])
def test_next_morning_forwarding(cal: Calendar, now: datetime,
                                 expected: datetime | None) -> None:
    """Cao Bằng 2028/QĐ-UBND: forwarded after 15:00 (or on a day off), the other unit's share
    starts at the next working day's opening; before it, at once."""
    assert forwarded_at(cal, now, Forwarding.NEXT_MORNING) == expected


def test_at_once_forwarding_and_the_return_limit(cal: Calendar) -> None:
    """Bắc Ninh 1490/QĐ-UBND: at once whatever the hour; the unfit dossier goes back within
    02 working days counted from the day after (Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a))."""
    assert forwarded_at(cal, at(11, 16, 0), Forwarding.AT_ONCE) is None
    # Thursday 10:00 -> day one Friday 11, day two Monday 14: its close of office.
    assert transfer_terms(cal, at(10, 10, 0), Forwarding.AT_ONCE) == (None, at(14, 17, 0))
    # Friday 16:00 under next_morning: counted from Monday 07:30, so Tuesday 15 and
    # Wednesday 16 are the two days.
    assert transfer_terms(cal, at(11, 16, 0), Forwarding.NEXT_MORNING) == (
        at(14, 7, 30), at(16, 17, 0))


# -- who holds the dossier ------------------------------------------------------------------

def test_holding_unit_through_transfer_return_and_result(cal: Calendar,
                                                         catalog: Catalog) -> None:
    """The receiving unit never changes; the holder follows each transfer, a return goes back
    to the sender, and the result ready sends the dossier back to the receiving unit."""
    d = received(cal, catalog, at(10, 9, 0))
    assert (d.unit_code, d.holding_unit_code) == (HOME, HOME)
    d = run(cal, catalog, d, cmd.AssignOfficer(officer="o-home"), at(10, 9, 5))
    d = run(cal, catalog, d, cmd.TransferDossier(unit_code=OTHER, reason="thẩm định",
                                                 return_by=at(14, 17, 0)), at(10, 10, 0))
    assert (d.unit_code, d.holding_unit_code, d.assignee) == (HOME, OTHER, None)
    d = run(cal, catalog, d, cmd.TransferDossier(unit_code=THIRD, reason="thuế"),
            at(10, 11, 0))
    assert d.transferred_from == (HOME, OTHER)
    late = decide(d, cmd.ReturnTransfer(reason="không đủ"), at(20, 9, 0))
    assert isinstance(late[0], ev.TransferReturned)
    assert (late[0].from_unit, late[0].to_unit, late[0].in_time) == (THIRD, OTHER, True)
    d = fold(late, d)
    assert d.holding_unit_code == OTHER
    d = run(cal, catalog, d, cmd.AssignOfficer(officer="o-other"), at(21, 8, 0))
    d = run(cal, catalog, d, cmd.StartProcessing(), at(21, 8, 5))
    done = decide(d, cmd.CompleteProcessing(summary="xong"), at(21, 9, 0))
    assert [type(e) for e in done] == [ev.ResultReady, ev.ResultSentBack]
    d = fold(done, d)
    assert (d.state, d.holding_unit_code, d.transferred_from) == (DossierState.READY, HOME, ())


def test_a_late_return_is_recorded_as_late(cal: Calendar, catalog: Catalog) -> None:
    """Returned after its 02 working days: accepted (the text sets a limit, not a refusal:
    our reading) and marked late."""
    d = received(cal, catalog, at(10, 9, 0))
    d = run(cal, catalog, d, cmd.TransferDossier(unit_code=OTHER, reason="x",
                                                 return_by=at(14, 17, 0)), at(10, 10, 0))
    [returned] = decide(d, cmd.ReturnTransfer(reason="thiếu"), at(15, 8, 0))
    assert isinstance(returned, ev.TransferReturned) and not returned.in_time


def test_transfer_refusals(cal: Calendar, catalog: Catalog) -> None:
    """To the unit already holding it, with an instant before now, or returning a dossier never
    transferred: refused with the field or state named; the result of a dossier never
    transferred causes no extra event (recorded histories decide as before)."""
    d = received(cal, catalog, at(10, 9, 0))
    with pytest.raises(InvalidCommand) as same:
        transfer(d, HOME, "x", at(10, 10, 0))
    assert same.value.details["field"] == "unit_code"
    with pytest.raises(InvalidCommand) as early:
        transfer(d, OTHER, "x", at(10, 10, 0), counted_from=at(10, 9, 30))
    assert early.value.details["field"] == "counted_from"
    with pytest.raises(InvalidTransition):
        decide(d, cmd.ReturnTransfer(reason="x"), at(10, 10, 0))
    d = run(cal, catalog, d, cmd.AssignOfficer(officer="o"), at(10, 9, 5))
    d = run(cal, catalog, d, cmd.StartProcessing(), at(10, 9, 6))
    assert [type(e) for e in decide(d, cmd.CompleteProcessing(summary="x"), at(10, 10, 0))] \
        == [ev.ResultReady]


# -- the wait for payment (code 6) --------------------------------------------------------

def test_the_payment_pause_on_known_dates(cal: Calendar, catalog: Catalog) -> None:
    """Received Mon 7 Jul 2025 09:00 (7 working days: due Wed 16 Jul 17:00); the tax notice
    Thu 10 Jul 09:00 stops the clock (code 6, paused, no alert pending); proof of payment Tue
    15 Jul 09:00: 22 h 30 of office time waited (6 + 7.5 + 7.5 + 1.5) = three 7 h 30 days, so
    the second appointment is Mon 21 Jul 17:00 (Đồng Tháp 138/2025/QĐ-UBND art. 5(3))."""
    d = received(cal, catalog, at(7, 9, 0))
    assert d.due_at == at(16, 17, 0)
    d = run(cal, catalog, d, cmd.AssignOfficer(officer="o"), at(7, 10, 0))
    d = run(cal, catalog, d, cmd.StartProcessing(), at(7, 10, 5))
    d = run(cal, catalog, d, cmd.RequestPayment(notice="Thông báo thuế số 1", amount=1_500_000),
            at(10, 9, 0))
    assert (d.state, d.state.status_code) == (DossierState.AWAITING_PAYMENT, 6)
    assert not d.clock_running and d.pending_alert(legal_due=True) is None
    # Long past the first due time, still paused, never overdue while waiting.
    assert d.sla_status(at(18, 9, 0)) is SlaStatus.PAUSED
    with pytest.raises(InvalidTransition):  # no second notice while waiting
        decide(d, cmd.RequestPayment(notice="x"), at(11, 9, 0))
    d = run(cal, catalog, d, cmd.ReceivePayment(amount=1_500_000, reference="CT-1"),
            at(15, 9, 0))
    assert d.state is DossierState.PROCESSING
    assert (d.due_at, d.legal_due_at, d.deadline_version) == (at(21, 17, 0), at(21, 17, 0), 2)


def test_amounts_must_be_positive(cal: Calendar, catalog: Catalog) -> None:
    """A notice, payment or fee of zero or less is refused, naming the amount."""
    d = received(cal, catalog, at(7, 9, 0))
    for command in (cmd.RequestPayment(notice="x", amount=0), cmd.RecordFee(amount=-1)):
        with pytest.raises(InvalidCommand) as refused:
            decide(d, command, at(7, 10, 0))
        assert refused.value.details["field"] == "amount"
    fee = run(cal, catalog, d, cmd.RecordFee(amount=50_000, reference="BL-1"), at(7, 10, 0))
    assert fee.fees_paid == 50_000


# -- transfers made by the procedure's steps (patch `step-transfer-v1`) ----------------------

NGHE_AN = "2.002755"  # steps 7-15: the provincial department's share (000.00.30.H40)
DEPARTMENT = "000.00.30.H40"


def _walked_to_step_6(catalog: Catalog, now: datetime) -> Dossier:
    from domain import steps

    d = fold(decide(Dossier(), cmd.ReceiveDossier(
        code=f"{HOME}-250707-0002", unit_code=HOME, procedure_code=NGHE_AN,
        channel=Channel.COUNTER, applicant_name="Nguyễn Văn An"), now))
    proc = catalog.procedure(NGHE_AN)
    assert proc.steps is not None
    d = fold(decide(d, cmd.BeginSteps(plan=steps.plan_for(proc.steps, HOME, carry_over=False)),
                    now), d)
    for _ in range(5):
        d = fold(decide(d, cmd.HandOverStep(transfer_by_steps=True), now), d)
    assert d.current_step == 5 and d.holding_unit_code == HOME
    return d


def test_a_hand_over_into_another_unit_s_step_transfers_on_known_dates(
        cal: Calendar, catalog: Catalog) -> None:
    """Friday 11 Jul 2025 16:00, the commune's records clerk hands step 6 on to step 7 (the
    department's) under next_morning forwarding: the department holds the dossier, its share
    counts from Monday 07:30 and its return limit is Wednesday 16 Jul, 17:00."""
    now = at(11, 16, 0)
    d = _walked_to_step_6(catalog, at(11, 8, 0))
    counted_from, return_by = transfer_terms(cal, now, Forwarding.NEXT_MORNING)
    events = decide(d, cmd.HandOverStep(transfer_by_steps=True, counted_from=counted_from,
                                        return_by=return_by), now)
    assert [type(e).__name__ for e in events] == ["StepHandedOver", "DossierTransferred"]
    moved = events[1]
    assert isinstance(moved, ev.DossierTransferred)
    assert (moved.from_unit, moved.to_unit) == (HOME, DEPARTMENT)
    assert (moved.counted_from, moved.return_by) == (at(14, 7, 30), at(16, 17, 0))
    assert moved.reason.startswith("Bước 7 (Kiểm tra, hướng dẫn")
    after = fold(events, d)
    assert (after.unit_code, after.holding_unit_code) == (HOME, DEPARTMENT)
    # Within the department (step 7 -> 8): no further transfer.
    assert [type(e).__name__ for e in decide(after, cmd.HandOverStep(transfer_by_steps=True),
                                              at(14, 9, 0))] == ["StepHandedOver"]
    # A return on Thursday 17 Jul is after the limit: accepted, recorded as late (our reading).
    late = decide(after, cmd.ReturnTransfer(reason="thiếu"), at(17, 8, 0))
    assert isinstance(late[0], ev.TransferReturned) and late[0].in_time is False
    on_time = decide(after, cmd.ReturnTransfer(reason="thiếu"), at(16, 17, 0))
    assert isinstance(on_time[0], ev.TransferReturned) and on_time[0].in_time is True


def test_a_send_back_into_the_commune_s_step_brings_the_dossier_back(
        catalog: Catalog) -> None:
    d = _walked_to_step_6(catalog, at(11, 8, 0))
    d = fold(decide(d, cmd.HandOverStep(transfer_by_steps=True), at(11, 9, 0)), d)
    assert d.holding_unit_code == DEPARTMENT
    events = decide(d, cmd.SendBackStep(reason="chưa đóng dấu", transfer_by_steps=True),
                    at(11, 10, 0))
    assert [type(e).__name__ for e in events] == ["StepSentBack", "DossierTransferred"]
    back = fold(events, d)
    assert back.holding_unit_code == HOME and back.current_step == 5


def test_without_the_patch_the_steps_transfer_nothing(catalog: Catalog) -> None:
    """Histories recorded before `step-transfer-v1` decide as they did."""
    d = _walked_to_step_6(catalog, at(11, 8, 0))
    events = decide(d, cmd.HandOverStep(), at(11, 9, 0))
    assert [type(e).__name__ for e in events] == ["StepHandedOver"]
    assert fold(events, d).holding_unit_code == HOME
