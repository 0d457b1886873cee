"""SLA reports: Biểu 06 columns, the Decision 766 on-time rate and satisfaction, per unit,
procedure and period, read from the projector's pre-aggregated counts (`report_counts`).

One SQL statement per report. A period `[from, to]` (office dates, inclusive) is cut into
whole years, whole months and edge days, and so is everything before it (for the carried-over
and in-progress columns), so a report reads a few rows per key whatever the period's length or
the history's; and it reads the coarsest key its filters and grouping allow (a province total
is one row per bucket). For a period not over yet, in-progress dossiers are judged overdue at
the end of the day before the report date (`as_of`).
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from motcua import exports
from motcua.catalog.calendar import office_zone
from motcua.eventstore.reporting import (
    BOTH,
    DAY,
    LEG,
    LEG_UNIT,
    MONTH,
    PROCEDURE,
    PROVINCE,
    UNIT,
    YEAR,
)
from motcua.eventstore.store import Conn

GROUPS = ("unit", "procedure")
# issue 11: item 5.4 over dossiers, with complaints; ".2": online intake (points 7-8); ".3": the
# text states the verdicts the code already gave (withdrawal judged, legal due time);
# "2026-12.1" (issue 23 item 10, shared with the internal procedures of that round): an end
# without a result is never "early", and is counted apart (`resolved_without_result`); the same
# version, shared with issue 22 item 5: per unit, the legs of transferred dossiers count
# ("bieu06-legs"), and the steps report ("steps", `motcua.reports.steps`), and issue 26's
# Decision 766 group 4, digitisation ("qd766-4"): the one bump of the December round
DEFINITION_VERSION = "2026-12.1"
DEFINITIONS: list[dict[str, str]] = [
    {"id": "bieu06", "source": "Biểu số 06/VPCP/KSTT, Circular 01/2020/TT-VPCP",
     "text": "Dates compared in the office time zone (`timezone`). Received in the "
     "period, by receipt "
     "date: online; direct or postal (counter + postal). Carried over: received before "
     "the period, not resolved before it. received_total = online + direct_postal + "
     "carried_over = resolved_total + in_progress_total. Resolved: processing ended in "
     "the period (result ready, or refused, withdrawn, stopped): early if the end date is "
     "before the due date, on time on it or with no due time, late after it; a second "
     "supplement request during processing = late. An end without a result (refused after "
     "acceptance, withdrawn, stopped) is judged by end <= due date only (Decision 766 item "
     "2.1 counts it on time then): on time by the due date, never early (an early refusal is "
     "not early service; provincial Biểu 06 exports count such ends under 'Đúng hạn'), late "
     "after it; resolved_without_result counts these ends (of resolved_on_time and "
     "resolved_late). In "
     "progress: received by the period's last day and not resolved by it; overdue when "
     "its due date is on or before that day (for a period not over yet: before the "
     "report date), or a second supplement request made it late by then; else within "
     "time. The due time judged is the legal one (at its resolution, for a dossier "
     "resolved since): the receipt's, with supplement pauses, calendar corrections and a "
     "verification maximum; an apology's new appointment does not move it (Lai Châu "
     "88/2025/QĐ-UBND: still late; applying it to Biểu 06 is our reading); a dossier waiting for "
     "a supplement (or closed while waiting) that was within time when the clock "
     "stopped is within time. An online submission is received on the date it is "
     "accepted (the receipt; its due time counts from the complete submission); one "
     "awaiting acceptance, refused at intake (code 3) or withdrawn before acceptance is "
     "neither received nor resolved (our reading: Biểu 06 counts received dossiers)."},
    {"id": "bieu06-legs", "source": "Biểu số 06/VPCP/KSTT, Circular 01/2020/TT-VPCP (title: "
     "'tại cơ quan, đơn vị trực tiếp giải quyết TTHC'); Lai Châu 88/2025/QĐ-UBND art. 7(5); "
     "our reading",
     "text": "Per unit (a unit filter or grouping by unit), a dossier transferred to other units "
     "(liên thông) counts in the unit that received it as above, and each leg another unit held "
     "counts in that unit as a dossier it handled: received on the day its share began (the "
     "transfer's counted_from), by the dossier's channel; resolved on the day it handed the "
     "dossier on (to another unit, back as unfit, or the result back to the receiving unit) "
     "or the dossier's processing ended while it held it; judged by the same date rule against "
     "the dossier's legal due date (an end of processing with the dossier's own verdict); in "
     "progress and overdue like the dossier while held. A unit holding the dossier again "
     "after a return holds a new leg. The province and per-procedure totals count each "
     "dossier once, so the units' figures add up to more than the province's when dossiers "
     "crossed units. Decision 766 item 2.1's rate per unit is computed over the same counts."},
    {"id": "steps", "source": "phiếu kiểm soát quá trình (Circular 01/2018/TT-VPCP form 05; "
     "Circular 03/2025/TT-VPCP form 06); internal procedures of the provinces' decisions",
     "text": "GET /v1/reports/steps: runs of internal-procedure steps judged by instant against "
     "their own due instant (late when ended after it, even the same day; early when ended on "
     "an earlier date; else on time); ended_early/on_time/late: runs ended in the period; "
     "ended_untimed: runs of steps without an allowance (no verdict); open_overdue: runs open "
     "at the period's end (or now) past their due instant. A run counts for the unit "
     "answering for its step and the person who held it (handed to by name, else who ended "
     "it); a step sent back to runs again and each run counts. late_rate = ended_late / "
     "(ended_early + ended_on_time + ended_late)."},
    {"id": "qd766-2.1", "source": "Decision 766/QĐ-TTg, index 2.1",
     "text": "on_time_rate = (resolved early or on time + in progress within time) / "
     "(received in the period + carried over); supplement time is excluded because due "
     "times already add back the paused office time. Rates are fractions (0..1, 6 "
     "places), null when the denominator is 0."},
    {"id": "bieu06-resolved", "source": "Biểu số 06/VPCP/KSTT",
     "text": "resolved_on_time_rate = (resolved early + on time) / resolved_total."},
    {"id": "qd766-5.4", "source": "Decision 766/QĐ-TTg, item 5.4",
     "text": "satisfaction_index = 100% - (late rate + rate of dossiers with a complaint or "
     "a not-satisfied rating), over dossiers: 1 - (1 - on_time_rate) - "
     "complained_or_not_satisfied / received_total, at least 0. "
     "complained_or_not_satisfied counts a dossier once, on the office date of its first "
     "complaint (phản ánh, kiến nghị, recorded as ComplaintRecorded) or not-satisfied "
     "rating; dividing by item 2.1's denominator (received in the period + carried over) "
     "is our reading."},
    {"id": "qd766-4", "source": "Decision 766/QĐ-TTg, group 4 (digitisation), indicators "
     "4.1-4.4, as a public description of the national portal's formulas states them "
     "(DOMAIN.md 9.3: read in a public repository, not in the Decision's own annex); our "
     "reading where said",
     "text": "Over the dossiers received in the period (received_online + "
     "received_direct_postal; carried-over dossiers are not in the indicators' denominator), "
     "counted on their receipt date, whenever the file was added: electronic_results = "
     "dossiers with a signed electronic result (a result file, motcua/files; 4.1); "
     "digitised_components = dossiers with at least one component on file, scanned, reused or "
     "taken from the national data store (4.2 part (1), 'có file đính kèm trong thành phần hồ "
     "sơ'; part (2), the electronic result, is electronic_results and is not folded in: our "
     "reading); digitised_reused = at least one component reused from an earlier dossier "
     "(4.3); digitised_national_store = at least one component taken from the national data "
     "store (4.4, 'DuocLayTuKhoDMQG = 1'). Rates = count / received in the period, null when "
     "0. Indicators 4.1 and 4.2 (2) count only procedures whose result is a paper document; "
     "the catalog does not say which, so every procedure counts (our reading). Per unit, the "
     "files count in the unit that received the dossier; legs of transferred dossiers add to "
     "that unit's received count as in bieu06-legs but carry no files (our reading). Indicator "
     "4.5 (population data, VNeID) is not computed: motcua records neither."},
    {"id": "motcua-satisfaction-rate", "source": "motcua (ours, not a Decision 766 item)",
     "text": "Ratings by rating date. satisfaction_rate = (very satisfied + satisfied) / "
     "rated_total."},
]


def definition(tz_name: str) -> dict[str, Any]:
    """The versioned definitions, with the office time zone the dates are taken in."""
    return {"version": DEFINITION_VERSION, "timezone": tz_name, "definitions": DEFINITIONS}


COUNTS = ("received_online", "received_direct_postal", "received_carried_over",
          "resolved_early", "resolved_on_time", "resolved_late", "in_progress_overdue",
          "rated_very_satisfied", "rated_satisfied", "rated_not_satisfied",
          "complained_or_not_satisfied", "closed_on_time", "closed_late",
          "digitised_components", "digitised_reused", "digitised_national_store",
          "electronic_results")
COLUMNS = ("unit_code", "procedure_code", "received_total", "received_online",
           "received_direct_postal", "received_carried_over", "resolved_total",
           "resolved_early", "resolved_on_time", "resolved_late", "in_progress_total",
           "in_progress_within_time", "in_progress_overdue", "rated_total",
           "rated_very_satisfied", "rated_satisfied", "rated_not_satisfied",
           "complained_or_not_satisfied", "on_time_rate", "resolved_on_time_rate",
           "satisfaction_rate", "satisfaction_index", "resolved_without_result",
           "electronic_results", "digitised_components", "digitised_reused",
           "digitised_national_store", "electronic_result_rate", "digitised_rate",
           "reuse_rate", "national_store_rate")
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
    complained_or_not_satisfied: int = 0
    # Ends without a result (refused after acceptance, withdrawn, stopped), by the due date or
    # after it: shown under on time / late and apart (definition 2026-12.1).
    closed_on_time: int = 0
    closed_late: int = 0
    # Decision 766 group 4 (definition "qd766-4"): dossiers received in the period with files.
    digitised_components: int = 0
    digitised_reused: int = 0
    digitised_national_store: int = 0
    electronic_results: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Every column, in `COLUMNS` order, with the totals and rates (see DEFINITIONS)."""
        received = self.received_online + self.received_direct_postal + self.received_carried_over
        on_time_total = self.resolved_on_time + self.closed_on_time
        late_total = self.resolved_late + self.closed_late
        early_or_on_time = self.resolved_early + on_time_total
        resolved = early_or_on_time + late_total
        in_progress = received - resolved
        within = in_progress - self.in_progress_overdue
        liked = self.rated_very_satisfied + self.rated_satisfied
        rated = liked + self.rated_not_satisfied
        on_time = _ratio(early_or_on_time + within, received)
        # Decision 766 item 5.4, over dossiers (DEFINITIONS "qd766-5.4").
        index = None if on_time is None else round(max(
            0.0, on_time - self.complained_or_not_satisfied / received), 6)
        return {
            "unit_code": self.unit_code, "procedure_code": self.procedure_code,
            "received_total": received, "received_online": self.received_online,
            "received_direct_postal": self.received_direct_postal,
            "received_carried_over": self.received_carried_over, "resolved_total": resolved,
            "resolved_early": self.resolved_early, "resolved_on_time": on_time_total,
            "resolved_late": late_total, "in_progress_total": in_progress,
            "in_progress_within_time": within, "in_progress_overdue": self.in_progress_overdue,
            "rated_total": rated, "rated_very_satisfied": self.rated_very_satisfied,
            "rated_satisfied": self.rated_satisfied,
            "rated_not_satisfied": self.rated_not_satisfied,
            "complained_or_not_satisfied": self.complained_or_not_satisfied,
            "on_time_rate": on_time,
            "resolved_on_time_rate": _ratio(early_or_on_time, resolved),
            "satisfaction_rate": _ratio(liked, rated), "satisfaction_index": index,
            "resolved_without_result": self.closed_on_time + self.closed_late,
            **self._group_4()}

    def _group_4(self) -> dict[str, Any]:
        """Decision 766 group 4 counts and rates (DEFINITIONS "qd766-4")."""
        in_period = self.received_online + self.received_direct_postal
        return {
            "electronic_results": self.electronic_results,
            "digitised_components": self.digitised_components,
            "digitised_reused": self.digitised_reused,
            "digitised_national_store": self.digitised_national_store,
            "electronic_result_rate": _ratio(self.electronic_results, in_period),
            "digitised_rate": _ratio(self.digitised_components, in_period),
            "reuse_rate": _ratio(self.digitised_reused, in_period),
            "national_store_rate": _ratio(self.digitised_national_store, in_period)}


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
    definition: dict[str, Any]

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
    writer = exports.csv_writer(out)
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
    "received_online": "sum(c.recv_online) FILTER (WHERE c.bucket >= $4)",
    "received_direct_postal": "sum(c.recv_counter + c.recv_postal) FILTER (WHERE c.bucket >= $4)",
    "received_carried_over": "sum(c.recv_counter + c.recv_online + c.recv_postal - c.res_early "
                             "- c.res_on_time - c.res_late - c.res_closed_on_time "
                             "- c.res_closed_late) FILTER (WHERE c.bucket < $4)",
    "resolved_early": "sum(c.res_early) FILTER (WHERE c.bucket >= $4)",
    "resolved_on_time": "sum(c.res_on_time) FILTER (WHERE c.bucket >= $4)",
    "resolved_late": "sum(c.res_late) FILTER (WHERE c.bucket >= $4)",
    # Overdue at the end of the cutoff day ($5 = the day after it), minus those resolved
    # between the cutoff and the period's end (only when the period is not over).
    "in_progress_overdue": "sum(CASE WHEN c.bucket < $5 THEN c.overdue_delta "
                           "ELSE -c.res_overdue END)",
    "rated_very_satisfied": "sum(c.sat_very_satisfied) FILTER (WHERE c.bucket >= $4)",
    "rated_satisfied": "sum(c.sat_satisfied) FILTER (WHERE c.bucket >= $4)",
    "rated_not_satisfied": "sum(c.sat_not_satisfied) FILTER (WHERE c.bucket >= $4)",
    "complained_or_not_satisfied": "sum(c.unhappy) FILTER (WHERE c.bucket >= $4)",
    "closed_on_time": "sum(c.res_closed_on_time) FILTER (WHERE c.bucket >= $4)",
    "closed_late": "sum(c.res_closed_late) FILTER (WHERE c.bucket >= $4)",
    # On the receipt date (reporting.FILE_FLAGS): received in the period.
    "digitised_components": "sum(c.dig_components) FILTER (WHERE c.bucket >= $4)",
    "digitised_reused": "sum(c.dig_reused) FILTER (WHERE c.bucket >= $4)",
    "digitised_national_store": "sum(c.dig_national) FILTER (WHERE c.bucket >= $4)",
    "electronic_results": "sum(c.dig_result) FILTER (WHERE c.bucket >= $4)",
}
assert tuple(_SUMS) == COUNTS == tuple(f.name for f in dataclasses.fields(Row))[2:]
# The scopes a report reads: per unit, the dossiers it received plus the legs it held
# ("bieu06-legs"); otherwise each dossier once.
_SCOPES = {(True, True): [BOTH, LEG], (True, False): [UNIT, LEG_UNIT], (False, False): [PROVINCE],
           (False, True): [PROCEDURE]}


def _sql(group_by: Sequence[str], unit: bool, procedure: bool) -> str:
    """The report query: $1-$3 bucket ranges, $4 first day, $5 day after the cutoff, $6 scopes,
    then the unit and procedure filters present."""
    groups = ", ".join(f"c.{g}_code" if g in group_by else "NULL::text"
                       for g in GROUPS)
    filters = [f"c.{name}_code = ${7 + i}" for i, name in
               enumerate(n for n, on in (("unit", unit), ("procedure", procedure)) if on)]
    sums = ", ".join(f"coalesce({expr}, 0)::int8 AS {name}" for name, expr in _SUMS.items())
    return (f"SELECT {groups}, {sums} "
            "FROM unnest($1::int2[], $2::date[], $3::date[]) AS r(grain, lo, hi) "
            "CROSS JOIN LATERAL (SELECT * FROM report_counts c WHERE c.grain = r.grain "
            "AND c.scope = ANY($6::int2[]) AND c.bucket >= r.lo AND c.bucket < r.hi"
            f"{''.join(f' AND {f}' for f in filters)} OFFSET 0) c GROUP BY 1, 2")


async def _query(db: asyncpg.Pool | Conn, start: date, end: date, as_of: date, unit: str | None,
                 procedure: str | None, group_by: Sequence[str]) -> list[Row]:
    after = end + timedelta(days=1)
    cutoff_after = min(after, as_of)  # the day after the last day overdue is judged at
    cuts = sorted({_EPOCH, start, cutoff_after, after})
    ranges = [r for lo, hi in itertools.pairwise(cuts) for r in decompose(lo, hi)]
    scope = _SCOPES[("unit" in group_by or unit is not None,
                     "procedure" in group_by or procedure is not None)]
    filters = [v for v in (unit, procedure) if v is not None]
    sql = _sql(group_by, unit is not None, procedure is not None)
    records = await db.fetch(sql, *[list(x) for x in zip(*ranges, strict=True)], start,
                               cutoff_after, scope, *filters)
    keep = [r for r in records if any(r[2:])]  # nothing in or before the period
    return [Row(r[0] if "unit" in group_by else unit,
                r[1] if "procedure" in group_by else procedure, *r[2:]) for r in keep]


async def sla_report(db: asyncpg.Pool | Conn, *, period_start: date, period_end: date,
                     unit: str | None = None, procedure: str | None = None,
                     group_by: Sequence[str] = (), as_of: date | None = None,
                     tz: tzinfo | None = None) -> Report:
    """The SLA report for office dates `period_start`..`period_end` (inclusive), optionally
    one unit and/or procedure, grouped by any of `unit`, `procedure`. `as_of`, the report
    date (default: today in the office time zone `tz`; never before the latest event), only
    matters for a period not over yet: its in-progress dossiers are overdue when due before it.
    `tz` is the calendar's (`runtime.calendar_for(settings).tz`; default: the domain's default
    office zone)."""
    groups = tuple(g for g in GROUPS if g in group_by)
    if set(group_by) - set(GROUPS):
        raise ValueError(f"group_by must be among {', '.join(GROUPS)}")
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    if period_end >= date.max - timedelta(days=1):
        raise ValueError("the period ends too late")
    zone = tz or office_zone()
    today = as_of or datetime.now(zone).date()
    found = await _query(db, period_start, period_end, today, unit, procedure, groups)
    rows = sorted(found, key=lambda r: (r.unit_code or "", r.procedure_code or ""))
    totals = Row(unit, procedure, *(sum(getattr(r, c) for r in rows) for c in COUNTS))
    return Report(period_start=period_start, period_end=period_end, as_of=today, unit=unit,
                  procedure=procedure, group_by=groups, rows=rows if groups else [totals],
                  totals=totals, definition=definition(str(zone)))
