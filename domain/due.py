"""When a dossier is due, and when it is due soon or overdue: one definition for every view.

- The **judged due instant** (`judged_due`): the legal due time (the receipt's, with supplement
  pauses, calendar corrections and a verification maximum), never an apology's new appointment
  (Lai Châu 88/2025/QĐ-UBND: still "quá hạn"; issue 11 point 5); the due time in force for a
  state recorded before legal due times existed. The read model holds it as
  `dossiers.judged_due_at` (migration 0010).
- **At an instant** (`status_at`: queues, boards, gauges, the lookup, the forecast): overdue
  from the judged due instant on, due soon from `due_soon_at` on, paused while waiting for a
  supplement, closed once the result is ready. Always from the clock: the timer's alert event
  is the durable record that drives notices, not what a view shows (issue 27 item 1).
- **On a date** (`overdue_from_day`: Biểu 06 reports, what-if): a dossier still in progress at
  the end of an office day is overdue when its judged due date is on or before that day (the
  report form compares dates: Circular 01/2020/TT-VPCP, Biểu số 06/VPCP/KSTT; docs/legal-
  sources.md), unless it waits for a supplement asked for within time (the clock stopped; the
  pause is added back when the papers arrive: our reading of Decision 766 item 2.1).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from domain.states import (
    BEFORE_ACCEPTANCE_STATES,
    PAUSED_STATES,
    SLA_CLOSED_STATES,
    DossierState,
    SlaStatus,
)


def judged_due(legal_due_at: datetime | None, due_at: datetime | None) -> datetime | None:
    """The due instant timeliness and "overdue" are judged against (see the module)."""
    return legal_due_at or due_at


def is_overdue(judged_due_at: datetime | None, now: datetime) -> bool:
    """Overdue at `now`: its judged due instant has come (the instant itself counts)."""
    return judged_due_at is not None and now >= judged_due_at


def status_at(state: DossierState | None, judged_due_at: datetime | None,
              due_soon_at: datetime | None, now: datetime) -> SlaStatus:
    """Where a dossier in `state` stands against its due time at `now`."""
    if state is None or state in SLA_CLOSED_STATES:
        return SlaStatus.CLOSED
    if state in PAUSED_STATES:
        return SlaStatus.PAUSED
    if is_overdue(judged_due_at, now):
        return SlaStatus.OVERDUE
    if due_soon_at is not None and now >= due_soon_at:
        return SlaStatus.DUE_SOON
    return SlaStatus.ON_TRACK


def next_change(state: DossierState | None, judged_due_at: datetime | None,
                due_soon_at: datetime | None, now: datetime) -> datetime | None:
    """The next instant after `now` at which `status_at` changes by the clock alone (None:
    only an event can change it). A snapshot of the statuses stays right until then."""
    if state is None or state in SLA_CLOSED_STATES or state in BEFORE_ACCEPTANCE_STATES \
            or state in PAUSED_STATES:
        return None
    later = [t for t in (due_soon_at, judged_due_at) if t is not None and t > now]
    return min(later, default=None)


def paused_within_time(paused_at: datetime | None, judged_due_at: datetime | None) -> bool:
    """Waiting for a supplement asked for before the due instant: the clock stopped in time."""
    return paused_at is not None and judged_due_at is not None and paused_at < judged_due_at


def overdue_from_day(judged_due_at: datetime | None, paused_at: datetime | None,
                     tz: tzinfo) -> date | None:
    """The first office day (in `tz`) at whose end a dossier still in progress counts as
    overdue: its judged due date; None without a due time or while paused within time."""
    if judged_due_at is None or paused_within_time(paused_at, judged_due_at):
        return None
    return judged_due_at.astimezone(tz).date()


def overdue_on(judged_due_at: datetime | None, paused_at: datetime | None, day: date,
               tz: tzinfo) -> bool:
    """A dossier still in progress at the end of office day `day` counts as overdue."""
    first = overdue_from_day(judged_due_at, paused_at, tz)
    return first is not None and first <= day


__all__ = ["is_overdue", "judged_due", "next_change", "overdue_from_day", "overdue_on",
           "paused_within_time", "status_at"]
