"""Supplement pauses told in minutes that agree with how far they moved the due time (issue 23
item 8): the office time each pause counted (the wall-clock wait beside it), and what their
total did to the due time under the dossier's counting rule (`domain.clock.counted_pause`:
rule v3 counts whole working days for a day-based period, whole minutes for working hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.calendar import Calendar
from domain.clock import PAUSE_IN_WORKING_DAYS, counted_pause, working_time_between
from domain.contracts import Pause


def vn_span(span: timedelta) -> str:
    """'2 giờ 30 phút', '3 ngày 1 giờ 0 phút' (seconds dropped: '0 phút' under a minute)."""
    minutes = int(span.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    parts = [f"{days} ngày"] if days else []
    parts += [f"{rest // 60} giờ"] if rest >= 60 or days else []
    return " ".join([*parts, f"{rest % 60} phút"])


@dataclass(frozen=True)
class PauseLine:
    """One pause as shown: the office time it counted, the wall-clock wait, its end."""

    office: str
    wall: str
    ended_at: datetime


def pause_lines(cal: Calendar, pauses: Sequence[Pause]) -> list[PauseLine]:
    """Each finished pause: its office time (what the rule counts) and its wall-clock wait."""
    return [PauseLine(office=vn_span(working_time_between(cal, p.start, p.end)),
                      wall=vn_span(p.end - p.start), ended_at=p.end) for p in pauses]


def pause_effect(cal: Calendar, pauses: Sequence[Pause], unit: str, version: int) -> str:
    """What the pauses did to the due time, in words that agree with the move."""
    if not pauses or not unit:
        return ""
    total = sum((working_time_between(cal, p.start, p.end) for p in pauses), timedelta(0))
    counted, days = counted_pause(cal, total, unit, version)
    office = vn_span(total)
    if version < PAUSE_IN_WORKING_DAYS:
        return (f"Tổng thời gian chờ trong giờ làm việc: {office}; hạn giải quyết được cộng "
                "thêm đúng thời gian này (cách tính trước tháng 12/2026).")
    if unit == "working_hours":
        moved = f"hạn lùi {vn_span(counted)}" if counted else "hạn không đổi (dưới 1 phút)"
        return f"Tổng thời gian chờ trong giờ làm việc: {office}; {moved}."
    if days == 0:
        return (f"Tổng thời gian chờ trong giờ làm việc: {office}, chưa đủ 01 ngày làm việc "
                f"({vn_span(cal.hours.day_length)}): hạn giải quyết không đổi.")
    return (f"Tổng thời gian chờ trong giờ làm việc: {office}, tức {days:02d} ngày làm việc "
            f"trọn (mỗi ngày {vn_span(cal.hours.day_length)}): hạn giải quyết lùi {days:02d} "
            "ngày làm việc.")
