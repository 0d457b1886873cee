"""Building the file service from the settings, for the API, the console and the CLI."""

from __future__ import annotations

import asyncpg

from motcua.files import crypto
from motcua.files.keys import KeyStore
from motcua.files.service import Files
from motcua.files.settings import FileSettings
from motcua.files.store import file_store_for


class NotConfigured(Exception):
    """Files cannot be used: no (valid) master key, or the key store is unreachable."""


async def build(settings: FileSettings, pool: asyncpg.Pool) -> tuple[Files, asyncpg.Pool | None]:
    """The service over `pool`, and the key store's own pool when MOTCUA_KEYSTORE_URL names
    one (the caller closes it)."""
    if settings.files_master_key is None:
        raise NotConfigured("files are not configured: set MOTCUA_FILES_MASTER_KEY")
    try:
        master = crypto.master_key(settings.files_master_key.get_secret_value())
    except ValueError as err:
        raise NotConfigured(str(err)) from err
    own: asyncpg.Pool | None = None
    if settings.keystore_url:
        try:
            own = await asyncpg.create_pool(settings.keystore_url, min_size=0, max_size=4,
                                            command_timeout=10)
        except (OSError, asyncpg.PostgresError) as err:
            raise NotConfigured(f"the key store is unreachable: {err}") from err
    service = Files(pool=pool, keys=KeyStore(own or pool, master),
                    store=file_store_for(settings, pool), max_bytes=settings.file_max_bytes)
    return service, own
