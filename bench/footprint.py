"""Benchmark 5: footprint. Worker memory with 10,000 open dossiers in its workflow cache, and
the storage each dossier takes (event store, read models, Temporal's database).

The open dossiers are received directly through the engine (`motcua.dossiers.receive`, the
call the API makes, with a Temporal client in this process), not through HTTP: this measures
memory, not throughput, and saves minutes. The worker's cache size comes from its own SDK
metric (`temporal_sticky_cache_size`). Then a share of them is taken through the rest of the
lifecycle through the API, to measure the event store per returned dossier too.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from pydantic import SecretStr
from temporalio.client import Client

from bench import bare
from bench.cpu import CpuMeter
from bench.harness import (
    ACTION_BODIES,
    PROCEDURE,
    UNIT,
    Result,
    Running,
    post_ok,
    rss_bytes,
    running_stack,
)
from bench.lifecycle import start_bare_worker
from domain import commands as cmd
from domain.states import Channel
from motcua import dossiers
from motcua.config import Settings
from motcua.runtime import calendar_for
from motcua.temporal import connect

_SIZES = """
SELECT (SELECT count(*) FROM events) AS events,
       pg_total_relation_size('events') AS events_bytes,
       pg_total_relation_size('dossiers') + pg_total_relation_size('work_queue')
         + pg_total_relation_size('report_facts') + pg_total_relation_size('report_counts_day')
         + pg_total_relation_size('report_counts_month')
         + pg_total_relation_size('report_counts_year') AS read_model_bytes
"""


async def receive_direct(client: Client, pool: asyncpg.Pool, count: int,
                         concurrency: int) -> list[str]:
    """Receive `count` dossiers through the engine, `concurrency` at a time."""
    codes: list[str] = []
    todo = iter(range(count))

    calendar = calendar_for(Settings())

    async def loop() -> None:
        for _ in todo:
            today = calendar.local(datetime.now(UTC)).date()
            code = await dossiers.next_code(pool, UNIT, today)
            await dossiers.receive(client, cmd.ReceiveDossier(
                code=code, unit_code=UNIT, procedure_code=PROCEDURE, channel=Channel.COUNTER,
                applicant_name="Nguyễn Văn An", actor="bench"))
            codes.append(code)

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return codes


async def cache_size(port: int) -> float | None:
    """The worker's sticky cache size from its SDK metrics."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    m = re.search(r"^temporal_sticky_cache_size\S*\s+([0-9.e+]+)$", text, re.MULTILINE)
    return float(m[1]) if m else None


def temporal_db_bytes(run: Running) -> int:
    db = run.stack.temporal.db_file
    assert db is not None
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


async def sizes(pool: asyncpg.Pool, run: Running) -> dict[str, int]:
    row = await pool.fetchrow(_SIZES)
    assert row is not None
    return {**dict(row), "temporal_db_bytes": temporal_db_bytes(run)}


def per(after: dict[str, int], before: dict[str, int], n: int, key: str) -> float:
    return (after[key] - before[key]) / n


@dataclass
class Opened:
    """What one stack measured with `n` open dossiers in its worker's cache."""

    n: int
    rss_before: int
    rss_after: int
    worker_cpu_s: float
    receive_s: float
    cached: float | None
    sizes: tuple[dict[str, int], dict[str, int], dict[str, int]] | None = None
    returned: int = 0

    @property
    def per_dossier(self) -> float:
        return (self.rss_after - self.rss_before) / self.n


async def open_dossiers(run: Running, n: int, concurrency: int,
                        lifecycles: int = 0) -> Opened:
    """Receive `n` dossiers and leave them open in the worker's cache; then take `lifecycles`
    of them to their return through the API (for the event store per returned dossier)."""
    dsn = run.stack.postgres.dsn
    # The stack's own client settings: its payloads are encrypted (`motcua.payload_codec`).
    keys = run.stack.payload_keys().get("MOTCUA_PAYLOAD_KEYS")
    client = await connect(Settings(
        temporal_address=run.stack.temporal.address,
        payload_keys=SecretStr(keys) if keys else None))
    async with asyncpg.create_pool(dsn, min_size=2, max_size=concurrency) as pool:
        await receive_direct(client, pool, 2 * concurrency, concurrency)  # warm up
        await asyncio.sleep(3.0)
        worker = run.pid("worker")
        meter = CpuMeter({"worker": worker})
        rss_before, size_before = rss_bytes(worker), await sizes(pool, run)
        meter.start()
        started = time.monotonic()
        codes = await receive_direct(client, pool, n, concurrency)
        receive_s = time.monotonic() - started
        await asyncio.sleep(5.0)  # the projector catches up; the worker settles
        cpu = meter.stop()["worker"]
        rss_after, size_after = rss_bytes(worker), await sizes(pool, run)
        cached = await cache_size(run.stack.ports.worker_sdk_metrics)
        opened = Opened(n, rss_before, rss_after, cpu, receive_s, cached)
        if lifecycles:
            opened.returned = await lifecycle_rest(run, codes[:lifecycles], concurrency)
            await asyncio.sleep(5.0)
            opened.sizes = (size_before, size_after, await sizes(pool, run))
    return opened


async def bench(quick: bool, results_dir: Path) -> Result:
    n, lifecycles, concurrency = (300, 50, 8) if quick else (10_000, 500, 16)
    # The strict sandbox (the SDK default, `MOTCUA_WORKFLOW_SANDBOX=strict`) on a stack of its
    # own, before the worker's default (`Settings.workflow_sandbox`, no sandbox): the
    # before/after of issue 13 points 4 and 5, in one run. Half as many dossiers: the cost
    # per dossier is what is compared.
    strict_n = 200 if quick else 5_000
    bare_n = 300 if quick else 2_000
    result = Result("footprint", "Footprint", params={
        "open_dossiers": n, "returned_dossiers": lifecycles,
        "open_dossiers_strict_sandbox": strict_n,
        "workflow_sandbox": Settings.model_fields["workflow_sandbox"].default,
        "receipts": "engine call (motcua.dossiers.receive), not HTTP"})
    strict_env = {"MOTCUA_MAX_CACHED_WORKFLOWS": str(strict_n + 1000),
                  "MOTCUA_WORKFLOW_SANDBOX": "strict"}
    async with running_stack("footprint-strict", env=strict_env) as run:
        strict = await open_dossiers(run, strict_n, concurrency)
    env = {"MOTCUA_MAX_CACHED_WORKFLOWS": str(n + 1000)}
    async with running_stack("footprint", env=env) as run:
        shared = await open_dossiers(run, n, concurrency, lifecycles)
        bare_rss = await bare_footprint(run, bare_n, concurrency)
    assert shared.sizes is not None
    size_before, size_after, size_done = shared.sizes
    result.add("worker RSS", shared.rss_after / 2**20, "MiB")
    result.add("worker RSS per open dossier", shared.per_dossier / 1024, "KiB")
    result.add("worker RSS per open dossier, strict sandbox", strict.per_dossier / 1024, "KiB")
    result.add("bare workflow RSS per open instance", bare_rss[2] / 1024, "KiB")
    result.add("worker CPU per receipt", shared.worker_cpu_s / n * 1000, "ms")
    result.add("worker CPU per receipt, strict sandbox", strict.worker_cpu_s / strict_n * 1000,
               "ms")
    result.add("event store per open dossier", per(size_after, size_before, n, "events_bytes"),
               "B")
    result.add("event store per returned dossier",
               per(size_done, size_after, shared.returned, "events_bytes")
               + per(size_after, size_before, n, "events_bytes"), "B")
    result.params.update({
        "worker_rss_before_mib": round(shared.rss_before / 2**20, 1),
        "worker_rss_after_mib": round(shared.rss_after / 2**20, 1),
        "strict_worker_rss_before_after_mib": [round(strict.rss_before / 2**20, 1),
                                               round(strict.rss_after / 2**20, 1)],
        "worker_sticky_cache_size": shared.cached,
        "strict_worker_sticky_cache_size": strict.cached,
        "receipts_per_s": round(n / shared.receive_s, 1),
        "strict_receipts_per_s": round(strict_n / strict.receive_s, 1),
        "bare_open_instances": bare_n,
        "bare_worker_rss_before_after_mib": [round(x / 2**20, 1) for x in bare_rss[:2]],
        "events_per_open_dossier": per(size_after, size_before, n, "events"),
        "events_per_returned_dossier": per(size_done, size_after, shared.returned, "events")
        + per(size_after, size_before, n, "events"),
        "read_models_bytes_per_open_dossier": round(
            per(size_after, size_before, n, "read_model_bytes")),
        "temporal_db_bytes_per_open_dossier": round(
            per(size_after, size_before, n, "temporal_db_bytes")),
        "sizes_before": size_before, "sizes_open": size_after, "sizes_after_lifecycles":
        size_done})
    for label, opened in (("", shared), ("strict-sandbox ", strict)):
        if opened.cached is not None and opened.cached < opened.n:
            result.notes.append(f"the {label}worker cache held {opened.cached:.0f} workflows, "
                                f"fewer than {opened.n}")
    return result


async def bare_footprint(run: Running, n: int, concurrency: int) -> tuple[int, int, float]:
    """The same measure for the bare workflow (`bench.bare`), `n` instances left open after
    their receipt: (RSS before, RSS after, bytes per instance) of its worker."""
    queue = "bench-bare-footprint"
    worker = start_bare_worker(run, queue, max_cached=n + 1000)
    try:
        address = run.stack.temporal.address
        await bare.drive(address, queue, 2 * concurrency, concurrency, "warm")
        await asyncio.sleep(3.0)
        before = rss_bytes(worker.pid)
        await bare.drive(address, queue, n, concurrency, "open", steps=False)
        await asyncio.sleep(5.0)
        after = rss_bytes(worker.pid)
    finally:
        worker.terminate()
        worker.wait(20)
    return before, after, (after - before) / n


async def lifecycle_rest(run: Running, codes: list[str], concurrency: int) -> int:
    """Assign, start, complete and return each of `codes` through the API."""
    todo = iter(codes)
    async with run.http(connections=concurrency) as http:
        async def loop() -> None:
            for code in todo:
                for action, body in ACTION_BODIES.items():
                    await post_ok(http, f"/v1/dossiers/{code}/{action}", body)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    return len(codes)

