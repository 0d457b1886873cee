"""The verification maximum as its own audited command (issue 11 point 4)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain.calendar import Calendar
from domain.catalog import NoVerificationMaximum, TimeUnit
from domain.clock import due_at
from domain.contracts import DeadlineRequest
from domain.deadlines import compute
from domain.decide import decide
from domain.dossier import fold
from domain.errors import InvalidTransition
from domain.states import Channel
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2025, 7, 7, 10, 0, tzinfo=VN)


def test_compute_counts_the_maximum(cal: Calendar) -> None:
    """Decree 120/2025: marriage with a foreign element 05 working days, up to 10."""
    catalog = load_catalog()
    base = compute(cal, catalog, DeadlineRequest(procedure_code="2.000806",
                                                 received_at=RECEIVED))
    longer = compute(cal, catalog, DeadlineRequest(procedure_code="2.000806",
                                                   received_at=RECEIVED, verification=True))
    assert base.due_at == due_at(cal, RECEIVED, 5, TimeUnit.WORKING_DAYS)
    assert longer.due_at == due_at(cal, RECEIVED, 10, TimeUnit.WORKING_DAYS)
    assert (longer.amount, longer.unit) == (10, "working_days")
    with pytest.raises(NoVerificationMaximum):
        compute(cal, catalog, DeadlineRequest(procedure_code="1.004222", received_at=RECEIVED,
                                              verification=True))


def test_recorded_once_with_its_reason() -> None:
    s = fold(decide(fold([]), cmd.ReceiveDossier(
        code="000.21.39.H39-250707-0001", unit_code="000.21.39.H39", procedure_code="2.000806",
        channel=Channel.COUNTER, applicant_name="A"), RECEIVED))
    events = decide(s, cmd.RequireVerification(reason="xác minh"), RECEIVED)
    assert events[0].event_type == "VerificationRequired"
    s = fold(events, s)
    assert s.verification_required
    with pytest.raises(InvalidTransition, match="already"):
        decide(s, cmd.RequireVerification(reason="lần nữa"), RECEIVED)
