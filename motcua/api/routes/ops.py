"""`/healthz` (the process is up), `/readyz` (Temporal and PostgreSQL answer), `/metrics`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field

from motcua.api import problems
from motcua.api.problems import problem_response
from motcua.api.resources import ResourcesDep
from motcua.health import Check, Unreachable, probe_all
from motcua.problems import RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE
from motcua.services.resources import HEALTH_TIMEOUT, Resources

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The process answers."""

    status: str = Field(examples=["ok"])


class ReadinessBody(BaseModel):
    """Every dependency answers: `motcua.health.probe_all`'s results, as JSON."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"temporal": "ok", "postgresql": "ok"}])


@router.get("/healthz", response_model=Health, operation_id="healthz",
            summary="Liveness: the process is up")
async def healthz() -> Health:
    """Always 200 while the process serves requests (depends on nothing)."""
    return Health(status="ok")


def _checks(resources: Resources) -> dict[str, Check]:
    async def temporal() -> bool:
        if resources.client is None:
            raise Unreachable("not connected yet")
        return await resources.client.service_client.check_health(
            timeout=timedelta(seconds=HEALTH_TIMEOUT))

    async def postgresql() -> object:
        if resources.pool is None:
            raise Unreachable("not connected yet")
        return await resources.pool.fetchval("SELECT 1")

    return {"temporal": temporal, "postgresql": postgresql}


@router.get("/readyz", response_model=ReadinessBody, operation_id="readyz",
            summary="Readiness: Temporal and PostgreSQL reachable",
            responses=problems.responses(503))
async def readyz(resources: ResourcesDep) -> ReadinessBody | JSONResponse:
    """200 when both answer; 503 with `Retry-After` and `checks` naming what is down."""
    checks = await probe_all(_checks(resources), limit=HEALTH_TIMEOUT + 1)
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        return problem_response(
            SERVICE_UNAVAILABLE, f"unreachable: {', '.join(down)}", checks=checks,
            dependency=down[0], headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return ReadinessBody(status="ready", checks=checks)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format"}})
async def prometheus_metrics() -> Response:
    """The process's metrics (default registry), in Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
