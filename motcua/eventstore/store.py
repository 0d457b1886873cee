"""Appending to and reading from the event store (asyncpg). Events go in and come out as the
domain's `EventEnvelope`; reading back adds the global position."""

from __future__ import annotations

import json
from datetime import date

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.contracts import AppendResult
from domain.envelope import EventEnvelope

NOTIFY_CHANNEL = "motcua_events"

# A connection, whether taken from a pool or opened on its own.
Conn = asyncpg.Connection | PoolConnectionProxy


class StreamConflict(Exception):
    """Another writer holds a position this append wanted, or the stream would have a gap.
    Never expected (each stream has one writer, its workflow); retrying cannot help."""


_INSERT = """
INSERT INTO events (stream, position, event_id, event_type, schema_version, payload,
                    metadata, recorded_at)
SELECT $1, e.position, e.event_id, e.event_type, e.schema_version, e.payload, e.metadata,
       e.recorded_at
FROM unnest($2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
            $8::timestamptz[])
     AS e(position, event_id, event_type, schema_version, payload, metadata, recorded_at)
ORDER BY e.position
ON CONFLICT (event_id) DO NOTHING
"""


async def append(conn: Conn, stream: str,
                 events: list[EventEnvelope]) -> AppendResult:
    """Store `events` once each, in one transaction. A retry of an append that already
    committed stores nothing and succeeds; a gap or a foreign event at a position raises
    `StreamConflict`."""
    if not events:
        raise ValueError("nothing to append")
    positions = [e.position for e in events]
    if positions != list(range(positions[0], positions[0] + len(positions))):
        raise StreamConflict(f"{stream}: positions {positions} are not contiguous")
    async with conn.transaction():
        try:
            status = await conn.execute(
                _INSERT, stream, positions, [e.event_id for e in events],
                [e.event_type for e in events], [e.schema_version for e in events],
                [json.dumps(e.payload, ensure_ascii=False) for e in events],
                [json.dumps(e.metadata, ensure_ascii=False) for e in events],
                [e.recorded_at for e in events])
        except asyncpg.UniqueViolationError as err:
            raise StreamConflict(f"{stream}: position taken by another event: {err}") from err
        last = positions[-1]
        # Contiguity guard: positions 1..last must all be there exactly once.
        count = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream = $1 AND position <= $2", stream, last)
        if count != last:
            raise StreamConflict(f"{stream}: {count} events at positions 1..{last}")
        stored = int(status.split()[-1])
        if stored:
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, stream)
        canonical: list[EventEnvelope] = []
        if stored < len(events):
            rows = await conn.fetch(
                f"SELECT {COLUMNS} FROM events WHERE stream = $1 AND position >= $2 "
                "ORDER BY position", stream, positions[0])
            canonical = [envelope(r) for r in rows]
            last = canonical[-1].position
    return AppendResult(stored=stored, last_position=last, canonical=canonical)


COLUMNS = ("global_position, stream, position, event_id::text AS event_id, event_type, "
           "schema_version, payload, metadata, recorded_at")


def envelope(row: asyncpg.Record) -> EventEnvelope:
    """The envelope of an `events` row selected with `COLUMNS`."""
    metadata = json.loads(row["metadata"])
    return EventEnvelope(
        global_position=row["global_position"], stream=row["stream"],
        position=row["position"], event_id=row["event_id"], event_type=row["event_type"],
        schema_version=row["schema_version"], payload=json.loads(row["payload"]),
        metadata={k: str(v) for k, v in metadata.items()}, recorded_at=row["recorded_at"])


async def read_stream(conn: asyncpg.Connection | asyncpg.Pool,
                      stream: str) -> list[EventEnvelope]:
    """A dossier's events in stream order."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM events WHERE stream = $1 ORDER BY position", stream)
    return [envelope(r) for r in rows]


# The events that move a dossier to another unit; each names the unit as `to_unit`.
HOLDER_EVENTS = ("DossierTransferred", "TransferReturned", "ResultSentBack")


async def dossier_units(conn: asyncpg.Connection | asyncpg.Pool,
                        stream: str) -> tuple[str, str] | None:
    """`(receiving unit, holding unit)` of dossier `stream`, from its events (None: no such
    dossier): the first event's `unit_code`, and the `to_unit` of the last transfer, return
    or result sent back (else the receiving unit). Read from the stream, not the read model,
    so a transfer is in force the moment its event is stored (the projector may lag); two
    index lookups on `(stream, position)` (docs/decisions.md, "Unit scope").

    The holder's query picks the last of a few rows per stream: a dossier has tens of events."""
    row = await conn.fetchrow(
        "SELECT (SELECT payload ->> 'unit_code' FROM events "
        "        WHERE stream = $1 AND position = 1) AS receiving, "
        "       (SELECT payload ->> 'to_unit' FROM events "
        "        WHERE stream = $1 AND event_type = ANY($2::text[]) "
        "        ORDER BY position DESC LIMIT 1) AS holding", stream, list(HOLDER_EVENTS))
    if row is None or row["receiving"] is None:
        return None
    return row["receiving"], row["holding"] or row["receiving"]


async def allocate_code_sequence(conn: Conn | asyncpg.Pool, unit_code: str,
                                 day: date) -> int:
    """The next daily sequence number for `unit_code` on `day` (1, 2, ...), atomically."""
    value: int = await conn.fetchval(
        "INSERT INTO dossier_sequences (unit_code, day, last_value) VALUES ($1, $2, 1) "
        "ON CONFLICT (unit_code, day) DO UPDATE "
        "SET last_value = dossier_sequences.last_value + 1 RETURNING last_value",
        unit_code, day)
    return value
