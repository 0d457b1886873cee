"""The ASGI application: `create_app()` (served by `motcua api` with uvicorn's factory mode).

The lifespan makes the process's one Temporal client and one asyncpg pool (in the background,
so the API starts and answers 503 while a dependency is down), and runs the housekeeping
tasks: expiring idempotency keys and refreshing the open-dossier gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from temporalio.client import Client

from motcua import metrics
from motcua.api import idempotency, problems
from motcua.api.middleware import RequestContext
from motcua.api.resources import Resources
from motcua.api.routes import actions, catalog, documents, dossiers, ops, public, reports
from motcua.catalog_source import load_catalog
from motcua.config import Settings
from worker import calendar_for

log = structlog.get_logger(__name__)

PURGE_INTERVAL = 3600.0
DESCRIPTION = """\
The one-stop-shop dossier API. Authenticate with `Authorization: Bearer <token>`
(`motcua token create --name N --role R [--unit U]`); a token bound to a unit sees only that
unit's dossiers (others answer 404, as if absent). Every failure is an RFC 9457
`application/problem+json` document whose `type` URI is stable. Send an `Idempotency-Key`
header with every POST so that a retry never receives a dossier twice. Each response carries
`X-Correlation-Id` (yours, or a new one), also written into the events it caused.
"""


async def _housekeeping(resources: Resources) -> None:
    """Once PostgreSQL is reachable: keep the open-dossier gauges fresh, expire old keys."""
    await resources.pool_ready.wait()
    pool = resources.db()
    refresher = asyncio.create_task(metrics.run_refresher(pool), name="open-dossiers")
    try:
        while True:
            try:
                purged = await idempotency.purge(pool)
                if purged:
                    log.info("idempotency.purged", keys=purged)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                log.warning("idempotency.purge_failed", error=str(err))
            await asyncio.sleep(PURGE_INTERVAL)
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=app.openapi_tags)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            problems.ProblemModel.model_json_schema(
                ref_template="#/components/schemas/{model}"))
        defs = schema["components"]["schemas"]["Problem"].pop("$defs", {})
        schema["components"]["schemas"].update(defs)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings | None = None, *, client: Client | None = None,
               pool: asyncpg.Pool | None = None) -> FastAPI:
    """The API. Without `client`/`pool` it connects per `settings` (from the environment by
    default); injected ones are used as they are and left open at shutdown."""
    settings = settings or Settings()
    resources = Resources(
        settings=settings, catalog=load_catalog(settings.procedures_file, settings.units_file),
        calendar=calendar_for(settings),
        client=client, pool=pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = resources
        resources.start()
        resources.tasks.append(asyncio.create_task(_housekeeping(resources),
                                                   name="housekeeping"))
        log.info("api.started", task_queue=settings.task_queue)
        try:
            yield
        finally:
            await resources.close()
            log.info("api.stopped")

    app = FastAPI(title="motcua", version="1", description=DESCRIPTION, lifespan=lifespan,
                  openapi_tags=[
                      {"name": "dossiers", "description": "Receive, look up and list."},
                      {"name": "actions", "description": "Lifecycle commands (updates)."},
                      {"name": "documents", "description": "Citizen documents (HTML)."},
                      {"name": "catalog", "description": "Procedures and units."},
                      {"name": "reports", "description": "SLA reports (Biểu 06, Decision 766)."},
                      {"name": "public", "description": "Citizens' lookup, no token."},
                      {"name": "operations", "description": "Health and metrics."}])
    app.state.resources = resources
    problems.install(app)
    app.add_middleware(RequestContext)
    for module in (dossiers, actions, documents, catalog, public, ops, reports):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
