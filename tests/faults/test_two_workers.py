"""Two workers on one task queue, one SIGKILLed while the dossiers' overdue alerts fall due
(issue 13 point 6): the other takes over its workflows and every dossier still gets exactly one
overdue alert. A whole stack as child processes (`bench.harness.running_stack`), the storm
staged as `python -m bench --only workers` stages it (`bench.workers.storm`), small."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bench.harness import running_stack
from bench.workers import SECOND_WORKER, start_second_worker, storm, storm_env

pytestmark = [pytest.mark.engine, pytest.mark.timeout(150)]

DOSSIERS, WINDOW_S = 40, 8.0

_OVERDUE = """
SELECT stream, count(*) FILTER (WHERE event_type = 'DeadlineAlertRaised'
                                  AND payload->>'kind' = 'overdue') AS overdue,
       count(*) AS events, count(DISTINCT position) AS positions, max(position) AS last
FROM events WHERE stream = ANY($1::text[]) GROUP BY stream
"""


async def test_a_sigkilled_worker_leaves_exactly_one_overdue_alert_per_dossier(
        tmp_path: Path) -> None:
    async with running_stack("two-workers", env=storm_env(tmp_path)) as run:
        await start_second_worker(run.stack)
        result = await storm(run, DOSSIERS, WINDOW_S, kill="worker", drain_s=45.0)
        conn = await asyncpg.connect(run.stack.postgres.dsn)
        try:
            rows = await conn.fetch(_OVERDUE, result.codes)
        finally:
            await conn.close()
        survivor_alive = run.stack.children[SECOND_WORKER].poll() is None
        killed_gone = "worker" not in run.stack.children
    assert result.killed_after_s is not None and 0 < result.killed_after_s < WINDOW_S, \
        f"the kill was not within the due window: {result.killed_after_s}"
    assert killed_gone and survivor_alive
    assert len(result.codes) == DOSSIERS
    overdue = {r["stream"]: r["overdue"] for r in rows}
    assert set(overdue) == set(result.codes)
    missing = [code for code, n in overdue.items() if n == 0]
    repeated = [code for code, n in overdue.items() if n > 1]
    assert not missing and not repeated, f"no alert: {missing}; more than one: {repeated}"
    # No append was made twice: each stream's positions are 1..n, once each.
    assert all(r["events"] == r["positions"] == r["last"] for r in rows)
    assert result.exactly_one_each and result.duplicates == 0
