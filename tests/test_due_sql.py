"""The SQL of `motcua.eventstore.due` says what `domain.due` says, on a grid of states, due
instants and clock instants, in the real PostgreSQL (rows inserted in a transaction that is
rolled back)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain import due
from domain.states import DossierState
from motcua.eventstore.due import next_change_sql, status_sql

pytestmark = pytest.mark.engine

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LEGAL = datetime(2026, 12, 18, 17, 0, tzinfo=VN)
SOON = datetime(2026, 12, 17, 17, 0, tzinfo=VN)
NOWS = [SOON - timedelta(days=1), SOON - timedelta(microseconds=1), SOON,
        LEGAL - timedelta(microseconds=1), LEGAL, LEGAL + timedelta(days=3)]


class _Rollback(Exception):
    pass


async def test_sql_status_and_next_change_match_the_domain(pool: asyncpg.Pool) -> None:
    cases = list(itertools.product(DossierState, [LEGAL, None], [SOON, None]))
    found: dict[tuple[int, datetime], tuple[str, datetime | None]] = {}
    async with pool.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                for i, (state, judged, soon) in enumerate(cases):
                    await conn.execute(
                        "INSERT INTO dossiers (code, unit_code, procedure_code, state, "
                        "status_code, sla_status, channel, received_at, due_at, due_soon_at, "
                        "judged_due_at, version, updated_at, snapshot) VALUES ($1, 'SQL.TEST', "
                        "'1.004222', $2, 0, 'on_track', 'counter', now(), $3, $4, $3, 1, "
                        "now(), '{}'::jsonb)", f"SQL-{i}", state.value, judged, soon)
                for now in NOWS:
                    rows = await conn.fetch(
                        f"SELECT code, {status_sql('$1')} AS status, "
                        f"{next_change_sql('$1')} AS next FROM dossiers "
                        "WHERE unit_code = 'SQL.TEST'", now)
                    for r in rows:
                        found[(int(r["code"][4:]), now)] = (r["status"], r["next"])
                raise _Rollback
    for (i, now), (status, upcoming) in sorted(found.items(), key=lambda kv: kv[0]):
        state, judged, soon = cases[i]
        assert status == due.status_at(state, judged, soon, now).value, (state, judged, soon, now)
        assert upcoming == due.next_change(state, judged, soon, now), (state, judged, soon, now)
    assert len(found) == len(cases) * len(NOWS)
