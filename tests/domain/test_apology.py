"""An apology does not make a late dossier on time (issue 11 point 5), and a withdrawal is
judged like any end of processing (point 6). Pure domain: decide and fold."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain import commands as cmd
from domain.calendar import Calendar
from domain.clock import add_working_time
from domain.contracts import DeadlineRequest, Pause
from domain.deadlines import compute
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.states import AlertKind, Channel, SlaStatus, Timeliness
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2025, 3, 3, 9, 0, tzinfo=VN)      # Monday
DUE = datetime(2025, 3, 5, 17, 0, tzinfo=VN)          # legal due, Wednesday
SOON = datetime(2025, 3, 4, 17, 0, tzinfo=VN)         # one working day before
NEW = datetime(2025, 3, 12, 17, 0, tzinfo=VN)         # the apology's new appointment


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, 0, tzinfo=VN)


def deadline(due: datetime, soon: datetime, reason: str,
             legal: datetime | None) -> cmd.SetDeadline:
    return cmd.SetDeadline(due_at=due, due_soon_at=soon, reason=reason, rule="civil_code",
                           amount=2, unit="working_days", calendar_version="c",
                           catalog_version="k", rule_version=2, rule_source="s",
                           legal_due_at=legal)


def run(state: Dossier, command: cmd.Command, now: datetime) -> Dossier:
    return fold(decide(state, command, now), state)


def received() -> Dossier:
    s = run(Dossier(), cmd.ReceiveDossier(
        code="000.21.39.H39-250303-0001", unit_code="000.21.39.H39", procedure_code="1.004837",
        channel=Channel.COUNTER, applicant_name="Nguyễn Văn An"), RECEIVED)
    s = run(s, deadline(DUE, SOON, "receipt", DUE), RECEIVED)
    s = run(s, cmd.AssignOfficer(officer="o-1"), at(3, 10))
    return run(s, cmd.StartProcessing(), at(3, 11))


def extended(when: datetime) -> Dossier:
    s = run(received(), cmd.ExtendDeadline(reason="cần xác minh", new_due_at=NEW), when)
    return run(s, deadline(NEW, at(11, 17), "extension", DUE), when)


def test_finishing_by_the_new_appointment_is_still_late() -> None:
    """Judged against the due time without the extension: late, though before the new
    appointment; the new appointment is kept apart."""
    s = extended(at(4, 9))
    assert s.due_at == NEW and s.legal_due_at == DUE and s.appointment_at == NEW
    done = run(s, cmd.CompleteProcessing(summary="xong"), at(10))
    assert done.timeliness is Timeliness.LATE
    assert s.sla_status(at(6)) is SlaStatus.OVERDUE  # late (with an apology) after DUE
    ready_early = run(s, cmd.CompleteProcessing(summary="xong"), at(5, 16))
    assert ready_early.timeliness is Timeliness.ON_TIME


def test_apology_after_the_last_moment_is_accepted_and_flagged_late() -> None:
    """Sent later than one working day before the due time: recorded, in_time false."""
    on_time = decide(received(), cmd.ExtendDeadline(reason="x", new_due_at=NEW), at(4, 9))
    late = decide(received(), cmd.ExtendDeadline(reason="x", new_due_at=NEW), at(5, 9))
    assert on_time[0].in_time is True  # type: ignore[attr-defined]
    assert late[0].in_time is False  # type: ignore[attr-defined]


def test_alerts_at_the_legal_due_and_at_the_new_appointment() -> None:
    """New rule: overdue (not without-apology) at the legal due time, then due soon and
    overdue for the new appointment; each once. The first release's rule is kept for old
    histories (everything at the deadline in force)."""
    s = extended(at(4, 9))
    fired = []
    for _ in range(6):
        pending = s.pending_alert(legal_due=True)
        if pending is None:
            break
        kind, when = pending
        fired.append((kind, when))
        s = run(s, cmd.RaiseAlert(kind=kind, all_due=True, legal_due=True), when)
    assert fired == [(AlertKind.OVERDUE, DUE),
                     (AlertKind.DUE_SOON, at(11, 17)),
                     (AlertKind.APPOINTMENT_OVERDUE, NEW)]
    assert extended(at(4, 9)).pending_alert() == (AlertKind.DUE_SOON, at(11, 17))


def test_withdrawal_is_judged_by_its_date() -> None:
    """Decision 766: a withdrawal is an end of processing, end <= appointment (not always on
    time as in the first release)."""
    assert run(received(), cmd.WithdrawDossier(reason="rút"), at(4)).timeliness \
        is Timeliness.EARLY
    assert run(received(), cmd.WithdrawDossier(reason="rút"), at(7)).timeliness \
        is Timeliness.LATE


def test_compute_returns_the_legal_due_beside_the_appointment(cal: Calendar) -> None:
    """After an apology the worker returns the appointment (with later pauses) as the due time
    in force and the legal due time (receipt + every pause) beside it."""
    catalog = load_catalog()
    pause = Pause(start=at(10, 9), end=at(10, 10))
    before = Pause(start=at(3, 14), end=at(3, 15))
    result = compute(cal, catalog, DeadlineRequest(
        procedure_code="1.004837", received_at=RECEIVED, pauses=[before, pause],
        extended_due_at=NEW, extended_at=at(4, 9)))
    plain = compute(cal, catalog, DeadlineRequest(
        procedure_code="1.004837", received_at=RECEIVED, pauses=[before, pause]))
    assert result.legal_due_at == plain.due_at == plain.legal_due_at
    # only the pause after the apology may move the appointment: under rule v3 its hour of
    # office time is less than a working day and moves nothing (issue 23 item 8); under v2 it
    # moved the appointment by that hour
    assert result.due_at == NEW
    v2 = compute(cal, catalog, DeadlineRequest(
        procedure_code="1.004837", received_at=RECEIVED, pauses=[before, pause],
        extended_due_at=NEW, extended_at=at(4, 9), rule_version=2))
    assert v2.due_at == add_working_time(cal, NEW, timedelta(hours=1))
