"""The HTTP API as an ASGI application: `create_api()`. The process serves it with the console
mounted on it (`motcua.app.create_app`, uvicorn's factory in `motcua api`).

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
from motcua.api import docs as api_docs
from motcua.api import problems
from motcua.api.guard import BodyGuard
from motcua.api.middleware import RequestContext
from motcua.api.routes import (
    actions,
    catalog,
    codec,
    documents,
    dossiers,
    files,
    ops,
    public,
    reports,
)
from motcua.api.routes import whatif as whatif_routes
from motcua.catalog import store as catalog_store
from motcua.config import Settings
from motcua.runtime import calendar_for, catalog_for
from motcua.services import idempotency
from motcua.services.resources import Resources
from motcua.whatif import forecast

log = structlog.get_logger(__name__)

PURGE_INTERVAL = 3600.0
DESCRIPTION = """\
The one-stop-shop dossier API. Authenticate with `Authorization: Bearer <token>`
(`motcua token create --name N --role R [--unit U]`); a token bound to a unit sees only that
unit's dossiers (others answer 404, as if absent). Every failure is an RFC 9457
`application/problem+json` document whose `type` URI is stable. Send an `Idempotency-Key`
header with every POST so that a retry never receives a dossier twice. Each response carries
`X-Correlation-Id` (yours, or a new one), also written into the events it caused.

Exceptions to problem+json: a request the HTTP server itself cannot parse — a NUL or another
invalid byte in a header, invalid UTF-8 or percent-encoding in the path, a malformed
Content-Length or chunked encoding — is refused by the server (uvicorn/h11) before it reaches
the application, with a short `text/plain` body (400) and no `X-Correlation-Id`. Writes are
authenticated before their body is read (401 first), and a body that is not declared as JSON
is 415.
"""


async def _follow_catalog(resources: Resources) -> None:
    """Once PostgreSQL is reachable: keep `resources.catalog` the active catalog version in the
    database (motcua.catalog.store), so an activation reaches the API without a restart. Not
    when the settings name catalog files (then the file is the catalog)."""
    await resources.pool_ready.wait()
    source = catalog_store.source_for(resources.settings, resources.db(), resources.catalog)
    if source is None:
        return
    while True:
        resources.catalog = await source.current()
        await asyncio.sleep(source.refresh)


async def _housekeeping(resources: Resources) -> None:
    """Once PostgreSQL is reachable: keep the open-dossier gauges fresh, expire old keys."""
    await resources.pool_ready.wait()
    pool = resources.db()
    refresher = asyncio.create_task(metrics.run_refresher(pool), name="open-dossiers")
    at_risk = asyncio.create_task(  # motcua_dossiers_at_risk and the likely-late list
        forecast.FORECAST.run_refresher(pool, resources.calendar,
                                        catalog=lambda: resources.catalog), name="forecast")
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
        at_risk.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher
        with contextlib.suppress(asyncio.CancelledError):
            await at_risk


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=app.openapi_tags)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            problems.ProblemModel.model_json_schema(
                ref_template="#/components/schemas/{model}"))
        defs = schema["components"]["schemas"]["Problem"].pop("$defs", {})
        schema["components"]["schemas"].update(defs)
        _link_dossier_operations(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _link_dossier_operations(schema: dict[str, Any]) -> None:
    """OpenAPI links: the `code` in a dossier answer feeds every `/v1/dossiers/{code}...`
    operation, so clients (and the stateful fuzzer) can follow a receipt through its life."""
    targets = {op["operationId"]: path for path, item in schema["paths"].items()
               for op in item.values() if isinstance(op, dict) and "operationId" in op
               and path.startswith("/v1/dossiers/{code}")}
    links = {op_id: {"operationId": op_id, "parameters": {"code": "$response.body#/code"}}
             for op_id in targets}
    for path, item in schema["paths"].items():
        if not path.startswith("/v1/dossiers"):
            continue
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for status in ("200", "201"):
                response = op.get("responses", {}).get(status)
                body = (response or {}).get("content", {}).get("application/json", {})
                if body.get("schema", {}).get("$ref", "").endswith(
                        ("/DossierView", "/ReceiptView")):
                    response["links"] = links


def create_api(settings: Settings | None = None, *, client: Client | None = None,
               pool: asyncpg.Pool | None = None) -> FastAPI:
    """The API. Without `client`/`pool` it connects per `settings` (from the environment by
    default); injected ones are used as they are and left open at shutdown."""
    settings = settings or Settings()
    resources = Resources(
        settings=settings, catalog=catalog_for(settings), calendar=calendar_for(settings),
        client=client, pool=pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = resources
        resources.start()
        resources.tasks.append(asyncio.create_task(_follow_catalog(resources),
                                                   name="catalog"))
        resources.tasks.append(asyncio.create_task(_housekeeping(resources),
                                                   name="housekeeping"))
        log.info("api.started", task_queue=settings.task_queue)
        if settings.payload_keys is None:
            log.warning("payload_keys.unset", detail="MOTCUA_PAYLOAD_KEYS is unset: personal "
                        "data is stored in clear in Temporal and in idempotency responses "
                        "(acceptable for tests only; see docs/operations.md, Security)")
        try:
            yield
        finally:
            await resources.close()
            log.info("api.stopped")

    app = FastAPI(title="motcua", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # api_docs serves them without a CDN
                  openapi_tags=[
                      {"name": "dossiers", "description": "Receive, look up and list."},
                      {"name": "actions", "description": "Lifecycle commands (updates)."},
                      {"name": "documents", "description": "Citizen documents (HTML)."},
                      {"name": "files", "description": "Scanned components, signed results."},
                      {"name": "catalog", "description": "Procedures and units."},
                      {"name": "reports", "description": "SLA reports (Biểu 06, Decision 766)."},
                      {"name": "public", "description": "Citizens' lookup, no token."},
                      {"name": "operations", "description": "Health and metrics."}])
    app.state.resources = resources
    problems.install(app)
    app.add_middleware(BodyGuard)  # inside RequestContext: its answers carry the id, are logged
    app.add_middleware(RequestContext)
    for module in (dossiers, actions, documents, catalog, public, ops, reports, codec,
                   whatif_routes):
        app.include_router(module.router)
    api_docs.install(app)  # /docs and /redoc, their scripts from the package (no CDN)
    files.install(app)  # uploads (multipart) and signed results: issue 26
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
