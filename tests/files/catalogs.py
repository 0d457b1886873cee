"""A catalog with one procedure that requires digitisation before assignment (issue 26),
activated for one test and the shipped catalog activated again afterwards."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

import asyncpg

from motcua.catalog import store as catalog_store
from motcua.catalog.source import catalog_of, load_catalog
from tests.conftest import PROCEDURE

# A local code (not in the shipped catalog), so no other test's procedure changes.
FLAGGED = "L.so-hoa-truoc-phan-cong"


@contextlib.asynccontextmanager
async def digitise_first(pool: asyncpg.Pool, base: str = PROCEDURE,
                         code: str = FLAGGED) -> AsyncIterator[str]:
    """The shipped catalog plus `code` (procedure `base`'s times and internal procedure, by
    default the permanent-residence one's, the flag set), active while the block runs; yields
    the code. The processes follow the active
    version within `catalog_refresh_seconds` (0.2 s in the tests): poll, do not sleep."""
    shipped = load_catalog()
    flagged = dataclasses.replace(shipped.procedure(base), code=code,
                                  name="Thủ tục thử: số hóa trước khi phân công",
                                  digitise_before_assign=True)
    new = catalog_of({**shipped.procedures, code: flagged}, dict(shipped.units))
    async with pool.acquire() as conn:
        before = await catalog_store.ensure_seeded(conn, shipped)
        await catalog_store.import_version(conn, new, origin="test", actor="tester")
        await catalog_store.activate(conn, new.version, actor="tester")
    try:
        yield code
    finally:
        async with pool.acquire() as conn:
            await catalog_store.activate(conn, before, actor="tester")
