"""The bare-timer storm: the ceiling against which motcua's deadline storm is judged.

Each workflow sleeps until its due instant and, when it wakes, runs one local activity (as a
dossier's overdue alert computes and appends one event), then ends with its lateness: the
workflow time at which the timer fired minus the due instant, the same measure as motcua's
storm (`DeadlineAlertRaised.at - due_at`). No domain code, no database. The worker runs as its
own process (`python -m bench.bare_storm worker ADDRESS QUEUE MAX_CACHED`) with
`max_concurrent_workflow_tasks=200` and a cache larger than the storm, so what is measured is
the Temporal server's timer path. Starts go 100 at a time, each with update-with-start (the
update answers once the first workflow task has run, as motcua's receipt does), so no backlog
of first workflow tasks is left when the first timer falls due and what is measured is the
timers alone; starts answered after their due instant are counted. Results are read 50 at a
time because the dev server limits concurrent long polls.
"""

# No `from __future__ import annotations`: the workflow sandbox resolves type hints.
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

TIMEOUT = timedelta(seconds=30)
START_BATCH = 100
RESULT_BATCH = 50


@activity.defn(name="bare_storm_alert")
async def alert(due_epoch: float) -> float:
    """Stands for the overdue alert's work (one local activity)."""
    return due_epoch


@workflow.defn(name="BareStorm")
class BareStormWorkflow:
    """Sleep until the due instant, run one local activity, return the lateness in seconds."""

    @workflow.run
    async def run(self, due_epoch: float) -> float:
        due = datetime.fromtimestamp(due_epoch, UTC)
        wait = (due - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait)
        fired = workflow.now()
        await workflow.execute_local_activity(alert, due_epoch, start_to_close_timeout=TIMEOUT)
        return (fired - due).total_seconds()

    @workflow.update
    async def started(self) -> None:
        """Answered in the first workflow task (update-with-start), like motcua's receipt."""


@dataclass
class StormRun:
    """What one bare storm measured."""

    lateness_s: list[float]
    first_due: datetime
    span_s: float  # from the first due instant to the last workflow's completion
    start_s: float
    started_after_due: int  # starts answered after their own due instant (should be 0)


async def _start(client: Client, task_queue: str, workflow_id: str,
                 due: datetime) -> tuple[WorkflowHandle[BareStormWorkflow, float], bool]:
    """Start one workflow and wait for its first workflow task; (handle, answered late)."""
    operation = WithStartWorkflowOperation(
        BareStormWorkflow.run, due.timestamp(), id=workflow_id, task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    await client.execute_update_with_start_workflow(
        BareStormWorkflow.started, start_workflow_operation=operation)
    return await operation.workflow_handle(), datetime.now(UTC) > due


async def storm(address: str, task_queue: str, n: int, window_s: float, prefix: str,
                lead_s: float | None = None,
                at_first_due: Callable[[], None] | None = None) -> StormRun:
    """Start `n` workflows due over `window_s` seconds after the starts are expected to be
    over, and wait for every one of them; `at_first_due` is called at the first due instant
    (or at once, if the starts overran it), e.g. to start a CPU meter."""
    client = await Client.connect(address)
    pilot_started = time.monotonic()
    # Starts are cheap; estimate their rate from a first batch due long after the run.
    later = datetime.now(UTC) + timedelta(hours=2)
    pilot = [(await _start(client, task_queue, f"{prefix}-pilot-{i}", later))[0]
             for i in range(10)]
    rate = len(pilot) / (time.monotonic() - pilot_started)
    lead = lead_s if lead_s is not None else n / (rate * 4) * 1.3 + 10
    first_due = datetime.now(UTC) + timedelta(seconds=lead)
    dues = [first_due + timedelta(seconds=window_s * i / n) for i in range(n)]
    t0 = time.monotonic()
    handles: list[WorkflowHandle[BareStormWorkflow, float]] = []
    late_starts = 0
    for start in range(0, n, START_BATCH):
        batch = dues[start:start + START_BATCH]
        started = await asyncio.gather(*(
            _start(client, task_queue, f"{prefix}-{start + i:06d}", due)
            for i, due in enumerate(batch)))
        handles += [handle for handle, _ in started]
        late_starts += sum(late for _, late in started)
    start_s = time.monotonic() - t0
    if at_first_due is not None:
        await asyncio.sleep(max(0.0, (first_due - datetime.now(UTC)).total_seconds()))
        at_first_due()
    late: list[float] = []
    for start in range(0, n, RESULT_BATCH):
        late += await asyncio.gather(*(h.result() for h in handles[start:start + RESULT_BATCH]))
    span = (datetime.now(UTC) - first_due).total_seconds()
    for handle in pilot:
        await handle.terminate("benchmark over")
    return StormRun(late, first_due, span, start_s, late_starts)


async def serve(address: str, task_queue: str, max_cached: int) -> None:
    """The bare storm's worker, until SIGTERM."""
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[BareStormWorkflow],
                    activities=[alert], max_cached_workflows=max_cached,
                    max_concurrent_workflow_tasks=200)
    await worker.run()


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "worker":
        sys.exit("usage: python -m bench.bare_storm worker TEMPORAL_ADDRESS TASK_QUEUE "
                 "MAX_CACHED")
    asyncio.run(serve(sys.argv[2], sys.argv[3], int(sys.argv[4])))
