"""The dossier register (Sổ theo dõi hồ sơ): every daily number a unit hands out has a line.

A unit's daily numbers are the register's line numbers, so none may vanish. A number is
allocated in the same transaction as what it is for (the Idempotency-Key claim of a receipt,
`motcua.services.idempotency`): a duplicate or a request refused before allocation spends none,
and a rolled-back transaction gives its number back. Once the number is out, the receipt may
still fail in the engine: its line stays, marked void with the reason — the struck-through
line of a paper register — never a silent gap. No lock is held while Temporal is called: the
transaction that allocates ends before the receipt is sent to the engine.

Line status: `allocated` (number out, receipt not confirmed yet), `received`, `void`. A line
left `allocated` (the API lost its answer from Temporal) is settled by its events:
`register_lines` reports whether the dossier's stream exists.
"""

from __future__ import annotations

from datetime import date

import asyncpg

from domain.codes import format_code
from motcua.eventstore.store import Conn, allocate_code_sequence

MAX_REASON = 500


async def allocate(conn: Conn, unit_code: str, day: date, *,
                   allocated_by: str) -> str:
    """The next code of `unit_code` on `day`, with its register line; call it inside the
    transaction that the number belongs to."""
    seq = await allocate_code_sequence(conn, unit_code, day)
    code = format_code(unit_code, day, seq)
    await conn.execute(
        "INSERT INTO dossier_register (unit_code, day, seq, dossier_code, allocated_by) "
        "VALUES ($1, $2, $3, $4, $5)", unit_code, day, seq, code, allocated_by)
    return code


async def allocate_now(pool: asyncpg.Pool, unit_code: str, day: date, *,
                       allocated_by: str) -> str:
    """`allocate` in a transaction of its own (a receipt without an Idempotency-Key)."""
    async with pool.acquire() as conn, conn.transaction():
        return await allocate(conn, unit_code, day, allocated_by=allocated_by)


async def received(pool: asyncpg.Pool | Conn, code: str) -> None:
    """The engine recorded the receipt of `code`."""
    await pool.execute(
        "UPDATE dossier_register SET status = 'received', void_reason = NULL, "
        "updated_at = now() WHERE dossier_code = $1 AND status <> 'received'", code)


async def void(pool: asyncpg.Pool | Conn, code: str, reason: str) -> None:
    """The engine refused the receipt of `code`: its line stays, struck through."""
    await pool.execute(
        "UPDATE dossier_register SET status = 'void', void_reason = $2, updated_at = now() "
        "WHERE dossier_code = $1 AND status = 'allocated'", code, reason[:MAX_REASON] or "-")


async def register_lines(pool: asyncpg.Pool | Conn, unit_code: str,
                         day: date) -> list[asyncpg.Record]:
    """The register of `unit_code` on `day`, in number order, with whether each line's
    dossier has events (settles lines still `allocated`)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT r.seq, r.dossier_code, r.status, r.void_reason, r.allocated_by, "
        "r.allocated_at, EXISTS (SELECT 1 FROM events e WHERE e.stream = r.dossier_code) "
        "AS has_events FROM dossier_register r WHERE r.unit_code = $1 AND r.day = $2 "
        "ORDER BY r.seq", unit_code, day)
    return rows


async def register_between(pool: asyncpg.Pool | Conn, unit_code: str, first: date,
                           last: date) -> list[asyncpg.Record]:
    """The register of `unit_code` from `first` to `last` (both inclusive), by day and
    number: the columns of `register_lines` plus `day`, and the procedure and applicant name
    of the receipt (NULL for a line whose dossier has no receipt event)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT r.day, r.seq, r.dossier_code, r.status, r.void_reason, r.allocated_by, "
        "r.allocated_at, e.stream IS NOT NULL AS has_events, "
        "e.payload->>'procedure_code' AS procedure_code, "
        "e.payload->>'applicant_name' AS applicant_name "
        "FROM dossier_register r LEFT JOIN events e ON e.stream = r.dossier_code "
        "AND e.position = 1 WHERE r.unit_code = $1 AND r.day BETWEEN $2 AND $3 "
        "ORDER BY r.day, r.seq", unit_code, first, last)
    return rows
