"""The one-stop shop tells the citizen of a dossier returned as unfit (Đồng Tháp
138/2025/QĐ-UBND art. 3(4)(a): within 01 working day): the notice made when the dossier comes
back to the unit that received it; none for a return between two other units."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain import events as ev
from domain.states import Channel
from motcua.notify.notices import environment, notice_of, render

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOME, OTHER, THIRD = "000.21.39.H39", "000.22.39.H39", "000.23.39.H39"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=VN)
FIRST = ev.DossierReceived(at=AT, code=f"{HOME}-260302-0001", unit_code=HOME,
                           procedure_code="1.004222", channel=Channel.COUNTER,
                           applicant_name="Nguyễn Văn An", notify_by=("sms",),
                           applicant_phone="0912345678")


def test_a_return_to_the_receiving_unit_tells_the_citizen_why() -> None:
    returned = ev.TransferReturned(at=AT, from_unit=OTHER, to_unit=HOME,
                                   reason="Thiếu văn bản thẩm định", in_time=True)
    notice = notice_of(returned, FIRST, VN, "")
    assert notice is not None
    kind, ctx = notice
    assert kind == "transfer_returned" and ctx["reason"] == "Thiếu văn bản thẩm định"
    subject, text = render(environment(), kind, ctx)
    assert FIRST.code in text and "Thiếu văn bản thẩm định" in text
    assert "trả lại" in subject


def test_a_return_between_two_other_units_makes_no_notice() -> None:
    between = ev.TransferReturned(at=AT, from_unit=THIRD, to_unit=OTHER, reason="x",
                                  in_time=True)
    assert notice_of(between, FIRST, VN, "") is None
