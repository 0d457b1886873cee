"""Migration 0014 (report definition 2026-12.1): counts made under 2026-11.3, where a refusal,
withdrawal or stop was early, on time or late, are moved to the new verdicts exactly as the
projector would now count them (checked against a recount from the migrated facts)."""

from __future__ import annotations

import asyncpg

from motcua.eventstore import reporting
from motcua.eventstore.migrate import available
from tests.report_data import Hand, data  # noqa: F401 (fixture)

# Rows whose measures are all zero are left by the incremental path and not by a recount.
_ORDER = (f"WHERE ({' OR '.join(f'{m} <> 0' for m in reporting.MEASURES)}) "
          "ORDER BY grain, scope, bucket, unit_code, procedure_code")


async def test_migration_moves_old_verdicts_to_the_new_ones(
        pool: asyncpg.Pool, data: dict[str, Hand]) -> None:  # noqa: F811
    """Facts of closed dossiers put back as 2026-11.3 had them (early, late) and counted so;
    the migration's data part gives the counts the projector keeps today."""
    migration = next(m for m in available() if m.version == 14)
    moves = migration.sql[migration.sql.index("-- Facts already projected"):]
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            closed = await conn.fetchval(
                "SELECT count(*) FROM report_facts WHERE timeliness LIKE 'closed%'")
            assert closed >= 3  # refused, stopped, withdrawn among the report data
            now = await conn.fetch(f"SELECT * FROM report_counts {_ORDER}")
            await conn.execute(
                "UPDATE report_facts SET timeliness = CASE timeliness WHEN 'closed_late' "
                "THEN 'late' ELSE 'early' END WHERE timeliness LIKE 'closed%'")
            await reporting.recount(conn)
            old = await conn.fetch(f"SELECT * FROM report_counts {_ORDER}")
            assert old != now  # the old definition counted them elsewhere
            await conn.execute(moves)
            assert await conn.fetch(f"SELECT * FROM report_counts {_ORDER}") == now
            assert await conn.fetchval(
                "SELECT count(*) FROM report_facts WHERE timeliness LIKE 'closed%'") == closed
        finally:
            await tx.rollback()
