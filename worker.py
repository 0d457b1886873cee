"""The motcua worker: runs `DossierWorkflow` and its activities against Temporal.

`motcua worker` (or `python worker.py`). Configuration comes from the environment (see
`motcua.config.Settings`): Temporal address, namespace, task queue, TLS or API key for a real
cluster, `DATABASE_URL`. One Temporal client and one asyncpg pool per process (the pool,
calendar and catalog come from `motcua.runtime`, shared with every other entry point). SIGTERM and
SIGINT stop polling, let running activities finish (up to the graceful-shutdown timeout) and
exit cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import structlog
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deadlines import DeadlineActivities
from activities.notify import NotificationActivities
from activities.steps import StepActivities
from activities.store import EventStoreActivities
from motcua import logs
from motcua.catalog import store as catalog_store
from motcua.config import Settings
from motcua.correlation import WorkerInterceptor
from motcua.health import Check, probes, stop_on_signals
from motcua.metrics import METRICS
from motcua.runtime import calendar_for, catalog_for, create_pool
from motcua.temporal import connect, runtime_with_metrics
from workflows import DossierWorkflow

log = structlog.get_logger("motcua.worker")


@contextlib.asynccontextmanager
async def build_worker(settings: Settings, client: Client, pool: asyncpg.Pool, *,
                       overrides: Sequence[Callable[..., Any]] = ()) -> AsyncIterator[Worker]:
    """A configured worker (not yet running) and the resources its activities hold.
    `overrides` replace the activities of the same name (fault-injection tests use it)."""
    calendar = calendar_for(settings)
    catalog = catalog_for(settings)
    secret = settings.webhook_secret.get_secret_value().encode() \
        if settings.webhook_secret else None
    async with httpx.AsyncClient(timeout=10.0) as http:
        store = EventStoreActivities(pool)
        # The active catalog version in PostgreSQL (seeded from the shipped one), read without
        # a restart; a catalog file named in the settings is used as it is.
        catalogs = catalog_store.source_for(settings, pool, catalog)
        deadlines = DeadlineActivities(calendar, catalog,
                                       catalogs.current if catalogs else None)
        notify = NotificationActivities(http, settings.webhook_url, secret)
        step_activities = StepActivities(calendar, catalog,
                                         catalogs.current if catalogs else None,
                                         carry_over=settings.steps_carry_over)
        defaults: list[Callable[..., Any]] = [
            store.append_events, deadlines.compute_deadline, notify.send_notification,
            step_activities.plan_steps, step_activities.step_due]
        activities = {_name(a): a for a in (*defaults, *overrides)}
        worker = Worker(
            client, task_queue=settings.task_queue, workflows=[DossierWorkflow],
            activities=list(activities.values()), interceptors=[WorkerInterceptor()],
            max_cached_workflows=settings.max_cached_workflows,
            workflow_runner=workflow_runner(settings.workflow_sandbox),
            graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds))
        log.info("worker.ready", task_queue=settings.task_queue,
                 calendar_version=calendar.version, catalog_version=catalog.version)
        yield worker


def workflow_runner(mode: str) -> WorkflowRunner:
    """The workflow sandbox (`Settings.workflow_sandbox`). "shared" passes the `workflows`
    package through, as `domain` already is: without it the sandbox re-imports the workflow
    module for every new workflow run and keeps a copy per cached dossier (issue 13 points 4
    and 5; measured by `python -m bench --only footprint,lifecycle`). Safe because the module
    holds only classes and immutable constants, and every call in it is deterministic by
    construction: the replay tests still run it in the strict sandbox."""
    if mode == "off":
        # With `domain` and `workflows` both passed through, the shared sandbox no longer
        # guards their calls; what it still costs is an exec() into the sandbox for every
        # payload a workflow task converts (`get_serialization_context`, 16 % of the worker's
        # samples). "off" (the default) drops that too; tests/domain/test_determinism_guard.py
        # checks every line statically and the replay tests keep the strict sandbox in CI.
        return UnsandboxedWorkflowRunner()
    restrictions = SandboxRestrictions.default
    if mode == "shared":
        restrictions = restrictions.with_passthrough_modules("workflows")
    return SandboxedWorkflowRunner(restrictions=restrictions)


def _name(activity_fn: Callable[..., Any]) -> str:
    defn = activity_fn.__temporal_activity_definition  # type: ignore[attr-defined]
    return str(defn.name)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or SIGTERM/SIGINT arrives."""
    stop = stop_on_signals(stop)
    METRICS.prime_notifications()  # at 0 from the start, so rate() sees the first failures
    metrics_address = f"{settings.metrics_host}:{settings.sdk_metrics_port}" \
        if settings.sdk_metrics_port else None
    client = await connect(settings, runtime=runtime_with_metrics(metrics_address))
    pool = await create_pool(settings, reset_session=False)
    checks: dict[str, Check] = {"postgresql": lambda: pool.fetchval("SELECT 1"),
                                "temporal": client.service_client.check_health}
    try:
        async with probes(settings.metrics_port, checks, settings.metrics_host), \
                build_worker(settings, client, pool) as worker:
            task = asyncio.create_task(worker.run())
            await asyncio.wait([task, asyncio.create_task(stop.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
            log.info("worker.stopping")
            await worker.shutdown()
            await task
    finally:
        await pool.close()
    log.info("worker.stopped")


def main() -> None:
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
