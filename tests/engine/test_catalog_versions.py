"""The worker reads the active catalog version from PostgreSQL without a restart, and records
it on the deadline (issue 11 point 2)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import asyncpg

from domain.catalog import TimeUnit
from domain.clock import due_at
from domain.dossier import Dossier
from motcua.catalog import store as catalog_store
from motcua.catalog.source import catalog_of, load_catalog
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.runtime import calendar_for
from tests.conftest import PROCEDURE, Receive, settings_for


async def test_activation_reaches_the_worker_without_restart(
        receive: Receive, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer) -> None:
    shipped = load_catalog()
    proc = shipped.procedure(PROCEDURE)
    published = dataclasses.replace(  # a province's published cut, with its decision
        proc, reduced_amount=1, reduced_unit=TimeUnit.WORKING_DAYS,
        reduced_source="QĐ 9999/QĐ-UBND (test decision)")
    new = catalog_of({**shipped.procedures, PROCEDURE: published}, dict(shipped.units))
    async with pool.acquire() as conn:
        before = await catalog_store.ensure_seeded(conn, shipped)
        await catalog_store.import_version(conn, new, origin="test", actor="tester")
        await catalog_store.activate(conn, new.version, actor="tester")
    try:
        d = await _receipt_under(receive, new.version)
        cal = calendar_for(settings_for(postgres, temporal_server))
        assert d.received_at is not None
        assert d.due_at == due_at(cal, d.received_at, 1, TimeUnit.WORKING_DAYS)
    finally:
        async with pool.acquire() as conn:
            await catalog_store.activate(conn, before, actor="tester")
        await _receipt_under(receive, before)  # the next tests see the shipped catalog


async def _receipt_under(receive: Receive, version: str, within: float = 30.0) -> Dossier:
    """A dossier received once the worker computes deadlines with catalog `version`: received
    again until it does (the tests' worker looks every `catalog_refresh_seconds`)."""
    deadline = time.monotonic() + within
    while True:
        d = await receive()
        if d.catalog_version == version:
            return d
        assert time.monotonic() < deadline, f"the worker still uses {d.catalog_version}"
        await asyncio.sleep(0.1)
