"""Benchmark: two worker processes on one task queue (issue 13 point 6), against one worker in
the same run on the same stack, and one of the two SIGKILLed in the middle of a deadline storm.

The stack runs with the storm's settings (`bench.storm`: a one-working-hour procedure, every
minute office time, yesterday to tomorrow working days) plus the shipped procedure the
lifecycles use. In order:

1. lifecycles through the API (`bench.lifecycle.api_run`: receive, assign, start, complete,
   return; the clock stops when the read model shows all `returned`) with the stack's worker
   alone, then the same load again once a second worker (`worker-2`, its own metrics ports)
   polls the task queue; each after a warm-up of its own;
2. a deadline storm with both workers: dossiers imported through the API with
   `original_received_at` = due - 1 hour, due times spread evenly over a window that starts
   once the import is expected to be over; the stack's first worker is SIGKILLed in the middle
   of the window and not restarted, so the other takes over its workflows (Temporal moves a
   dead worker's sticky tasks to the shared queue after the sticky timeout, 10 s by default,
   and retries its started tasks after their timeouts). Overdue alerts are counted, with
   duplicates, from the event store;
3. the same storm again with the surviving worker alone (no kill), for comparison.

Lateness of an alert = its `at` (workflow time when its timer fired) - its due time, as in
`bench.storm`; for the killed storm also split into alerts due before and after the kill.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

import motcua
from bench.cpu import CpuMeter
from bench.harness import DATA, PROCEDURE, Result, Running, roots, running_stack, summary
from bench.lifecycle import api_run
from bench.storm import PROCEDURE as STORM_PROCEDURE
from bench.storm import import_all, overrides_file, wait_alerts
from domain.contracts import TASK_QUEUE
from motcua.devstack.procs import StackError, free_port
from motcua.devstack.stack import Stack

SECOND_WORKER = "worker-2"


def storm_env(folder: Path) -> dict[str, str]:
    """Settings for a stack that runs both lifecycles and storms: the storm's catalog
    (`bench/data/procedures.yaml`) with the lifecycles' shipped procedure added, every minute
    office time, and yesterday to tomorrow working days (files written to `folder`)."""
    shipped = yaml.safe_load((Path(motcua.__file__).parent / "data" / "procedures.yaml")
                             .read_text(encoding="utf-8"))["procedures"]
    rows = yaml.safe_load((DATA / "procedures.yaml").read_text(encoding="utf-8"))["procedures"]
    rows += [row for row in shipped if row["code"] == PROCEDURE]
    catalog = folder / "procedures.yaml"
    catalog.write_text(yaml.safe_dump({"procedures": rows}, allow_unicode=True), encoding="utf-8")
    return {"MOTCUA_PROCEDURES_FILE": str(catalog),
            "MOTCUA_CALENDAR_OVERRIDES": str(overrides_file(folder)),
            "MOTCUA_OFFICE_HOURS": "00:00-23:59:59"}


async def start_second_worker(stack: Stack, label: str = SECOND_WORKER,
                              within: float = 60.0) -> int:
    """Another worker process on the stack's task queue, with free metrics ports (the first
    worker holds the stack's); returns its pid once Temporal lists it among the pollers."""
    env = {"MOTCUA_METRICS_PORT": str(free_port()), "MOTCUA_SDK_METRICS_PORT": str(free_port())}
    child = await asyncio.to_thread(stack.start, "worker", label=label, env=env)
    settings = stack.child_env()
    client = await Client.connect(stack.temporal.address,
                                  namespace=settings.get("MOTCUA_TEMPORAL_NAMESPACE", "default"))
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=settings.get("MOTCUA_TASK_QUEUE", TASK_QUEUE)),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise StackError(f"{label} exited with code {child.returncode}")
        pollers = (await client.workflow_service.describe_task_queue(request)).pollers
        if any(p.identity.startswith(f"{child.pid}@") for p in pollers):  # the SDK's default
            return child.pid
        await asyncio.sleep(0.2)
    raise StackError(f"{label} does not poll the task queue after {within:.0f}s")


@dataclasses.dataclass
class Storm:
    """One deadline storm: what was imported, when it fell due, the overdue alerts recorded."""

    n: int
    window_s: float
    first_due: datetime
    codes: list[str]
    alerts: list[asyncpg.Record]  # one row per alert (`bench.storm.wait_alerts`)
    import_s: float
    imports_after_due: int
    killed: str | None = None
    killed_after_s: float | None = None  # after the first due instant

    @property
    def duplicates(self) -> int:
        return len(self.alerts) - len({r["stream"] for r in self.alerts})

    @property
    def exactly_one_each(self) -> bool:
        return len(self.alerts) == self.n and self.duplicates == 0

    def lateness(self, before_kill: bool | None = None) -> dict[str, float]:
        """p50, p95, p99 and max lateness (s), of all alerts or those due before (after) the
        kill."""
        cut = self.first_due.timestamp() + (self.killed_after_s or 0.0)
        return summary([float(r["late"]) for r in self.alerts if before_kill is None
                        or (float(r["stored_epoch"]) - float(r["late_stored"]) < cut)
                        == before_kill])

    def params(self) -> dict[str, Any]:
        return {"dossiers": self.n, "due_window_s": self.window_s,
                "first_due": self.first_due.isoformat(), "import_seconds": round(self.import_s, 1),
                "imports_answered_after_their_due_time": self.imports_after_due,
                "overdue_alerts": len(self.alerts), "duplicates": self.duplicates,
                "killed": self.killed,
                "killed_s_after_first_due": None if self.killed_after_s is None
                else round(self.killed_after_s, 2),
                "lateness_s": {k: round(v, 3) for k, v in self.lateness().items()}}


async def storm(run: Running, n: int, window_s: float, *, concurrency: int = 8,
                kill: str | None = None, margin_s: float = 3.0, drain_s: float = 120.0) -> Storm:
    """`n` dossiers whose overdue alerts fall due evenly over `window_s`, starting `margin_s`
    after the import is expected to end (from a pilot of receipts that fall due in an hour);
    with `kill`, that child of the stack is SIGKILLed at the middle of the window. Returns once
    every dossier has its alert, or `drain_s` after the window."""
    async with run.http(connections=concurrency) as http:
        pilot = 2 * concurrency
        started = time.monotonic()
        await import_all(http, [datetime.now(UTC) - timedelta(minutes=1)] * pilot, concurrency)
        rate = pilot / (time.monotonic() - started)
        first_due = datetime.now(UTC) + timedelta(seconds=n / rate * 1.3 + margin_s)
        receipts = [first_due - timedelta(hours=1) + timedelta(seconds=window_s * i / n)
                    for i in range(n)]
        started = time.monotonic()
        imported = await import_all(http, receipts, concurrency)
        import_s = time.monotonic() - started
    codes = [d["code"] for d in imported]
    late_imports = sum(datetime.fromisoformat(d["answered_at"])
                       > datetime.fromisoformat(d["due_at"]) for d in imported)
    last_due = first_due + timedelta(seconds=window_s)
    killer = asyncio.create_task(
        _kill_at(run.stack, kill, first_due + timedelta(seconds=window_s / 2))) if kill else None
    try:
        alerts = await wait_alerts(run.stack.postgres.dsn, codes, first_due, last_due,
                                   last_due + timedelta(seconds=drain_s))
        killed_at = await killer if killer else None
    finally:
        if killer:
            killer.cancel()
    return Storm(n, window_s, first_due, codes, alerts, import_s, late_imports, kill,
                 None if killed_at is None else killed_at - first_due.timestamp())


async def _kill_at(stack: Stack, name: str, when: datetime) -> float:
    """SIGKILL the child `name` at `when`; returns the instant (epoch seconds)."""
    await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))
    await asyncio.to_thread(stack.kill, name)
    return time.time()


async def throughput(run: Running, count: int, concurrency: int) -> tuple[float, dict[str, float]]:
    """Lifecycles per second (until projected) and CPU seconds per part, after a warm-up."""
    await api_run(run, 2 * concurrency, concurrency)
    meter = CpuMeter(roots(run))
    meter.start()
    _, projected, _ = await api_run(run, count, concurrency)
    return count / projected, meter.stop()


async def bench(quick: bool, results_dir: Path) -> Result:
    count, concurrency = (12, 4) if quick else (600, 16)
    n, window_s = (60, 6.0) if quick else (2000, 30.0)
    result = Result("workers", "Two workers on one task queue", params={
        "lifecycles": count, "concurrency": concurrency, "warm_up_lifecycles": 2 * concurrency,
        "storm_procedure": STORM_PROCEDURE,
        "order": "lifecycles 1 worker, lifecycles 2 workers, storm 2 workers with the first "
                 "SIGKILLed mid-window, storm with the survivor alone"})
    folder = Path(tempfile.mkdtemp(prefix="motcua-bench-workers-cal-"))
    try:
        clock = [time.monotonic()]
        async with running_stack("workers", env=storm_env(folder)) as run:
            clock.append(time.monotonic())
            one, cpu_one = await throughput(run, count, concurrency)
            clock.append(time.monotonic())
            await start_second_worker(run.stack)
            clock.append(time.monotonic())
            two, cpu_two = await throughput(run, count, concurrency)
            clock.append(time.monotonic())
            margin, drain = (1.5, 60.0) if quick else (10.0, 300.0)
            killed = await storm(run, n, window_s, kill="worker", margin_s=margin,
                                 drain_s=drain)
            clock.append(time.monotonic())
            alone = await storm(run, n, window_s, margin_s=margin, drain_s=drain)
            clock.append(time.monotonic())
        clock.append(time.monotonic())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    phases = ("stack start", "lifecycles 1 worker", "second worker start",
              "lifecycles 2 workers", "storm with kill", "storm 1 worker", "stack shutdown")
    result.params["phase_seconds"] = {name: round(b - a, 1) for name, (a, b)
                                      in zip(phases, itertools.pairwise(clock), strict=True)}
    result.add("lifecycles/s, one worker", one, "/s")
    result.add("lifecycles/s, two workers", two, "/s")
    result.add("lifecycles/s two workers / one", two / one, "x")
    result.add("storm, one of two SIGKILLed: overdue alerts", len(killed.alerts), f"of {n}",
               target=f"exactly {n}, no duplicates", met=killed.exactly_one_each)
    s = killed.lateness()
    result.add("storm, one of two SIGKILLed: lateness p50", s["p50"], "s")
    result.add("storm, one of two SIGKILLed: lateness p99", s["p99"], "s")
    result.add("storm, one of two SIGKILLed: p99 of alerts due before the kill",
               killed.lateness(True)["p99"], "s")
    result.add("storm, one of two SIGKILLed: p99 of alerts due after it",
               killed.lateness(False)["p99"], "s")
    a = alone.lateness()
    result.add("storm, one worker: lateness p50", a["p50"], "s")
    result.add("storm, one worker: lateness p99", a["p99"], "s")
    slow = sum(float(r["late"]) > 5 for r in killed.alerts)
    result.params.update({
        "cpu_ms_per_lifecycle_one_worker": {k: round(1000 * v / count, 1)
                                            for k, v in cpu_one.items()},
        "cpu_ms_per_lifecycle_two_workers": {k: round(1000 * v / count, 1)
                                             for k, v in cpu_two.items()},
        "storm_two_workers_one_killed": {
            **killed.params(),
            "lateness_due_before_kill_s": {k: round(v, 3)
                                           for k, v in killed.lateness(True).items()},
            "lateness_due_after_kill_s": {k: round(v, 3)
                                          for k, v in killed.lateness(False).items()},
            "alerts_late_over_5s": slow},
        "storm_one_worker": alone.params()})
    if not alone.exactly_one_each:
        result.notes.append(f"one-worker storm: {len(alone.alerts)} overdue alerts for {n} "
                            f"dossiers ({alone.duplicates} duplicates)")
    for name, st in (("killed", killed), ("one-worker", alone)):
        if st.imports_after_due:
            result.notes.append(f"{name} storm: {st.imports_after_due} dossiers imported after "
                                "their due time (their alerts are late by the import delay)")
    result.notes.append(f"storm with the kill: {slow} of {len(killed.alerts)} alerts more than "
                        "5 s late (a dead worker's sticky tasks wait for the SDK's sticky "
                        "schedule-to-start timeout, 10 s, before the survivor gets them)")
    result.notes.append("2 cores: two workers share the same CPUs as one, so a throughput "
                        "ratio near 1 is expected; the point is correctness and failover")
    return result

