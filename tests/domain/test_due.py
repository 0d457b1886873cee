"""`domain.due`: one definition of the judged due instant and of due soon / overdue, with known
dates (Asia/Ho_Chi_Minh office; a legal due time at the close of office, 17:00)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import due
from domain.states import DossierState, SlaStatus

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LEGAL = datetime(2026, 12, 18, 17, 0, tzinfo=VN)  # Friday, close of office
SOON = datetime(2026, 12, 17, 17, 0, tzinfo=VN)  # one working day before
APPOINTMENT = datetime(2026, 12, 24, 16, 30, tzinfo=VN)  # an apology's new appointment
S = DossierState


def test_the_judged_due_instant_is_the_legal_one_never_the_apology() -> None:
    """Lai Châu 88/2025: an apology's new appointment leaves the dossier late."""
    assert due.judged_due(LEGAL, APPOINTMENT) == LEGAL
    assert due.judged_due(None, APPOINTMENT) == APPOINTMENT  # state from before legal dues
    assert due.judged_due(None, None) is None


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 12, 17, 16, 59, 59, tzinfo=VN), SlaStatus.ON_TRACK),
    (SOON, SlaStatus.DUE_SOON),
    (datetime(2026, 12, 18, 16, 59, 59, 999999, tzinfo=VN), SlaStatus.DUE_SOON),
    (LEGAL, SlaStatus.OVERDUE),  # at the instant itself, whatever any timer did
    (datetime(2026, 12, 18, 10, 0, tzinfo=ZoneInfo("UTC")), SlaStatus.OVERDUE),  # 17:00 VN
    (datetime(2027, 1, 5, 8, 0, tzinfo=VN), SlaStatus.OVERDUE),
])
def test_status_at_known_instants(now: datetime, expected: SlaStatus) -> None:
    assert due.status_at(S.PROCESSING, LEGAL, SOON, now) is expected
    assert due.is_overdue(LEGAL, now) is (expected is SlaStatus.OVERDUE)


def test_status_by_state() -> None:
    """Paused while the citizen gathers papers, closed once the result is ready, on track
    without a due time (an online submission not accepted yet)."""
    late = datetime(2027, 1, 5, 8, 0, tzinfo=VN)
    assert due.status_at(S.AWAITING_SUPPLEMENT, LEGAL, SOON, late) is SlaStatus.PAUSED
    for closed in (S.READY, S.RETURNED, S.REFUSED, S.WITHDRAWN, S.STOPPED,
                   S.REFUSED_AT_INTAKE, None):
        assert due.status_at(closed, LEGAL, SOON, late) is SlaStatus.CLOSED
    assert due.status_at(S.SUBMITTED, None, None, late) is SlaStatus.ON_TRACK


def test_next_change_is_the_next_due_instant_after_now() -> None:
    """What the gauges' refresher waits for: due soon, then the judged due instant, then
    nothing the clock alone changes."""
    before = datetime(2026, 12, 16, 9, 0, tzinfo=VN)
    assert due.next_change(S.PROCESSING, LEGAL, SOON, before) == SOON
    assert due.next_change(S.PROCESSING, LEGAL, SOON, SOON) == LEGAL
    assert due.next_change(S.PROCESSING, LEGAL, SOON, LEGAL) is None
    assert due.next_change(S.AWAITING_SUPPLEMENT, LEGAL, SOON, before) is None
    assert due.next_change(S.READY, LEGAL, SOON, before) is None
    # Across the change, the status differs; just before it, it is the same as at `before`.
    for now in (before, SOON):
        at = due.next_change(S.PROCESSING, LEGAL, SOON, now)
        assert at is not None
        assert due.status_at(S.PROCESSING, LEGAL, SOON, at - timedelta(microseconds=1)) is \
            due.status_at(S.PROCESSING, LEGAL, SOON, now)
        assert due.status_at(S.PROCESSING, LEGAL, SOON, at) is not \
            due.status_at(S.PROCESSING, LEGAL, SOON, now)


def test_overdue_on_office_dates() -> None:
    """Biểu 06: in progress at the end of its due date counts overdue; a dossier whose
    supplement was asked for within time does not (the clock stopped); one asked for after
    the due time does."""
    assert due.overdue_from_day(LEGAL, None, VN) == date(2026, 12, 18)
    assert not due.overdue_on(LEGAL, None, date(2026, 12, 17), VN)
    assert due.overdue_on(LEGAL, None, date(2026, 12, 18), VN)
    # 23:30 UTC on the 17th is already the 18th in the office's zone.
    late_evening = datetime(2026, 12, 17, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert due.overdue_from_day(late_evening, None, VN) == date(2026, 12, 18)
    within = datetime(2026, 12, 16, 10, 0, tzinfo=VN)
    after = datetime(2026, 12, 21, 10, 0, tzinfo=VN)
    assert due.paused_within_time(within, LEGAL)
    assert due.overdue_from_day(LEGAL, within, VN) is None
    assert due.overdue_on(LEGAL, after, date(2026, 12, 21), VN)
    assert due.overdue_from_day(None, None, VN) is None


def test_reports_count_an_apologised_dossier_overdue_from_its_legal_due_date() -> None:
    """The report pre-aggregation used the appointment in force (after an apology, the new
    appointment) where the report's definition and the domain judge the legal due time."""
    from domain.dossier import Dossier
    from motcua.eventstore.reporting import overdue_from

    apologised = Dossier(state=S.PROCESSING, due_at=APPOINTMENT, legal_due_at=LEGAL,
                         extended=True, deadline_version=2)
    assert overdue_from(apologised, date(2026, 12, 1), None, VN) == date(2026, 12, 18)
    paused = Dossier(state=S.AWAITING_SUPPLEMENT, due_at=LEGAL, legal_due_at=LEGAL,
                     paused_at=datetime(2026, 12, 16, 10, 0, tzinfo=VN))
    assert overdue_from(paused, date(2026, 12, 1), None, VN) is None
    assert overdue_from(paused, date(2026, 12, 1), date(2026, 12, 10), VN) == \
        date(2026, 12, 10)  # Decision 766's second request made it late that day
