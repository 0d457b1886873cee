"""The active procedure catalog, versioned in PostgreSQL (migration 0007; issue 11 point 2).

`import_version` stores a validated catalog as a new version (not active); `activate` makes a
version the one everybody reads; `CatalogSource` is how the API (receipt checks) and the worker
(deadlines) read it: the active version is looked up in the database at most every `refresh`
seconds, and each version is built once and cached, so an activation is picked up without a
restart and both read the same version. The shipped YAML seeds the first version.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from domain.catalog import Catalog, Procedure, Unit
from motcua.catalog.io import procedure_from_row, row_of
from motcua.catalog.source import catalog_of, unit_from_row
from motcua.catalog.steps_io import from_stored, stored_steps
from motcua.config import Settings

log = structlog.get_logger(__name__)

SEED_ORIGIN = "seed: shipped catalog"
Conn = asyncpg.Connection | PoolConnectionProxy


def _unit_row(unit: Unit) -> dict[str, Any]:
    return {f.name: (v.isoformat() if f.name in ("valid_from", "valid_to") and v else v)
            for f in dataclasses.fields(Unit) if (v := getattr(unit, f.name)) is not None}


def _build(procedures: list[dict[str, Any]], units: list[dict[str, Any]]) -> Catalog:
    procs: dict[str, Procedure] = {}
    for row in procedures:
        proc = from_stored(procedure_from_row(row), row)
        procs[proc.code] = proc
    built_units = {u.code: u for u in (unit_from_row(dict(r)) for r in units)}
    return catalog_of(procs, built_units)


async def import_version(conn: Conn, catalog: Catalog, *, origin: str,
                         actor: str) -> bool:
    """Store `catalog` as a version (by its content version); False when already stored."""
    status: str = await conn.execute(
        "INSERT INTO catalog_versions (version, procedures, units, origin, imported_by) "
        "VALUES ($1, $2::jsonb, $3::jsonb, $4, $5) ON CONFLICT (version) DO NOTHING",
        catalog.version,
        json.dumps([{**row_of(p), **stored_steps(p)} for p in catalog.procedures.values()],
                   ensure_ascii=False),
        json.dumps([_unit_row(u) for u in catalog.units.values()], ensure_ascii=False),
        origin, actor)
    return status.endswith(" 1")


async def activate(conn: Conn, version: str, *, actor: str) -> None:
    """Make `version` the active catalog (`LookupError` if it was never imported)."""
    if await conn.fetchval("SELECT 1 FROM catalog_versions WHERE version = $1", version) is None:
        raise LookupError(f"no catalog version {version!r}; import it first")
    await conn.execute("INSERT INTO catalog_activations (version, activated_by) VALUES ($1, $2)",
                       version, actor)


async def active_version(conn: Conn) -> str | None:
    """The active version, or None before the first activation."""
    version: str | None = await conn.fetchval("SELECT version FROM catalog_active")
    return version


async def load(conn: Conn, version: str) -> Catalog:
    """The stored catalog `version` (`LookupError` if unknown)."""
    row = await conn.fetchrow(
        "SELECT procedures, units FROM catalog_versions WHERE version = $1", version)
    if row is None:
        raise LookupError(f"no catalog version {version!r}")
    return _build(json.loads(row["procedures"]), json.loads(row["units"]))


async def versions(conn: Conn) -> list[dict[str, Any]]:
    """Every stored version, newest first, with whether it is active."""
    active = await active_version(conn)
    rows = await conn.fetch("SELECT version, origin, imported_by, imported_at, "
                            "jsonb_array_length(procedures) AS n FROM catalog_versions "
                            "ORDER BY imported_at DESC")
    return [{**dict(r), "active": r["version"] == active} for r in rows]


async def ensure_seeded(conn: Conn, seed: Catalog) -> str:
    """The active version; the first time, `seed` (the shipped catalog) is stored and made
    active. Safe when several processes start together (an advisory lock serialises them)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('motcua.catalog_seed'))")
        version = await active_version(conn)
        if version is None:
            await import_version(conn, seed, origin=SEED_ORIGIN, actor="system")
            await activate(conn, seed.version, actor="system")
            version = seed.version
    return version


class CatalogSource:
    """The active catalog for a long-running process (API, worker), re-read without restart."""

    def __init__(self, pool: asyncpg.Pool, seed: Catalog, refresh: float = 5.0) -> None:
        self._pool = pool
        self._seed = seed
        self._refresh = refresh
        self._cache: dict[str, Catalog] = {seed.version: seed}
        self._current = seed
        self._checked = float("-inf")

    @property
    def latest(self) -> Catalog:
        """The catalog as last read (no I/O)."""
        return self._current

    @property
    def refresh(self) -> float:
        """Seconds between two looks at the active version."""
        return self._refresh

    async def current(self) -> Catalog:
        """The active catalog, looked up at most every `refresh` seconds. While the database
        cannot be reached the last catalog read is used (and the look is retried next call)."""
        now = time.monotonic()
        if now - self._checked < self._refresh:
            return self._current
        try:
            async with self._pool.acquire() as conn:
                version = await ensure_seeded(conn, self._seed)
                if version not in self._cache:
                    self._cache[version] = await load(conn, version)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            log.warning("catalog.refresh_failed", error=str(err), version=self._current.version)
            return self._current
        if self._cache[version] is not self._current:
            log.info("catalog.active", version=version)
        self._current, self._checked = self._cache[version], now
        return self._current


def source_for(settings: Settings, pool: asyncpg.Pool, seed: Catalog) -> CatalogSource | None:
    """The database catalog source, or None when the settings name catalog files
    (`MOTCUA_PROCEDURES_FILE` / `MOTCUA_UNITS_FILE`): a file named in the environment is used
    as it is (single-file deployments, tests), and the database is not consulted."""
    if settings.procedures_file is not None or settings.units_file is not None:
        return None
    return CatalogSource(pool, seed, refresh=settings.catalog_refresh_seconds)
