"""`domain.due` over the `dossiers` read model, in SQL: the SLA status from the clock and the
next instant it changes by the clock alone, for the views that filter or count in PostgreSQL
(the list's `sla=` filter, the SLA board, the open-dossier gauges).

Written from the domain's constants and checked against `domain.due.status_at` and
`next_change` on a grid of cases in the real database (tests/test_due_sql.py), so
the two cannot drift apart. Every expression takes the instant as an SQL parameter (`now`,
e.g. `"$2"`), never `now()`: a view states the instant it judged at.
"""

from __future__ import annotations

from domain.states import (
    BEFORE_ACCEPTANCE_STATES,
    PAUSED_STATES,
    SLA_CLOSED_STATES,
    DossierState,
    SlaStatus,
)


def _quoted(states: frozenset[DossierState]) -> str:
    return ", ".join(f"'{s.value}'" for s in sorted(states))


_CLOSED = _quoted(SLA_CLOSED_STATES)
_PAUSED = _quoted(PAUSED_STATES)
# States whose status the clock alone can change (`domain.due.next_change`).
_STILL = _quoted(SLA_CLOSED_STATES | BEFORE_ACCEPTANCE_STATES
                 | PAUSED_STATES)


def status_sql(now: str, table: str = "") -> str:
    """`domain.due.status_at` of each row at the instant `now` (an SQL expression)."""
    p = f"{table}." if table else ""
    return (f"(CASE WHEN {p}state IN ({_CLOSED}) THEN '{SlaStatus.CLOSED.value}' "
            f"WHEN {p}state IN ({_PAUSED}) THEN '{SlaStatus.PAUSED.value}' "
            f"WHEN {p}judged_due_at <= {now} THEN '{SlaStatus.OVERDUE.value}' "
            f"WHEN {p}due_soon_at <= {now} THEN '{SlaStatus.DUE_SOON.value}' "
            f"ELSE '{SlaStatus.ON_TRACK.value}' END)")


def next_change_sql(now: str, table: str = "") -> str:
    """`domain.due.next_change` of each row after `now` (NULL: only an event changes it)."""
    p = f"{table}." if table else ""
    return (f"(CASE WHEN {p}state NOT IN ({_STILL}) THEN least("
            f"CASE WHEN {p}due_soon_at > {now} THEN {p}due_soon_at END, "
            f"CASE WHEN {p}judged_due_at > {now} THEN {p}judged_due_at END) END)")


__all__ = ["next_change_sql", "status_sql"]
