"""Benchmark 1: full dossier lifecycles per second through the HTTP API, against the bare
Temporal ceiling of the same shape, on the same dev server in the same run.

A lifecycle is receive, assign, start, complete, return (five POSTs, each answered once its
events are in PostgreSQL). `concurrency` clients loop until `count` lifecycles are done; the
clock stops when the projector shows all of them `returned` in the read model. The bare
workflow (`bench.bare`) runs the same way. The runs are interleaved bare, API, API, bare, bare,
API, ... and each adjacent (bare, API) pair gives one ratio; the result is the median of the
pairs' ratios with their spread (max - min), so the drift of a noisy shared machine shows as
spread instead of moving one number (on 30 Nov two bare runs around one API run differed by
11 %). CPU seconds used by each part of the stack during each run are recorded (`bench.cpu`),
and in full mode a py-spy profile of the API, worker and projector is taken afterwards
(`bench.profile`).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from bench import bare
from bench.cpu import CpuMeter
from bench.harness import Result, Running, lifecycle, roots, running_stack, wait_projected
from bench.profile import Recorder, py_spy, summarize

T = TypeVar("T")

TARGET_RATIO = 0.85


async def api_run(run: Running, count: int, concurrency: int) -> tuple[float, float, list[str]]:
    """(seconds to the last answer, seconds until projected, codes) for `count` lifecycles."""
    codes: list[str] = []
    todo = iter(range(count))

    async with run.http(connections=concurrency) as http:
        async def loop() -> None:
            for _ in todo:
                codes.append(await lifecycle(http))

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        answered = time.monotonic() - started
    projected = await wait_projected(run.stack.postgres.dsn, codes, "returned") - started
    return answered, projected, codes


def start_bare_worker(run: Running, task_queue: str, max_cached: int = 1000,
                      module: str = "bench.bare") -> subprocess.Popen[bytes]:
    """A bare workflow's worker (`module`'s), as a child process (its log in the stack's
    folder)."""
    log = open(run.stack.data_dir / f"{module}-worker.log", "ab")  # noqa: SIM115 - the child's
    return subprocess.Popen(
        [sys.executable, "-m", module, "worker", run.stack.temporal.address, task_queue,
         str(max_cached)],
        stdout=log, stderr=log, start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent)


async def while_alive(worker: subprocess.Popen[bytes], work: Awaitable[T]) -> T:
    """`work`'s result, or an error as soon as the bare `worker` exits: without it, a workflow
    with no worker waits forever and so would the benchmark."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=1.0)
        if done:
            return task.result()
        if worker.poll() is not None:
            task.cancel()
            raise RuntimeError(f"the bare worker exited with {worker.returncode} (its log is "
                               "in the stack's folder, *-worker.log)")


async def bare_run(run: Running, worker: subprocess.Popen[bytes], task_queue: str, count: int,
                   concurrency: int, prefix: str) -> tuple[float, dict[str, float]]:
    meter = CpuMeter(roots(run, {"bare worker": worker.pid}))
    meter.start()
    seconds = await while_alive(worker, bare.drive(run.stack.temporal.address, task_queue, count,
                                                   concurrency, prefix))
    return seconds, meter.stop()


async def warm_bare(run: Running, worker: subprocess.Popen[bytes], task_queue: str,
                    concurrency: int) -> None:
    """Warm the bare path (connections, caches, the dev server's first tasks)."""
    await while_alive(worker, bare.drive(run.stack.temporal.address, task_queue,
                                         2 * concurrency, concurrency, "warm"))


async def metered_api_run(run: Running, worker: subprocess.Popen[bytes], count: int,
                          concurrency: int) -> tuple[float, float, dict[str, float]]:
    """`api_run` with the CPU of every process of the stack (and the bare worker) metered:
    seconds to the last answer, seconds until projected, CPU seconds per process."""
    meter = CpuMeter(roots(run, {"bare worker": worker.pid}))
    meter.start()
    answered, projected, _ = await api_run(run, count, concurrency)
    return answered, projected, meter.stop()


def interleaved(pairs: int) -> list[str]:
    """The run order for `pairs` (bare, API) pairs: bare, api, api, bare, bare, api, ...
    (ABBA: a drift that is linear in time weighs on both sides alike)."""
    order: list[str] = []
    for i in range(pairs):
        order += ["bare", "api"] if i % 2 == 0 else ["api", "bare"]
    return order


def _mean_cpu(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(r.get(k, 0.0) for r in runs) / len(runs) for k in runs[0]}


async def bench(quick: bool, results_dir: Path) -> Result:
    count, concurrency, pairs = (12, 4, 3) if quick else (300, 16, 4)
    order = interleaved(pairs)
    result = Result("lifecycle", "Lifecycle throughput (API vs bare Temporal)",
                    params={"lifecycles_per_run": count, "concurrency": concurrency,
                            "warm_up_lifecycles": 2 * concurrency, "order": order,
                            "client": "bench.client (keep-alive)"})
    rates: list[float] = []
    cpus: list[dict[str, float]] = []
    async with running_stack("lifecycle") as run:
        queue = "bench-bare"
        worker = start_bare_worker(run, queue)
        try:
            await warm_bare(run, worker, queue, concurrency)
            await api_run(run, 2 * concurrency, concurrency)
            for i, kind in enumerate(order):
                if kind == "bare":
                    seconds, cpu = await bare_run(run, worker, queue, count, concurrency,
                                                  f"bare{i}")
                else:
                    _, seconds, cpu = await metered_api_run(run, worker, count, concurrency)
                rates.append(count / seconds)
                cpus.append(cpu)
            size = await _event_store_size(run)
            if not quick:
                result.params["profile"] = await profile(run, results_dir, concurrency)
        finally:
            worker.terminate()
            worker.wait(20)
    api_rates = [r for r, k in zip(rates, order, strict=True) if k == "api"]
    bare_rates = [r for r, k in zip(rates, order, strict=True) if k == "bare"]
    ratios = [a / b for a, b in zip(api_rates, bare_rates, strict=True)]  # pair by pair
    median = statistics.median(ratios)
    result.add("API lifecycles/s (projected, median)", statistics.median(api_rates), "/s")
    result.add("bare Temporal lifecycles/s (median)", statistics.median(bare_rates), "/s")
    result.add("ratio API / bare (median)", median, "", target=f">= {TARGET_RATIO}",
               met=median >= TARGET_RATIO)
    result.add("ratio spread", max(ratios) - min(ratios), "")
    cpu_api = _mean_cpu([c for c, k in zip(cpus, order, strict=True) if k == "api"])
    cpu_bare = _mean_cpu([c for c, k in zip(cpus, order, strict=True) if k == "bare"])
    result.add("CPU per lifecycle, API path", 1000 * sum(cpu_api.values()) / count, "ms")
    result.add("CPU per lifecycle, bare", 1000 * sum(cpu_bare.values()) / count, "ms")
    result.add("load generator CPU per lifecycle, API path",
               1000 * cpu_api.get("bench driver", 0.0) / count, "ms")
    result.params.update({
        "runs": [{"kind": k, "lifecycles_per_s": round(r, 2), "cpu_seconds": c}
                 for k, r, c in zip(order, rates, cpus, strict=True)],
        "pair_ratios": [round(r, 3) for r in ratios],
        "cpu_ms_per_lifecycle_api": {k: round(1000 * v / count, 1) for k, v in cpu_api.items()},
        "cpu_ms_per_lifecycle_bare": {k: round(1000 * v / count, 1)
                                      for k, v in cpu_bare.items()},
        "event_store": size})
    result.notes.append("bare: same shape (update-with-start + 1 local activity + 1 activity, "
                        "then 4 updates with 1 activity each), no domain code, no database, "
                        "own worker process, same dev server, separate task queue")
    return result


async def _event_store_size(run: Running) -> dict[str, Any]:
    conn = await asyncpg.connect(run.stack.postgres.dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(DISTINCT stream) AS dossiers, count(*) AS events, "
            "pg_total_relation_size('events') AS bytes FROM events")
        assert row is not None
        return {"dossiers": row["dossiers"], "events": row["events"],
                "bytes_per_returned_dossier": round(row["bytes"] / max(row["dossiers"], 1))}
    finally:
        await conn.close()


async def profile(run: Running, results_dir: Path, concurrency: int,
                  seconds: float = 45.0) -> dict[str, Any]:
    """py-spy on the API, worker and projector while lifecycles run: collapsed stacks first
    (summarised), then flame graphs (for people), each for about `seconds`."""
    if py_spy() is None:
        return {"skipped": "py-spy is not installed"}
    pids = {name: run.pid(name) for name in ("worker", "api", "projector")}
    out: dict[str, Any] = {}
    for fmt in ("raw", "flamegraph"):
        recorder = Recorder(results_dir, pids, fmt=fmt)
        recorder.start()
        await asyncio.sleep(1.0)  # py-spy attaches
        started = time.monotonic()
        deadline = started + seconds

        async def until(deadline: float = deadline) -> None:
            async with run.http(connections=concurrency) as http:
                while time.monotonic() < deadline:
                    await lifecycle(http)

        await asyncio.gather(*(until() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
        files = await asyncio.to_thread(recorder.stop)
        if fmt == "raw":
            out = {name: summarize(path, elapsed) for name, path in files.items()}
        out["files"] = sorted([*out.get("files", []), *(p.name for p in files.values())])
    return out
