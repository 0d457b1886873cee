"""The projector: folds new events into the read models (`dossiers`, `work_queue`, `step_runs`).

It reads events in commit order, `(tx_id, global_position)`, and only from transactions older
than every transaction still in flight (`pg_snapshot_xmin`). Identity values are handed out at
insert time, not commit time, so a plain `global_position > last` reader could skip a row that
commits late; the transaction-id guard cannot. Each batch updates the read models and the
checkpoint in one transaction, so a crash mid-batch replays the batch and changes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from datetime import datetime, tzinfo

import asyncpg
import structlog

from domain import events as ev
from domain import walk
from domain.codec import from_dict, to_dict
from domain.dossier import Dossier, evolve
from motcua.catalog.calendar import office_zone
from motcua.eventstore import counting, reporting, store
from motcua.eventstore.store import NOTIFY_CHANNEL, Conn
from motcua.metrics import PROJECTION_LAG

log = structlog.get_logger(__name__)

NAME = "dossiers"
BATCH = 500
# How long `rebuild` waits for transactions older than itself to commit their events.
REBUILD_WAIT_SECONDS = 30.0

# The commit-order guard: events after the checkpoint ($1 tx id as text, $2 global position),
# from transactions older than every one still in flight. Shared with the notification
# dispatcher (motcua.eventstore.outbox), which reads the same way under its own checkpoint.
COMMITTED_AFTER = ("(e.tx_id, e.global_position) > ($1::text::xid8, $2) "
                   "AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())")

_FETCH = f"""
SELECT e.tx_id::text AS tx_text, {store.COLUMNS}
FROM events e
WHERE {COMMITTED_AFTER}
ORDER BY e.tx_id, e.global_position
LIMIT $3
"""

_UPSERT = """
INSERT INTO dossiers (code, unit_code, procedure_code, state, status_code, sla_status, channel,
    assignee, received_at, due_at, due_soon_at, original_due_at, deadline_version,
    calendar_version, catalog_version, apology_sent, overdue_without_apology,
    supplement_requests, paused_seconds, finished_at, closed_at, timeliness, satisfaction,
    version, updated_at, snapshot, judged_due_at, holding_unit_code)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
    $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[],
    $12::timestamptz[], $13::int[], $14::text[], $15::text[], $16::bool[], $17::bool[],
    $18::int[], $19::bigint[], $20::timestamptz[], $21::timestamptz[], $22::text[],
    $23::text[], $24::int[], $25::timestamptz[], $26::jsonb[], $27::timestamptz[],
    $28::text[])
ON CONFLICT (code) DO UPDATE SET
    unit_code = excluded.unit_code, procedure_code = excluded.procedure_code,
    state = excluded.state, status_code = excluded.status_code,
    sla_status = excluded.sla_status, channel = excluded.channel,
    assignee = excluded.assignee, received_at = excluded.received_at,
    due_at = excluded.due_at, due_soon_at = excluded.due_soon_at,
    original_due_at = excluded.original_due_at, deadline_version = excluded.deadline_version,
    calendar_version = excluded.calendar_version, catalog_version = excluded.catalog_version,
    apology_sent = excluded.apology_sent,
    overdue_without_apology = excluded.overdue_without_apology,
    supplement_requests = excluded.supplement_requests,
    paused_seconds = excluded.paused_seconds, finished_at = excluded.finished_at,
    closed_at = excluded.closed_at, timeliness = excluded.timeliness,
    satisfaction = excluded.satisfaction, version = excluded.version,
    updated_at = excluded.updated_at, snapshot = excluded.snapshot,
    judged_due_at = excluded.judged_due_at, holding_unit_code = excluded.holding_unit_code
"""


# The step-verdict read model (migration 0017): one row per run of a step.
STEP_EVENTS = (ev.StepsBegun, ev.StepHandedOver, ev.StepSentBack, ev.StepDueSet)
STEP_COLUMNS = ("code", "run", "step", "name", "role", "unit_code", "receiving_unit",
                "procedure_code", "holder", "giver", "started_at", "due_at", "ended_at",
                "outcome", "timeliness")
_UPSERT_STEPS = f"""
INSERT INTO step_runs ({", ".join(STEP_COLUMNS)})
SELECT * FROM unnest($1::text[], $2::int4[], $3::int4[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[],
    $13::timestamptz[], $14::text[], $15::text[])
ON CONFLICT (code, run) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in STEP_COLUMNS[2:])}
"""


def step_rows(d: Dossier) -> list[tuple[object, ...]]:
    """The `step_runs` rows of `d`: each run with its step, the unit answering for it, the
    person who held it (the one it was handed to when named, else the one who ended it, as
    the control slip names a late step's person) and its verdict by instant
    (`domain.walk.verdict`)."""
    plan = d.step_plan
    if plan is None:
        return []
    out: list[tuple[object, ...]] = []
    for i, r in enumerate(d.step_runs):
        step = plan.steps[r.step]
        verdict = walk.verdict(r)
        out.append((d.code, i, r.step, step.name, step.role, step.unit_code, d.unit_code,
                    d.procedure_code, r.receiver or r.ended_by or None, r.giver, r.started_at,
                    r.due_at, r.ended_at, r.outcome, verdict.value if verdict else None))
    return out


def _row(d: Dossier, updated_at: datetime) -> tuple[object, ...]:
    # The column `received_at` is the instant the processing time counts from
    # (`Dossier.period_start`): the receipt, or for an online submission the complete
    # submission (also before acceptance, while no due time is set: such rows have
    # `due_at` NULL, which keeps them out of what-if and the forecast).
    start = d.period_start
    assert d.state is not None and start is not None
    paused = sum(int((p.end - p.start).total_seconds()) for p in d.pauses)
    return (d.code, d.unit_code, d.procedure_code, d.state.value, d.state.status_code,
            d.recorded_sla_status().value, d.channel.value, d.assignee, start, d.due_at,
            d.due_soon_at, d.original_due_at, d.deadline_version, d.calendar_version,
            # `apology_sent`: the apology counts once it reached the citizen (recorded, and
            # delivered on a chosen channel: `Dossier.apology_reached_citizen`, issue 25); the
            # overdue-without-apology gauge reads it (motcua.metrics).
            d.catalog_version, d.apology_reached_citizen,
            d.overdue_without_apology_raised_for > 0 and not d.extended,
            d.supplement_requests, paused, d.finished_at, d.closed_at,
            d.timeliness.value if d.timeliness else None,
            d.satisfaction.value if d.satisfaction else None, d.version, updated_at,
            json.dumps(to_dict(d), ensure_ascii=False), d.judged_due_at,
            d.holding_unit_code)


async def project_batch(conn: Conn, limit: int = BATCH, *, count_metrics: bool = True,
                        tz: tzinfo | None = None) -> int:
    """Project the next batch of committed events; returns how many were applied. Report
    dates are office dates in `tz`, the calendar's zone (`runtime.calendar_for(settings).tz`;
    default: the domain's default office zone)."""
    async with conn.transaction():
        cp = await checkpoint(conn, NAME)
        rows = await conn.fetch(_FETCH, cp["tx_text"], cp["global_position"], limit)
        if not rows:
            return 0
        streams = sorted({r["stream"] for r in rows})
        snapshots = {
            r["code"]: from_dict(Dossier, json.loads(r["snapshot"]))
            for r in await conn.fetch(
                "SELECT code, snapshot FROM dossiers WHERE code = ANY($1) FOR UPDATE", streams)
        }
        applied: list[reporting.Applied] = []
        stepped: set[str] = set()
        for r in rows:
            event = store.envelope(r).event
            before = snapshots.get(r["stream"], Dossier())
            state = evolve(before, event)
            snapshots[r["stream"]] = state
            applied.append(reporting.Applied(event, before, state))
            if isinstance(event, STEP_EVENTS):
                stepped.add(r["stream"])
        await _write(conn, [snapshots[s] for s in streams], rows[-1]["recorded_at"])
        step_out = [row for s in sorted(stepped) for row in step_rows(snapshots[s])]
        if step_out:
            await conn.execute(_UPSERT_STEPS, *zip(*step_out, strict=True))
        await reporting.apply(conn, applied, tz or office_zone())
        await advance(conn, NAME, rows[-1])
    if count_metrics:
        counting.count((a.event, a.after) for a in applied)  # after the commit: once each
    return len(rows)


async def checkpoint(conn: Conn, name: str) -> asyncpg.Record:
    """The checkpoint `name` (`tx_text`, `global_position`), created at zero if new and locked
    until the caller's transaction ends (one reader per checkpoint at a time)."""
    cp = await conn.fetchrow(
        "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) "
        "DO UPDATE SET name = excluded.name "
        "RETURNING tx_id::text AS tx_text, global_position", name)
    assert cp is not None  # INSERT ... RETURNING always returns the row
    return cp


async def advance(conn: Conn, name: str, last: asyncpg.Record) -> None:
    """Move checkpoint `name` past `last` (a row with `tx_text`, `global_position`,
    `recorded_at`), in the caller's transaction."""
    await conn.execute(
        "UPDATE projection_checkpoints SET tx_id = $2::text::xid8, global_position = $3, "
        "last_recorded_at = $4, updated_at = now() WHERE name = $1",
        name, last["tx_text"], last["global_position"], last["recorded_at"])


async def _write(conn: Conn, dossiers: Sequence[Dossier],
                 updated_at: datetime) -> None:
    rows = [_row(d, updated_at) for d in dossiers if d.state is not None]
    columns = list(zip(*rows, strict=True))
    await conn.execute(_UPSERT, *columns)
    open_rows = [d for d in dossiers if d.is_open and d.state is not None]
    closed = [d.code for d in dossiers if not d.is_open]
    if closed:
        await conn.execute("DELETE FROM work_queue WHERE code = ANY($1)", closed)
    if open_rows:
        await conn.executemany(
            "INSERT INTO work_queue (code, unit_code, procedure_code, state, sla_status, "
            "assignee, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE "
            "SET state = excluded.state, sla_status = excluded.sla_status, "
            "assignee = excluded.assignee, due_at = excluded.due_at",
            [(d.code, d.unit_code, d.procedure_code, d.state.value if d.state else "",
              d.recorded_sla_status().value, d.assignee, d.due_at) for d in open_rows])


async def catch_up(conn: Conn, *, count_metrics: bool = True, tz: tzinfo | None = None) -> int:
    """Project until no committed event is left; returns how many were applied."""
    total = 0
    while applied := await project_batch(conn, count_metrics=count_metrics, tz=tz):
        total += applied
    return total


async def rebuild(conn: Conn, *, tz: tzinfo | None = None) -> int:
    """Drop the read models' contents and project every event again from zero: at least every
    event whose transaction began before the call (waiting up to `REBUILD_WAIT_SECONDS` for
    those still running), and whatever else has committed by then."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE projection_checkpoints IN EXCLUSIVE MODE")
        await conn.execute("TRUNCATE dossiers, work_queue, step_runs")
        await reporting.reset(conn)
        await conn.execute("DELETE FROM projection_checkpoints WHERE name = $1", NAME)
        # Transactions that started before this point may still be appending; their events
        # become readable only once they end (the commit-order guard), after which they too
        # must be in the rebuilt rows.
        horizon = await conn.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
    total = 0
    deadline = time.monotonic() + REBUILD_WAIT_SECONDS
    while True:
        total += await catch_up(conn, count_metrics=False, tz=tz)  # history counted already
        behind = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM events e LEFT JOIN projection_checkpoints c "
            "ON c.name = $1 WHERE e.tx_id < $2::text::xid8 AND (e.tx_id, e.global_position) "
            "> (coalesce(c.tx_id, '0'::xid8), coalesce(c.global_position, 0)))", NAME, horizon)
        if not behind or time.monotonic() > deadline:
            return total
        await asyncio.sleep(0.05)


async def lag_seconds(conn: Conn | asyncpg.Pool) -> float:
    """Age of the oldest stored event the projector has not applied yet (0 when caught up)."""
    value = await conn.fetchval(
        "SELECT extract(epoch FROM clock_timestamp() - min(e.stored_at)) FROM events e "
        "LEFT JOIN projection_checkpoints c ON c.name = $1 "
        "WHERE (e.tx_id, e.global_position) > (coalesce(c.tx_id, '0'::xid8), "
        "coalesce(c.global_position, 0))", NAME)
    return float(value or 0.0)


async def run(pool: asyncpg.Pool, stop: asyncio.Event, poll_interval: float = 1.0, *,
              tz: tzinfo | None = None, gather: float = 0.05) -> None:
    """Project continuously until `stop` is set: wake on NOTIFY, poll as a fallback, and
    ride out a database outage (reconnect and resume from the checkpoint).

    Woken by a NOTIFY, it waits `gather` seconds (`MOTCUA_PROJECTOR_GATHER_MS`) before reading,
    so that the events of the next few milliseconds share one batch: a batch costs about ten
    round trips whatever its size, and under load one came per event (issue 13: the projector
    and PostgreSQL were a sixth of the CPU per lifecycle). The read models lag by that much
    more; the API's answers come from the workflow, not from them."""
    wake = asyncio.Event()

    def _notified(*_args: object) -> None:
        wake.set()

    while not stop.is_set():
        try:
            async with pool.acquire() as listener:
                await listener.add_listener(NOTIFY_CHANNEL, _notified)
                try:
                    while not stop.is_set() and not listener.is_closed():
                        wake.clear()
                        async with pool.acquire() as conn:
                            # Measured on waking, before catching up: how far behind we were.
                            PROJECTION_LAG.set(await lag_seconds(conn))
                            applied = await catch_up(conn, tz=tz)
                        if applied:
                            log.debug("projector.applied", events=applied)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(_either(wake, stop), timeout=poll_interval)
                        if gather > 0 and wake.is_set():
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(stop.wait(), timeout=gather)
                finally:
                    # Back to the pool without a listener (asyncpg warns otherwise), as the
                    # dispatcher does.
                    if not listener.is_closed():
                        await listener.remove_listener(NOTIFY_CHANNEL, _notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            log.warning("projector.database_unavailable", error=str(err))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_interval)


async def _either(a: asyncio.Event, b: asyncio.Event) -> None:
    tasks = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


__all__ = ["COMMITTED_AFTER", "STEP_COLUMNS", "advance", "catch_up", "checkpoint", "lag_seconds",
           "project_batch", "rebuild", "run", "step_rows"]
