"""The projector's read models equal a rebuild from zero, and follow the events."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from motcua import dossiers
from motcua.eventstore import projector
from tests.conftest import Receive

pytestmark = pytest.mark.engine

_SNAPSHOT = ("SELECT code, unit_code, state, status_code, sla_status, assignee, due_at, version, "
             "timeliness, snapshot::text FROM dossiers ORDER BY code")


async def test_projection_equals_rebuild_from_zero(client: Client, pool: asyncpg.Pool,
                                                   receive: Receive) -> None:
    """After projecting incrementally, dropping the read models and projecting every event
    again from zero gives the same rows, in the dossiers table and the work queue."""
    codes = []
    for i in range(4):
        d = await receive()
        codes.append(d.code)
        await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer=f"o-{i}"))
    await dossiers.act(client, codes[0], "refuse", cmd.RefuseDossier(reason="sai thẩm quyền"))
    async with pool.acquire() as conn:
        await projector.catch_up(conn)
        before = [tuple(r) for r in await conn.fetch(_SNAPSHOT)]
        queue_before = [tuple(r) for r in await conn.fetch(
            "SELECT * FROM work_queue ORDER BY code")]
        stored = [r[0] for r in await conn.fetch("SELECT event_id FROM events")]
        rebuilt = await projector.rebuild(conn)
        after = [tuple(r) for r in await conn.fetch(_SNAPSHOT)]
        queue_after = [tuple(r) for r in await conn.fetch(
            "SELECT * FROM work_queue ORDER BY code")]
        missed = await conn.fetchval(
            "SELECT count(*) FROM events e JOIN projection_checkpoints c ON c.name = $1 "
            "WHERE e.event_id = ANY($2::uuid[]) "
            "AND (e.tx_id, e.global_position) > (c.tx_id, c.global_position)",
            projector.NAME, stored)
    # Other tests share the database: their workflows may append, and the console tests' own
    # projector (a second projector on the same checkpoint, as in production) may take some of
    # the batches. What must hold: every event stored before the rebuild is behind the
    # checkpoint again, and our dossiers' rows are the same.
    assert rebuilt > 0 and missed == 0
    ours = set(codes)
    assert [r for r in before if r[0] in ours] == [r for r in after if r[0] in ours]
    assert [r for r in queue_before if r[0] in ours] == [r for r in queue_after if r[0] in ours]
    if rebuilt == len(stored):  # nothing else moved meanwhile: the whole tables are identical
        assert before == after and queue_before == queue_after
    rows = {r[0]: r for r in after}
    assert rows[codes[0]][2] == "refused" and rows[codes[1]][2] == "assigned"
    assert codes[0] not in {r[0] for r in queue_after}
    assert codes[1] in {r[0] for r in queue_after}


async def test_event_store_refuses_update_and_delete(pool: asyncpg.Pool,
                                                     receive: Receive) -> None:
    """The events table is append-only: UPDATE, DELETE and TRUNCATE are refused."""
    d = await receive()
    for sql in ("UPDATE events SET event_type = 'x' WHERE stream = $1",
                "DELETE FROM events WHERE stream = $1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(sql, d.code)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("TRUNCATE events")
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1", d.code) == 2
