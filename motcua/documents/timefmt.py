"""Vietnamese wording of instants, durations, channels and step verdicts on the documents.

Dates follow the administrative-document convention (Decree 30/2020/NĐ-CP): a day below 10 and
the months January and February get a leading zero, e.g. "ngày 05 tháng 01 năm 2026" but
"ngày 12 tháng 4 năm 2025".
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from domain.catalog import TimeUnit
from domain.states import Channel, Timeliness
from motcua.catalog.calendar import office_zone

VERDICT_LABELS: dict[Timeliness, str] = {
    Timeliness.EARLY: "Trước hạn",
    Timeliness.ON_TIME: "Đúng hạn",
    Timeliness.LATE: "Quá hạn",
}

CHANNEL_LABELS: dict[Channel, str] = {
    Channel.COUNTER: "Trực tiếp",
    Channel.ONLINE: "Trực tuyến",
    Channel.POSTAL: "Qua dịch vụ bưu chính công ích",
}

_UNIT_WORDS: dict[str, str] = {
    TimeUnit.WORKING_DAYS: "ngày làm việc",
    TimeUnit.CALENDAR_DAYS: "ngày",
    TimeUnit.WORKING_HOURS: "giờ làm việc",
    TimeUnit.MONTHS: "tháng",
}


def in_vietnam(at: datetime, tz: tzinfo | None = None) -> datetime:
    """`at` in the office time zone `tz` (the calendar's; default: the domain's default office
    zone); naive datetimes are refused, not guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: documents need a UTC offset")
    return at.astimezone(tz or office_zone())


def vn_date(at: datetime, tz: tzinfo | None = None) -> str:
    """'ngày 12 tháng 4 năm 2025' for the office date of `at` (in `tz`)."""
    local = in_vietnam(at, tz)
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    return f"ngày {local.day:02d} tháng {month} năm {local.year}"


def vn_time(at: datetime, tz: tzinfo | None = None) -> str:
    """'08 giờ 30 phút, ngày 12 tháng 4 năm 2025' for `at` in office time (in `tz`)."""
    local = in_vietnam(at, tz)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {vn_date(local, tz)}"


def vn_duration(amount: int, unit: str) -> str:
    """A processing time as printed, e.g. '05 ngày làm việc', 'Trong ngày'."""
    if unit == TimeUnit.SAME_DAY:
        return "Trong ngày"
    words = _UNIT_WORDS.get(unit, unit)
    return f"{amount:02d} {words}"

