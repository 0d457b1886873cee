"""The key store: one data key per dossier, wrapped by the master key, kept apart from the data.

By default the keys sit in the main database's schema `motcua_keys`; production sets
MOTCUA_KEYSTORE_URL to a database of their own, backed up on its own (shorter) schedule, and
data backups leave the schema out (`pg_dump --exclude-schema=motcua_keys`). Erasing a dossier
overwrites its wrapped key and keeps a tombstone, so no new key is ever made for an erased
dossier and restoring an old *data* backup brings back only ciphertext nobody can open
(deploy/FILES.md says the same for operators).

The key store creates its own table (it may live in a database the migrations never see).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from motcua.files import crypto

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS motcua_keys;
CREATE TABLE IF NOT EXISTS motcua_keys.dossier_keys (
    code       text        PRIMARY KEY,
    wrapped    bytea,                      -- NULL once erased
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);
"""


class KeyErased(Exception):
    """The dossier's key was destroyed: its files can never be read again."""


class KeyStore:
    """Per-dossier data keys in `pool`'s database, wrapped by `master`."""

    def __init__(self, pool: asyncpg.Pool, master: bytes) -> None:
        self._pool = pool
        self._master = master
        self._ready = False

    async def ensure(self) -> None:
        if not self._ready:
            # Two processes starting at once may both try: the lock serialises the DDL.
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(0x6d6b6579)")  # "mkey"
                await conn.execute(_SCHEMA)
            self._ready = True

    async def key_for(self, code: str, *, create: bool) -> bytes | None:
        """The dossier's data key; made on first use when `create`, else None when it has none.
        `KeyErased` once erased, whatever `create` says."""
        await self.ensure()
        if create:
            wrapped = crypto.seal(self._master, crypto.new_key(), f"key:{code}")
            await self._pool.execute(
                "INSERT INTO motcua_keys.dossier_keys (code, wrapped) VALUES ($1, $2) "
                "ON CONFLICT (code) DO NOTHING", code, wrapped)
        row = await self._pool.fetchrow(
            "SELECT wrapped, erased_at FROM motcua_keys.dossier_keys WHERE code = $1", code)
        if row is None:
            return None
        if row["erased_at"] is not None:
            raise KeyErased(code)
        return crypto.open_sealed(self._master, bytes(row["wrapped"]), f"key:{code}")

    async def destroy(self, code: str) -> datetime:
        """Overwrite the dossier's key with nothing and keep a tombstone (also for a dossier
        that never had a key, so none is made later); the instant of the first erasure."""
        await self.ensure()
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO motcua_keys.dossier_keys AS k (code, wrapped, erased_at) "
                "VALUES ($1, NULL, now()) ON CONFLICT (code) DO UPDATE "
                "SET wrapped = NULL, erased_at = coalesce(k.erased_at, now()) "
                "RETURNING erased_at", code)
        if row is None:  # RETURNING yields the row on insert and on update alike
            raise RuntimeError(f"no tombstone written for {code}")
        erased: datetime = row["erased_at"]
        return erased
