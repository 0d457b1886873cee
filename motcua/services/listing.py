"""Dossier lists from the `dossiers` read model: filters, order by due time, keyset paging.

Paging is a keyset on `(due_at, code)` (the `dossiers_due` index), so a page is stable while
dossiers are received or change state: no row is skipped or repeated as it would be with
OFFSET. A dossier without a due time sorts last. The cursor is opaque to clients (base64url of
the last row's key). The read model is filled asynchronously by the projector, so a dossier
received a moment ago may be missing for a moment (`GET /v1/dossiers/{code}` reads the event
store and is always current).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from domain.walk import STEP_ROLE_SENDERS
from motcua.eventstore.due import status_sql
from motcua.problems import invalid_input
from motcua.services.text import clean, in_range
from motcua.services.views import DossierPage, summary

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    """What the list is limited to; empty means no limit on that column."""

    states: list[str] = field(default_factory=list)
    sla: list[str] = field(default_factory=list)
    unit: str | None = None
    procedure: str | None = None
    assignee: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None


def encode_cursor(due_at: datetime | None, code: str) -> str:
    """The opaque cursor after the row `(due_at, code)`."""
    raw = json.dumps({"d": due_at.isoformat() if due_at else None, "c": code})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """The row key inside a cursor; 422 naming `cursor` when it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        code = data["c"]
        due = datetime.fromisoformat(data["d"]) if data["d"] is not None else None
        if not isinstance(code, str) or (due is not None and due.tzinfo is None):
            raise ValueError("bad cursor")
        return (in_range(due) if due is not None else None), clean(code)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise invalid_input("cursor", "not a cursor returned by this API") from None


def _where(filters: Filters, cursor: tuple[datetime | None, str] | None, now: datetime
           ) -> tuple[str, list[object]]:
    """The WHERE clause and its arguments; `$1` is the instant the SLA status is judged at."""
    clauses: list[str] = []
    args: list[object] = [now]

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.states:
        clauses.append(f"state = ANY({arg(filters.states)}::text[])")
    if filters.sla:
        clauses.append(f"{status_sql('$1')} = ANY({arg(filters.sla)}::text[])")
    if filters.unit is not None:
        # What the unit received and what it holds now (transferred to it; issue 22 item 3).
        unit = arg(filters.unit)
        clauses.append(f"(unit_code = {unit} OR holding_unit_code = {unit})")
    if filters.procedure is not None:
        clauses.append(f"procedure_code = {arg(filters.procedure)}")
    if filters.assignee is not None:
        clauses.append(f"assignee = {arg(filters.assignee)}")
    if filters.due_before is not None:
        clauses.append(f"due_at < {arg(filters.due_before)}")
    if filters.due_after is not None:
        clauses.append(f"due_at >= {arg(filters.due_after)}")
    if cursor is not None:
        due, code = cursor
        if due is None:
            clauses.append(f"(due_at IS NULL AND code > {arg(code)})")
        else:
            clauses.append(f"((due_at, code) > ({arg(due)}::timestamptz, {arg(code)}) "
                           "OR due_at IS NULL)")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def page(pool: asyncpg.Pool, filters: Filters, *, limit: int = DEFAULT_LIMIT,
               cursor: str | None = None, now: datetime | None = None) -> DossierPage:
    """One page of dossiers matching `filters`, after `cursor`; the SLA status (shown and
    filtered on) is judged from the due instants at `now` (default: the clock), so a dossier
    is overdue at its due instant whether or not the timer's event has been projected."""
    where, args = _where(filters, decode_cursor(cursor) if cursor else None,
                         now or datetime.now(UTC))
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT code, state, status_code, {status_sql('$1')} AS sla_status, unit_code, "
        "holding_unit_code, procedure_code, channel, "
        f"assignee, received_at, due_at FROM dossiers{where} "
        f"ORDER BY due_at ASC NULLS LAST, code ASC LIMIT ${len(args)}", *args)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return DossierPage(
        items=[summary(r) for r in rows],
        next_cursor=encode_cursor(last["due_at"], last["code"]) if more and last else None)


@dataclass(frozen=True)
class WaitingStep:
    """A step waiting on someone: the dossier, the step's name and its due instant."""

    code: str
    procedure_code: str
    state: str
    step: int  # 0-based
    name: str
    unit_code: str
    holder: str | None  # the person it was handed to, when named
    started_at: datetime
    due_at: datetime | None  # None: an untimed step


async def waiting_on(pool: asyncpg.Pool, username: str, roles: frozenset[str],
                     unit: str | None, *, limit: int = 100) -> list[WaitingStep]:
    """The steps waiting on `username` (issue 22 item 6, "my dossiers"): open dossiers whose
    current step was handed to them by name, or is a step of one of their `roles` (token
    roles; a catalog role acts through `domain.walk.STEP_ROLE_SENDERS`) in their `unit` (any
    unit for a user not limited to one) handed to nobody by name; the soonest due first
    (untimed steps last). From the `step_runs` read model (migration 0017)."""
    step_roles = [step for step, sender in STEP_ROLE_SENDERS.items() if sender in roles]
    rows = await pool.fetch(
        "SELECT s.code, d.procedure_code, d.state, s.step, s.name, s.unit_code, s.holder, "
        "s.started_at, s.due_at FROM step_runs s JOIN dossiers d ON d.code = s.code "
        "WHERE s.ended_at IS NULL AND d.closed_at IS NULL AND (s.holder = $1 OR "
        "(s.holder IS NULL AND s.role = ANY($2::text[]) "
        "AND ($3::text IS NULL OR s.unit_code = $3))) "
        "ORDER BY s.due_at NULLS LAST, s.code LIMIT $4", username, step_roles, unit, limit)
    return [WaitingStep(**dict(r)) for r in rows]


async def with_steps(pool: asyncpg.Pool, codes: list[str]) -> set[str]:
    """Which of `codes` walk an internal procedure (have step runs)."""
    rows = await pool.fetch("SELECT DISTINCT code FROM step_runs WHERE code = ANY($1::text[])",
                            codes)
    return {r["code"] for r in rows}
