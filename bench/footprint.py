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
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from pydantic import SecretStr
from temporalio.client import Client

from bench import bare
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


async def bench(quick: bool, results_dir: Path) -> Result:
    n, lifecycles, concurrency = (300, 50, 8) if quick else (10_000, 500, 16)
    bare_n = 300 if quick else 2_000
    result = Result("footprint", "Footprint", params={
        "open_dossiers": n, "returned_dossiers": lifecycles,
        "receipts": "engine call (motcua.dossiers.receive), not HTTP"})
    env = {"MOTCUA_MAX_CACHED_WORKFLOWS": str(n + 1000)}
    async with running_stack("footprint", env=env) as run:
        dsn = run.stack.postgres.dsn
        # The stack's own client settings: its payloads are encrypted (`motcua.codec`).
        keys = run.stack.payload_keys().get("MOTCUA_PAYLOAD_KEYS")
        client = await connect(Settings(
            temporal_address=run.stack.temporal.address,
            payload_keys=SecretStr(keys) if keys else None))
        async with asyncpg.create_pool(dsn, min_size=2, max_size=concurrency) as pool:
            await receive_direct(client, pool, 2 * concurrency, concurrency)  # warm up
            await asyncio.sleep(3.0)
            worker = run.pid("worker")
            rss_before, size_before = rss_bytes(worker), await sizes(pool, run)
            started = time.monotonic()
            codes = await receive_direct(client, pool, n, concurrency)
            receive_s = time.monotonic() - started
            await asyncio.sleep(5.0)  # the projector catches up; the worker settles
            rss_after, size_after = rss_bytes(worker), await sizes(pool, run)
            cached = await cache_size(run.stack.ports.worker_sdk_metrics)
            returned = await lifecycle_rest(run, codes[:lifecycles], concurrency)
            await asyncio.sleep(5.0)
            size_done = await sizes(pool, run)
        bare_rss = await bare_footprint(run, bare_n, concurrency)
    per_dossier = (rss_after - rss_before) / n
    result.add("worker RSS", rss_after / 2**20, "MiB")
    result.add("worker RSS per open dossier", per_dossier / 1024, "KiB")
    result.add("bare workflow RSS per open instance", bare_rss[2] / 1024, "KiB")
    result.add("event store per open dossier", per(size_after, size_before, n, "events_bytes"),
               "B")
    result.add("event store per returned dossier",
               per(size_done, size_after, returned, "events_bytes")
               + per(size_after, size_before, n, "events_bytes"), "B")
    result.params.update({
        "worker_rss_before_mib": round(rss_before / 2**20, 1),
        "worker_rss_after_mib": round(rss_after / 2**20, 1),
        "worker_sticky_cache_size": cached, "receipts_per_s": round(n / receive_s, 1),
        "bare_open_instances": bare_n,
        "bare_worker_rss_before_after_mib": [round(x / 2**20, 1) for x in bare_rss[:2]],
        "events_per_open_dossier": per(size_after, size_before, n, "events"),
        "events_per_returned_dossier": per(size_done, size_after, returned, "events")
        + per(size_after, size_before, n, "events"),
        "read_models_bytes_per_open_dossier": round(
            per(size_after, size_before, n, "read_model_bytes")),
        "temporal_db_bytes_per_open_dossier": round(
            per(size_after, size_before, n, "temporal_db_bytes")),
        "sizes_before": size_before, "sizes_open": size_after, "sizes_after_lifecycles":
        size_done})
    if cached is not None and cached < n:
        result.notes.append(f"the worker cache held {cached:.0f} workflows, fewer than {n}")
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

