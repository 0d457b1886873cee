"""The web process's application: the API (`motcua.api.app.create_api`) with the console's
pages mounted on it (`motcua.console.install`: /, /login, /tra-cuu, /danh-gia, ...). Served by
`motcua api` (uvicorn's factory mode: `motcua.app:create_app`).

Composed here, above both, so that neither interface imports the other: each is an adapter
over the same services (`motcua.services`), sharing the process's `Resources`.
"""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI
from temporalio.client import Client

from motcua import console
from motcua.api.app import create_api
from motcua.config import Settings


def create_app(settings: Settings | None = None, *, client: Client | None = None,
               pool: asyncpg.Pool | None = None) -> FastAPI:
    """The API and the console in one app. Without `client`/`pool` it connects per
    `settings` (from the environment by default); injected ones are used as they are and
    left open at shutdown."""
    app = create_api(settings, client=client, pool=pool)
    console.install(app)
    return app
