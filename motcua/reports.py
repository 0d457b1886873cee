"""SLA reports: Biểu 06 columns, the Decision 766 on-time rate and satisfaction, per unit,
procedure and period, read from the projector's pre-aggregated counts (`report_counts`).

A period `[from, to]` (office dates, inclusive) is cut into whole years, whole months and edge
days, and so is everything before it (for the carried-over and in-progress columns), so a
report reads a few rows per (unit, procedure) whatever the period's length or the history's.
Only for a period that is not over yet (it ends on or after the report date) are the dossiers
in progress judged overdue or not from `report_facts` (the open ones, a partial index).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from motcua.eventstore.reporting import DAY, MONTH, OFFICE_TZ, YEAR
from motcua.eventstore.store import Conn

GROUPS = ("unit", "procedure")
DEFINITION_VERSION = "2025-1"
DEFINITION: dict[str, Any] = {
    "version": DEFINITION_VERSION,
    "timezone": "Asia/Ho_Chi_Minh",
    "definitions": [
        {"id": "bieu06", "source": "Biểu số 06/VPCP/KSTT, Circular 01/2020/TT-VPCP",
         "text": "Dates compared in Asia/Ho_Chi_Minh. Received in the period by receipt "
         "date: online; direct or postal (counter + postal). Carried over: received before "
         "the period, not resolved before it. received_total = online + direct_postal + "
         "carried_over = resolved_total + in_progress_total. Resolved: processing ended in "
         "the period (result ready, or refused, withdrawn, stopped): early if the end date is "
         "before the due date, on time on it or with no due time, late after it; withdrawn = "
         "resolved on time; a second supplement request during processing = late. In "
         "progress: received by the period's last day and not resolved by it; overdue when "
         "its due date is on or before that day (for a period not over yet: before the "
         "report date) or a second supplement request made it late, else within time. The "
         "due time is the one in force now (extensions and supplement pauses included); a "
         "dossier awaiting a supplement that was within time when the clock stopped is "
         "within time."},
        {"id": "qd766-2.1", "source": "Decision 766/QĐ-TTg, index 2.1",
         "text": "on_time_rate = (resolved early or on time + in progress within time) / "
         "(received in the period + carried over); supplement time is excluded because due "
         "times already add back the paused office time. Null when the denominator is 0."},
        {"id": "bieu06-resolved", "source": "Biểu số 06/VPCP/KSTT",
         "text": "resolved_on_time_rate = (resolved early + on time) / resolved_total."},
        {"id": "qd766-5.4", "source": "Decision 766/QĐ-TTg, group 5",
         "text": "Ratings by rating date. satisfaction_rate = (very satisfied + satisfied) / "
         "rated_total. satisfaction_index = 1 - (1 - on_time_rate) - not_satisfied / "
         "rated_total, at least 0 (index 5.4 without complaints, which are not recorded)."},
    ],
}
COUNTS = ("received_online", "received_direct_postal", "received_carried_over",
          "resolved_early", "resolved_on_time", "resolved_late", "in_progress_overdue",
          "rated_very_satisfied", "rated_satisfied", "rated_not_satisfied")
COLUMNS = ("unit_code", "procedure_code", "received_total", "received_online",
           "received_direct_postal", "received_carried_over", "resolved_total",
           "resolved_early", "resolved_on_time", "resolved_late", "in_progress_total",
           "in_progress_within_time", "in_progress_overdue", "rated_total",
           "rated_very_satisfied", "rated_satisfied", "rated_not_satisfied", "on_time_rate",
           "resolved_on_time_rate", "satisfaction_rate", "satisfaction_index")
_EPOCH = date(1, 1, 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole > 0 else None


@dataclasses.dataclass(frozen=True)
class Row:
    """The report's counts for one group (or the totals)."""

    unit_code: str | None
    procedure_code: str | None
    received_online: int = 0
    received_direct_postal: int = 0
    received_carried_over: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    in_progress_overdue: int = 0
    rated_very_satisfied: int = 0
    rated_satisfied: int = 0
    rated_not_satisfied: int = 0

    @property
    def received_total(self) -> int:
        """Biểu 06: received in the period (both channels) plus carried over."""
        return self.received_online + self.received_direct_postal + self.received_carried_over

    @property
    def resolved_total(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def in_progress_total(self) -> int:
        return self.received_total - self.resolved_total

    @property
    def in_progress_within_time(self) -> int:
        return self.in_progress_total - self.in_progress_overdue

    @property
    def rated_total(self) -> int:
        return self.rated_very_satisfied + self.rated_satisfied + self.rated_not_satisfied

    @property
    def on_time_rate(self) -> float | None:
        """Decision 766 index 2.1 (see DEFINITION)."""
        good = self.resolved_early + self.resolved_on_time + self.in_progress_within_time
        return _ratio(good, self.received_total)

    @property
    def resolved_on_time_rate(self) -> float | None:
        return _ratio(self.resolved_early + self.resolved_on_time, self.resolved_total)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.rated_very_satisfied + self.rated_satisfied, self.rated_total)

    @property
    def satisfaction_index(self) -> float | None:
        """Decision 766 index 5.4 without complaints (see DEFINITION)."""
        if self.on_time_rate is None:
            return None
        dislike = self.rated_not_satisfied / self.rated_total if self.rated_total else 0.0
        return round(max(0.0, self.on_time_rate - dislike), 6)

    def as_dict(self) -> dict[str, Any]:
        """Every column, in `COLUMNS` order."""
        return {c: getattr(self, c) for c in COLUMNS}

    def is_empty(self) -> bool:
        return not any(getattr(self, c) for c in COUNTS)


@dataclasses.dataclass(frozen=True)
class Report:
    """An SLA report: one row per group, the totals, and the definitions used."""

    period_start: date
    period_end: date
    as_of: date
    unit: str | None
    procedure: str | None
    group_by: tuple[str, ...]
    rows: list[Row]
    totals: Row
    definition: dict[str, Any] = dataclasses.field(default_factory=lambda: DEFINITION)

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (`GET /v1/reports/sla`, `motcua report`)."""
        return {"report": "sla",
                "period": {"from": self.period_start.isoformat(),
                           "to": self.period_end.isoformat()},
                "as_of": self.as_of.isoformat(),
                "filters": {"unit": self.unit, "procedure": self.procedure},
                "group_by": list(self.group_by), "definition": self.definition,
                "rows": [r.as_dict() for r in self.rows], "totals": self.totals.as_dict()}


def to_csv(report: Report) -> str:
    """The report as CSV: one `group` line per row (when grouped), then the `total` line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("scope", "period_from", "period_to", *COLUMNS, "definition_version"))
    lines = [("group", r) for r in report.rows] if report.group_by else []
    for scope, row in [*lines, ("total", report.totals)]:
        values = ["" if v is None else v for v in row.as_dict().values()]
        writer.writerow((scope, report.period_start.isoformat(), report.period_end.isoformat(),
                         *values, report.definition["version"]))
    return out.getvalue()


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def decompose(lo: date, hi: date) -> list[tuple[int, date, date]]:
    """`[lo, hi)` as (grain, first bucket, end) ranges: edge days, whole months, whole years."""
    if lo >= hi:
        return []
    m_lo = lo if lo.day == 1 else _next_month(lo)
    m_hi = hi.replace(day=1)
    if m_lo >= m_hi:
        return [(DAY, lo, hi)]
    parts = [(DAY, lo, m_lo)] if lo < m_lo else []
    if m_hi < hi:
        parts.append((DAY, m_hi, hi))
    y_lo = m_lo if m_lo.month == 1 else date(m_lo.year + 1, 1, 1)
    y_hi = date(m_hi.year, 1, 1)
    if y_lo >= y_hi:
        return [*parts, (MONTH, m_lo, m_hi)]
    if m_lo < y_lo:
        parts.append((MONTH, m_lo, y_lo))
    parts.append((YEAR, y_lo, y_hi))
    if y_hi < m_hi:
        parts.append((MONTH, y_hi, m_hi))
    return parts


_SUMS = {
    "received_online": "sum(c.recv_online) FILTER (WHERE r.part = 'p')",
    "received_direct_postal": "sum(c.recv_counter + c.recv_postal) FILTER (WHERE r.part = 'p')",
    "received_carried_over": "sum(c.recv_counter + c.recv_online + c.recv_postal - c.res_early "
                             "- c.res_on_time - c.res_late) FILTER (WHERE r.part = 'c')",
    "resolved_early": "sum(c.res_early) FILTER (WHERE r.part = 'p')",
    "resolved_on_time": "sum(c.res_on_time) FILTER (WHERE r.part = 'p')",
    "resolved_late": "sum(c.res_late) FILTER (WHERE r.part = 'p')",
    "in_progress_overdue": "sum(c.overdue_delta)",
    "rated_very_satisfied": "sum(c.sat_very_satisfied) FILTER (WHERE r.part = 'p')",
    "rated_satisfied": "sum(c.sat_satisfied) FILTER (WHERE r.part = 'p')",
    "rated_not_satisfied": "sum(c.sat_not_satisfied) FILTER (WHERE r.part = 'p')",
}


async def _fetch(conn: Conn, sql: str, args: list[Any]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    return rows


def _filters(alias: str, unit: str | None, procedure: str | None,
             first: int) -> tuple[list[str], list[Any]]:
    """Conditions for the unit/procedure filters, as parameters numbered from `first`."""
    conds: list[str] = []
    args: list[Any] = []
    for column, value in (("unit_code", unit), ("procedure_code", procedure)):
        if value is not None:
            args.append(value)
            conds.append(f"{alias}.{column} = ${first + len(args) - 1}")
    return conds, args


def _groups(alias: str, group_by: Sequence[str]) -> str:
    unit = f"{alias}.unit_code" if "unit" in group_by else "NULL::text"
    proc = f"{alias}.procedure_code" if "procedure" in group_by else "NULL::text"
    return f"{unit} AS unit_code, {proc} AS procedure_code"


async def _query(conn: Conn, start: date, end: date, cutoff: date, unit: str | None,
                 procedure: str | None, group_by: Sequence[str]) -> dict[tuple[Any, Any], Row]:
    after = end + timedelta(days=1)
    parts = [("p", *x) for x in decompose(start, after)] + [
        ("c", *x) for x in decompose(_EPOCH, start)]
    conds, fargs = _filters("c", unit, procedure, 5)
    where = "".join(f" AND {c}" for c in conds)
    sums = ", ".join(f"coalesce({expr}, 0)::int8 AS {name}" for name, expr in _SUMS.items())
    sql = (f"SELECT {_groups('c', group_by)}, {sums} "
           "FROM unnest($1::text[], $2::int2[], $3::date[], $4::date[]) AS r(part, grain, lo, hi) "
           "CROSS JOIN LATERAL (SELECT * FROM report_counts c WHERE c.grain = r.grain "
           f"AND c.bucket >= r.lo AND c.bucket < r.hi{where} OFFSET 0) c GROUP BY 1, 2")
    cols = [list(x) for x in zip(*parts, strict=True)]
    rows = {(r["unit_code"], r["procedure_code"]): Row(**dict(r))
            for r in await _fetch(conn, sql, [*cols, *fargs])}
    if cutoff < end:  # the period is not over: overdue = due before the report date
        conds, fargs = _filters("f", unit, procedure, 3)
        branch = ("SELECT unit_code, procedure_code FROM report_facts f WHERE {} "
                  "AND f.received_day <= $1 AND f.overdue_from <= $2"
                  + "".join(f" AND {c}" for c in conds))
        sql = (f"SELECT {_groups('x', group_by)}, count(*) AS n FROM ("
               f"{branch.format('f.resolved_day IS NULL')} UNION ALL "
               f"{branch.format('f.resolved_day > $1')}) x GROUP BY 1, 2")
        overdue = {(r["unit_code"], r["procedure_code"]): r["n"]
                   for r in await _fetch(conn, sql, [end, cutoff, *fargs])}
        rows = {k: dataclasses.replace(r, in_progress_overdue=overdue.get(k, 0))
                for k, r in rows.items()}
    return rows


async def sla_report(db: asyncpg.Pool | Conn, *, period_start: date, period_end: date,
                     unit: str | None = None, procedure: str | None = None,
                     group_by: Sequence[str] = (), as_of: date | None = None) -> Report:
    """The SLA report for office dates `period_start`..`period_end` (inclusive), optionally
    one unit and/or procedure, grouped by any of `unit`, `procedure`. `as_of` (default: today
    in Asia/Ho_Chi_Minh) only matters for a period not over yet: its in-progress dossiers
    are overdue when due before that day."""
    groups = tuple(g for g in GROUPS if g in group_by)
    if set(group_by) - set(GROUPS):
        raise ValueError(f"group_by must be among {', '.join(GROUPS)}")
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    if period_end >= date.max - timedelta(days=1):
        raise ValueError("the period ends too late")
    today = as_of or datetime.now(OFFICE_TZ).date()
    cutoff = min(period_end, today - timedelta(days=1))
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await sla_report(conn, period_start=period_start, period_end=period_end,
                                    unit=unit, procedure=procedure, group_by=groups,
                                    as_of=today)
    if db.is_in_transaction():
        found = await _query(db, period_start, period_end, cutoff, unit, procedure, groups)
    else:
        async with db.transaction(isolation="repeatable_read", readonly=True):
            found = await _query(db, period_start, period_end, cutoff, unit, procedure, groups)
    rows = sorted((r for r in found.values() if not r.is_empty()),
                  key=lambda r: (r.unit_code or "", r.procedure_code or ""))
    totals = Row(unit_code=unit, procedure_code=procedure, **{
        c: sum(getattr(r, c) for r in rows) for c in COUNTS})
    rows = [dataclasses.replace(
        r, unit_code=r.unit_code if "unit" in groups else unit,
        procedure_code=r.procedure_code if "procedure" in groups else procedure) for r in rows]
    return Report(period_start=period_start, period_end=period_end, as_of=today, unit=unit,
                  procedure=procedure, group_by=groups, rows=rows if groups else [totals],
                  totals=totals)
