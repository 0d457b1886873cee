"""Who made it late (issue 22 item 5): the runs of internal-procedure steps, per officer or per
unit, for a period, read from the projector's `step_runs` read model (migration 0017).

Each run of a step is judged by instant against its own due instant (`domain.walk.verdict`,
the control slip's column "trước hạn / đúng hạn / quá hạn"); a step sent back to runs again and
each run counts. For office dates `from`..`to` (inclusive, in the office time zone):

* ended early / on time / late: runs that ended in the period, by their verdict; ended
  untimed: runs of steps with no allowance ("không tính thời gian"), which have no verdict;
* open overdue: runs open at the period's end (or now, for a period not over yet) whose due
  instant had passed by then.

A run counts for the unit answering for its step (`step_runs.unit_code`: the step's own unit
for a step of another unit, else the receiving unit) and for the person who held it
(`step_runs.holder`: the one it was handed to when named, else the one who ended it, as the
control slip names a late step's person); an open run handed to nobody by name counts under
no person (`officer` null, with the step's `role`), for its unit. The definitions are part of
report definition `motcua.reports.sla.DEFINITION_VERSION` ("steps").
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

import asyncpg

from motcua import exports
from motcua.catalog.calendar import office_zone
from motcua.eventstore.store import Conn
from motcua.reports.sla import definition

GroupBy = Literal["officer", "unit"]
COUNTS = ("ended_early", "ended_on_time", "ended_late", "ended_untimed", "open_overdue")


@dataclasses.dataclass(frozen=True)
class Row:
    """The counts of one officer (in one unit) or one unit."""

    unit_code: str | None
    officer: str | None = None
    role: str | None = None  # only for the runs held by no named person
    ended_early: int = 0
    ended_on_time: int = 0
    ended_late: int = 0
    ended_untimed: int = 0
    open_overdue: int = 0

    def as_dict(self) -> dict[str, Any]:
        judged = self.ended_early + self.ended_on_time + self.ended_late
        return {**dataclasses.asdict(self),
                "ended_total": judged + self.ended_untimed,
                "late_rate": round(self.ended_late / judged, 6) if judged else None}


@dataclasses.dataclass(frozen=True)
class Report:
    """The steps report: one row per group, the totals, and the definitions used."""

    period_start: date
    period_end: date
    as_of: datetime
    unit: str | None
    group_by: GroupBy
    rows: list[Row]
    totals: Row
    definition: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (`GET /v1/reports/steps`)."""
        return {"report": "steps",
                "period": {"from": self.period_start.isoformat(),
                           "to": self.period_end.isoformat()},
                "as_of": self.as_of.isoformat(), "filters": {"unit": self.unit},
                "group_by": self.group_by, "definition": self.definition,
                "rows": [r.as_dict() for r in self.rows], "totals": self.totals.as_dict()}


def to_csv(report: Report) -> str:
    """The report as CSV: one `group` line per row, then the `total` line."""
    out = io.StringIO()
    writer = exports.csv_writer(out)
    columns = list(report.totals.as_dict())
    writer.writerow(("scope", "period_from", "period_to", *columns, "definition_version"))
    for scope, row in [*(("group", r) for r in report.rows), ("total", report.totals)]:
        values = ["" if v is None else v for v in row.as_dict().values()]
        writer.writerow((scope, report.period_start.isoformat(), report.period_end.isoformat(),
                         *values, report.definition["version"]))
    return out.getvalue()


# $1 first instant of the period, $2 the instant after it, $3 the cutoff for open runs (the
# period's end, or now), $4 the unit or NULL.
_ENDED = "(ended_at >= $1 AND ended_at < $2)"
_OPEN_OVERDUE = "(started_at < $3 AND (ended_at IS NULL OR ended_at >= $3) AND due_at < $3)"
_KEYS: dict[GroupBy, str] = {
    "officer": "unit_code, holder, CASE WHEN holder IS NULL THEN role END",
    "unit": "unit_code, NULL::text, NULL::text"}


def _sql(group_by: GroupBy) -> str:
    return (f"SELECT {_KEYS[group_by]}, "
            f"count(*) FILTER (WHERE {_ENDED} AND timeliness = 'early'), "
            f"count(*) FILTER (WHERE {_ENDED} AND timeliness = 'on_time'), "
            f"count(*) FILTER (WHERE {_ENDED} AND timeliness = 'late'), "
            f"count(*) FILTER (WHERE {_ENDED} AND timeliness IS NULL), "
            f"count(*) FILTER (WHERE {_OPEN_OVERDUE}) "
            f"FROM step_runs WHERE ({_ENDED} OR {_OPEN_OVERDUE}) "
            "AND ($4::text IS NULL OR unit_code = $4) GROUP BY 1, 2, 3")


async def steps_report(db: asyncpg.Pool | Conn, *, period_start: date, period_end: date,
                       unit: str | None = None, group_by: GroupBy = "unit",
                       now: datetime | None = None, tz: tzinfo | None = None) -> Report:
    """The steps report for office dates `period_start`..`period_end` (inclusive) in `tz`
    (default: the domain's default office zone), per `officer` or per `unit`, optionally one
    unit's steps only; open runs are judged at the period's end or at `now`, if earlier."""
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    if group_by not in _KEYS:
        raise ValueError("group_by must be officer or unit")
    zone = tz or office_zone()
    first = datetime.combine(period_start, time(0), zone)
    after = datetime.combine(period_end + timedelta(days=1), time(0), zone)
    at = now or datetime.now(zone)
    cutoff = min(after, at)
    records = await db.fetch(_sql(group_by), first, after, cutoff, unit)
    rows = sorted((Row(r[0], r[1], r[2], *r[3:]) for r in records),
                  key=lambda r: (r.unit_code or "", r.officer or "", r.role or ""))
    totals = Row(unit, None, None, *(sum(getattr(r, c) for r in rows) for c in COUNTS))
    return Report(period_start=period_start, period_end=period_end, as_of=cutoff, unit=unit,
                  group_by=group_by, rows=rows, totals=totals, definition=definition(str(zone)))
