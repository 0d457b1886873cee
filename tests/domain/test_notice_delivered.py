"""A citizen's notice delivered is recorded once per delivery, in any state (issue 25), and
the apology counts for the overdue-without-apology alert once it reached the citizen. Pure
domain: decide and fold."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.errors import InvalidCommand
from domain.states import Channel, DossierState

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2025, 3, 4, 9, 0, tzinfo=VN)
NEW = datetime(2025, 3, 12, 17, 0, tzinfo=VN)


def run(state: Dossier, command: cmd.Command) -> Dossier:
    return fold(decide(state, command, AT), state)


def dossier(notify_by: tuple[str, ...]) -> Dossier:
    s = run(Dossier(), cmd.ReceiveDossier(
        code="000.21.39.H39-250303-0001", unit_code="000.21.39.H39", procedure_code="1.004837",
        channel=Channel.COUNTER, applicant_name="Nguyễn Văn An", applicant_phone="0912345678",
        notify_by=notify_by))
    return run(s, cmd.SetDeadline(
        due_at=datetime(2025, 3, 5, 17, tzinfo=VN), due_soon_at=datetime(2025, 3, 4, 17, tzinfo=VN),
        reason="receipt", rule="civil_code", amount=2, unit="working_days",
        calendar_version="c", catalog_version="k", rule_version=2, rule_source="s"))


def delivered(kind: str, key: str = "e1:sms:extension") -> cmd.RecordNoticeDelivery:
    return cmd.RecordNoticeDelivery(delivery_id=key, source_event_id="e1", kind=kind,
                                    channel="sms", delivered_at=AT, actor="dispatcher")


def test_once_per_delivery_with_no_personal_data() -> None:
    s = dossier(("sms",))
    [event] = decide(s, delivered("receipt"), AT)
    assert isinstance(event, ev.NoticeDelivered)
    assert "0912345678" not in str(ev.to_payload(event))
    s = fold([event], s)
    assert decide(s, delivered("receipt"), AT) == []  # the same delivery reported again
    assert len(decide(s, delivered("receipt", key="e1:email:receipt"), AT)) == 1


def test_recorded_also_after_the_end() -> None:
    s = run(dossier(("sms",)), cmd.RefuseDossier(reason="không thuộc thẩm quyền"))
    assert s.state is DossierState.REFUSED and s.ended(AT)
    assert len(decide(s, delivered("refusal"), AT)) == 1


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        decide(dossier(("sms",)), dataclasses.replace(delivered("receipt"), channel="fax"), AT)


def test_the_apology_counts_once_delivered_when_a_channel_was_chosen() -> None:
    """Recorded but not delivered: not yet; delivered: from that event. Another kind's
    delivery does not count."""
    s = run(dossier(("sms",)), cmd.ExtendDeadline(reason="cần xác minh", new_due_at=NEW))
    assert s.extended and s.apology_in_time and not s.apology_reached_citizen
    s = run(s, delivered("receipt", key="e0:sms:receipt"))
    assert not s.apology_reached_citizen and s.apology_delivered_at is None
    s = run(s, delivered("extension"))
    assert s.apology_reached_citizen and s.apology_delivered_at == AT


def test_without_a_channel_the_recorded_apology_counts() -> None:
    s = dossier(())
    assert not s.apology_reached_citizen
    s = run(s, cmd.ExtendDeadline(reason="cần xác minh", new_due_at=NEW))
    assert s.apology_reached_citizen
