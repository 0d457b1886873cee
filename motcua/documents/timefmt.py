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



# How each counting rule reads for a citizen (issue 23 item 5: the rule's identifier, e.g.
# `civil_code/working_days@v2`, stays in the API; papers and screens say it in a sentence).
_RULE_SENTENCES: dict[tuple[str, str], str] = {
    ("civil_code", "working_days"):
        "tính từ ngày làm việc kế tiếp ngày tiếp nhận, đủ {n} ngày làm việc (không tính thứ "
        "Bảy, Chủ nhật, ngày nghỉ lễ, tết); trả kết quả trong giờ làm việc của ngày cuối cùng",
    ("same_time_of_day", "working_days"):
        "tính từ ngày làm việc kế tiếp ngày tiếp nhận, đủ {n} ngày làm việc (không tính thứ "
        "Bảy, Chủ nhật, ngày nghỉ lễ, tết); hẹn trả vào cùng giờ tiếp nhận của ngày cuối cùng",
    ("civil_code", "calendar_days"):
        "tính từ ngày kế tiếp ngày tiếp nhận, đủ {n} ngày kể cả ngày nghỉ; nếu ngày cuối cùng "
        "là ngày nghỉ thì hẹn trả vào ngày làm việc kế tiếp",
    ("civil_code", "months"):
        "{n} tháng tính từ ngày kế tiếp ngày tiếp nhận, đến ngày tương ứng của tháng cuối "
        "cùng; nếu ngày đó là ngày nghỉ thì hẹn trả vào ngày làm việc kế tiếp",
    ("civil_code", "working_hours"):
        "{n} giờ làm việc tính từ thời điểm tiếp nhận, chỉ tính giờ hành chính",
    ("civil_code", "same_day"):
        "trả kết quả trong ngày tiếp nhận; hồ sơ tiếp nhận sau 15 giờ được trả trong ngày "
        "làm việc kế tiếp",
}
_RULE_V1_SENTENCE = ("hạn đã hẹn theo cách tính trước khi đính chính tháng 11/2026 (hồ sơ nhận "
                     "ngoài giờ làm việc hoặc ngày nghỉ được tính từ ngày làm việc kế tiếp), "
                     "được giữ nguyên như đã hẹn")


def rule_sentence(rule: str, unit: str, amount: int, version: int) -> str:
    """How the due time was counted, as a sentence for the citizen, e.g. 'tính từ ngày làm
    việc kế tiếp ngày tiếp nhận, đủ 07 ngày làm việc …'. Calendar days and months always end at
    the close of office (`domain.clock.rule_name` names them civil_code); empty for no rule."""
    if not rule or not unit:
        return ""
    if version < 2:
        return _RULE_V1_SENTENCE
    if unit != TimeUnit.WORKING_DAYS.value:
        rule = "civil_code"
    text = _RULE_SENTENCES.get((rule, unit))
    return text.format(n=f"{amount:02d}") if text else ""
