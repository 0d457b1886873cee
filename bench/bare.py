"""The bare-Temporal ceiling: a workflow of the dossier lifecycle's shape with no domain code
and no database, its worker, and a driver.

Shape (as the dossier's: `motcua.dossiers.receive` then four `act` calls): an update-with-start
whose workflow runs one local activity and one activity before the `receipt` update returns,
then four updates (assign, start, complete, return) each running one activity. Every activity
is a no-op. The worker runs as its own process (`python -m bench.bare worker ADDRESS QUEUE`),
as the motcua worker does, with the default (sandboxed) workflow runner.
"""

# No `from __future__ import annotations`: the workflow sandbox resolves type hints.
import asyncio
import sys
import time
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

STEPS = ("assign", "start", "complete", "return")
TIMEOUT = timedelta(seconds=15)


@activity.defn(name="bare_noop")
async def noop(step: str) -> str:
    """Does nothing (stands for the deadline computation and the event appends)."""
    return step


@workflow.defn(name="BareLifecycle")
class BareWorkflow:
    """Receipt (local activity + activity), then one activity per update; ends after four."""

    @workflow.init
    def __init__(self, code: str) -> None:
        self._received = False
        self._steps = 0

    @workflow.run
    async def run(self, code: str) -> int:
        await workflow.execute_local_activity(noop, "deadline", start_to_close_timeout=TIMEOUT)
        await workflow.execute_activity(noop, "receive", start_to_close_timeout=TIMEOUT)
        self._received = True
        await workflow.wait_condition(lambda: self._steps == len(STEPS))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._steps

    @workflow.update
    async def receipt(self) -> int:
        await workflow.wait_condition(lambda: self._received)
        return self._steps

    @workflow.update
    async def step(self, name: str) -> int:
        await workflow.execute_activity(noop, name, start_to_close_timeout=TIMEOUT)
        self._steps += 1
        return self._steps


async def lifecycle(client: Client, code: str, task_queue: str, steps: bool = True) -> None:
    """One bare lifecycle, called as the API calls the engine (only the receipt, leaving the
    workflow open, when not `steps`)."""
    start = WithStartWorkflowOperation(
        BareWorkflow.run, code, id=code, task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    await client.execute_update_with_start_workflow(
        BareWorkflow.receipt, start_workflow_operation=start, id=f"receive:{code}")
    if not steps:
        return
    handle = client.get_workflow_handle_for(BareWorkflow.run, code)
    for name in STEPS:
        await handle.execute_update(BareWorkflow.step, name)


async def drive(address: str, task_queue: str, count: int, concurrency: int,
                prefix: str, steps: bool = True) -> float:
    """Run `count` bare lifecycles (or receipts only), `concurrency` at a time; returns the
    seconds taken."""
    client = await Client.connect(address)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def loop() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await lifecycle(client, f"{prefix}-{i:06d}", task_queue, steps)

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return time.monotonic() - started


async def serve(address: str, task_queue: str, max_cached: int) -> None:
    """The bare worker, until SIGTERM."""
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[noop],
                    max_cached_workflows=max_cached)
    await worker.run()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[1] != "worker":
        sys.exit("usage: python -m bench.bare worker TEMPORAL_ADDRESS TASK_QUEUE [MAX_CACHED]")
    asyncio.run(serve(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5
                      else 1000))
