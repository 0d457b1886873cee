"""Dossiers across units (liên thông) and the wait for fees and taxes: the rules of issue 22
items 3 and 4, pure like the rest of `domain.decide` (which dispatches to the handlers here).

Transfers (docs/legal-rules.md, "Transfers between units"):

* A leader of the unit holding the dossier hands it to another unit with a reason
  (`transfer`); the receiving unit (`Dossier.unit_code`) keeps seeing it, the new unit
  (`Dossier.holding_unit_code`) acts on it. The procedure's steps may hand it over too: the
  step code calls `transfer` with the unit the step belongs to.
* When the other unit's share starts is a setting (`forwarded_at`): at once (Bắc Ninh
  1490/QĐ-UBND: forwarded electronically at once) or, for a dossier forwarded after the
  cut-off (15:00), at the start of the next working day (Cao Bằng 2028/QĐ-UBND).
* The other unit may return an unfit dossier with its reason within 02 working days, and the
  one-stop shop tells the citizen within 01 working day (Đồng Tháp 138/2025/QĐ-UBND art.
  3(4)(a)): `return_by`, `citizen_notice_by`, recorded on the events; a late return is
  accepted and marked (`in_time`), our reading (the text sets the limit, not a refusal).
* The result goes back to the unit that received the dossier, which returns it to the
  citizen (Nghệ An 3783/QĐ-UBND art. 2(2)(d)): `result_sent_back`, with the result ready.

The wait for payment (national status code 6; Đồng Tháp 138/2025/QĐ-UBND art. 5(3): "two
appointments", the first when the tax notice is sent, the second counted from proof of
payment, the tax time not counted): `request_payment` stops the clock like a supplement
request, `receive_payment` resumes it and the due time moves by the office time waited
(`domain.deadlines`, the supplement pause machinery).
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.clock import next_office_instant
from domain.dossier import Dossier
from domain.errors import InvalidCommand, InvalidTransition

# Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a): "trong thời hạn 02 ngày làm việc" to return an
# unfit dossier; the one-stop shop tells the citizen within 01 working day.
RETURN_WORKING_DAYS = 2
CITIZEN_NOTICE_WORKING_DAYS = 1
# Cao Bằng 2028/QĐ-UBND: received after 15:00, forwarded at the start of the next working day.
FORWARD_CUTOFF = time(15, 0)


class Forwarding(StrEnum):
    """When a transferred dossier reaches the other unit (setting `MOTCUA_TRANSFER_FORWARDING`)."""

    AT_ONCE = "at_once"  # Bắc Ninh 1490/QĐ-UBND: electronically at once
    NEXT_MORNING = "next_morning"  # Cao Bằng 2028/QĐ-UBND: after 15:00, the next working day


def forwarded_at(cal: Calendar, now: datetime, mode: Forwarding,
                 cutoff: time = FORWARD_CUTOFF) -> datetime | None:
    """When the other unit's share starts for a dossier forwarded at `now`: None for at once
    (the transfer's own instant, which the workflow's clock gives), or under `NEXT_MORNING`
    the opening of the next working day when `now` is after `cutoff` ("sau 15 giờ") or on a
    day off."""
    if mode is Forwarding.AT_ONCE:
        return None
    local = cal.local(now)
    day = local.date()
    if cal.is_working_day(day) and local <= cal.at(day, cutoff):
        return None
    return cal.opening_at(cal.next_working_day(day))


def working_days_later(cal: Calendar, start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day counted from `start` (day one: the first working
    day after `start`'s date, as periods count; Civil Code art. 147(2)): the close of office
    on that day. Used for the return limit and the citizen's notice."""
    first = next_office_instant(cal, start)
    day = cal.nth_working_day_after(cal.local(first).date(), days)
    return cal.closing_at(day)


def transfer_terms(cal: Calendar, now: datetime, mode: Forwarding,
                   cutoff: time = FORWARD_CUTOFF) -> tuple[datetime | None, datetime]:
    """`(counted_from, return_by)` for a transfer at `now`: what the service (or a step's
    activity) puts into `TransferDossier` (`counted_from` None: at the transfer itself)."""
    start = forwarded_at(cal, now, mode, cutoff)
    return start, working_days_later(cal, start or now, RETURN_WORKING_DAYS)


def citizen_notice_by(cal: Calendar, now: datetime) -> datetime:
    """The one-stop shop's last moment to tell the citizen of a returned dossier."""
    return working_days_later(cal, now, CITIZEN_NOTICE_WORKING_DAYS)


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidCommand(f"{field} must not be empty", field=field)
    return text


def transfer(s: Dossier, to_unit: str, reason: str, now: datetime, *,
             counted_from: datetime | None = None,
             return_by: datetime | None = None) -> list[ev.Event]:
    """The events of handing `s` to `to_unit` at `now` (for `TransferDossier`, and for the
    procedure's steps when a step belongs to another unit). The caller checks the unit exists
    (the catalog is not the domain's)."""
    unit = _text(to_unit, "unit_code")
    if unit == s.holding_unit_code:
        raise InvalidCommand(f"the dossier is already held by {unit}", field="unit_code")
    start = counted_from or now
    if start < now:
        raise InvalidCommand("counted_from is before the transfer", field="counted_from")
    if return_by is not None and return_by < start:
        raise InvalidCommand("return_by is before counted_from", field="return_by")
    return [ev.DossierTransferred(at=now, from_unit=s.holding_unit_code, to_unit=unit,
                                  reason=_text(reason, "reason"), counted_from=start,
                                  return_by=return_by)]


def decide_transfer(s: Dossier, c: cmd.TransferDossier, now: datetime) -> list[ev.Event]:
    return transfer(s, c.unit_code, c.reason, now, counted_from=c.counted_from,
                    return_by=c.return_by)


def check_transferred(s: Dossier) -> None:
    """Only a dossier transferred to its holder can be returned (`decide.check_allowed`)."""
    if not s.transferred_from:
        raise InvalidTransition("the dossier was not transferred to this unit",
                                state=s.state_name)


def decide_return_transfer(s: Dossier, c: cmd.ReturnTransfer,
                           now: datetime) -> list[ev.Event]:
    in_time = s.transfer_return_by is None or now <= s.transfer_return_by
    return [ev.TransferReturned(at=now, from_unit=s.holding_unit_code,
                                to_unit=s.transferred_from[-1],
                                reason=_text(c.reason, "reason"), in_time=in_time,
                                citizen_notice_by=c.citizen_notice_by)]


def result_sent_back(s: Dossier, now: datetime) -> list[ev.Event]:
    """With the result ready: back to the receiving unit when another unit holds the dossier
    (Nghệ An 3783/QĐ-UBND art. 2(2)(d)); nothing for a dossier never transferred."""
    if s.holding_unit_code == s.unit_code:
        return []
    return [ev.ResultSentBack(at=now, from_unit=s.holding_unit_code, to_unit=s.unit_code)]


def _amount(value: int | None, field: str) -> int | None:
    # VND has no minor unit; a notice or payment of zero is not a payment.
    if value is not None and value <= 0:
        raise InvalidCommand(f"{field} must be a positive amount in VND", field=field)
    return value


def decide_request_payment(s: Dossier, c: cmd.RequestPayment,
                           now: datetime) -> list[ev.Event]:
    return [ev.PaymentRequested(at=now, notice=_text(c.notice, "notice"),
                                amount=_amount(c.amount, "amount"))]


def decide_receive_payment(s: Dossier, c: cmd.ReceivePayment,
                           now: datetime) -> list[ev.Event]:
    paused = int((now - s.paused_at).total_seconds()) if s.paused_at else 0
    return [ev.PaymentReceived(at=now, amount=_amount(c.amount, "amount"),
                               reference=c.reference, note=c.note,
                               paused_seconds=max(paused, 0))]


def decide_record_fee(s: Dossier, c: cmd.RecordFee, now: datetime) -> list[ev.Event]:
    if c.amount <= 0:
        raise InvalidCommand("amount must be a positive amount in VND", field="amount")
    return [ev.FeeRecorded(at=now, amount=c.amount, reference=c.reference)]

__all__ = ["CITIZEN_NOTICE_WORKING_DAYS", "FORWARD_CUTOFF", "RETURN_WORKING_DAYS",
           "Forwarding", "citizen_notice_by", "forwarded_at", "result_sent_back", "transfer",
           "transfer_terms", "working_days_later"]
