"""Shared benchmark machinery: results, percentiles, and a whole embedded stack on free ports.

Every benchmark starts its own `Stack` (PostgreSQL, Temporal dev server, worker, projector,
API) in a fresh folder on ports the kernel says are free, so a bench never touches a running
`motcua dev` and never sees another benchmark's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bench.client import Api
from motcua.access.tokens import create_dev_token
from motcua.devstack.stack import Ports, Stack

UNIT = "000.21.39.H39"
PROCEDURE = "1.004222"  # permanent residence: 4 working days in the shipped catalog
DATA = Path(__file__).parent / "data"


@dataclasses.dataclass
class Metric:
    """One measured number; `target` and `met` only for the numbers the issue sets a goal for."""

    name: str
    value: float | int | None
    unit: str
    target: str | None = None
    met: bool | None = None

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, int):
            return f"{self.value:,} {self.unit}".strip()
        digits = 3 if abs(self.value) < 10 else 1
        return f"{self.value:,.{digits}f} {self.unit}".strip()


@dataclasses.dataclass
class Result:
    """What one benchmark measured, with its parameters and remarks."""

    name: str
    title: str
    metrics: list[Metric] = dataclasses.field(default_factory=list)
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def add(self, name: str, value: float | int | None, unit: str, *,
            target: str | None = None, met: bool | None = None) -> Metric:
        metric = Metric(name, value, unit, target, met)
        self.metrics.append(metric)
        return metric


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100) by the nearest-rank method (no interpolation)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max of `values` (as given: seconds or milliseconds)."""
    return {"p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values) if values else math.nan}


@dataclasses.dataclass
class Running:
    """A started stack with its dev token."""

    stack: Stack
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def http(self, connections: int = 64, timeout: float = 60.0) -> Api:
        """An HTTP client on the API (keep-alive, at most `connections` at once): the light
        one (`bench.client`), so the load generator takes less of the cores it shares."""
        return Api(self.stack.api_url, headers=self.headers, connections=connections,
                   timeout=timeout)

    def pid(self, name: str) -> int:
        return self.stack.children[name].pid


@contextlib.asynccontextmanager
async def running_stack(name: str, *, env: dict[str, str] | None = None,
                        children: Iterable[str] = ("worker", "projector", "api"),
                        keep: bool = False) -> AsyncIterator[Running]:
    """A fresh stack in a temporary folder (deleted afterwards unless `keep`)."""
    base = Path(os.environ.get("MOTCUA_BENCH_DIR", tempfile.gettempdir()))
    data_dir = Path(tempfile.mkdtemp(prefix=f"motcua-bench-{name}-", dir=base))
    settings = {"MOTCUA_LOG_LEVEL": "WARNING", "MOTCUA_DB_POOL_MAX": "20", **(env or {})}
    stack = Stack(data_dir, Ports.free(), env=settings)
    try:
        await asyncio.to_thread(stack.start_services)
        token = await create_dev_token(stack.postgres.dsn)
        for child in children:
            await asyncio.to_thread(stack.start, child)
        yield Running(stack, token)
    finally:
        await asyncio.to_thread(stack.shutdown)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def receive_body(procedure: str = PROCEDURE, unit: str = UNIT,
                 original_received_at: str | None = None) -> dict[str, Any]:
    """A receipt request body."""
    body: dict[str, Any] = {"procedure_code": procedure, "unit_code": unit,
                            "channel": "counter", "applicant": {"name": "Nguyễn Văn An"}}
    if original_received_at is not None:
        body["original_received_at"] = original_received_at
    return body


ACTION_BODIES: dict[str, dict[str, Any]] = {
    "assign": {"officer": "officer-7"}, "start": {}, "complete": {"summary": "Đã xử lý xong"},
    "return": {},
}


async def post_ok(http: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST and insist on 2xx; returns the JSON body."""
    r = await http.post(path, json=body)
    if r.status_code >= 300:
        raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
    data: dict[str, Any] = r.json()
    return data


async def lifecycle(http: Api) -> str:
    """One full dossier life through the API: receive, assign, start, complete, return."""
    code = str((await post_ok(http, "/v1/dossiers", receive_body()))["code"])
    for action, body in ACTION_BODIES.items():
        await post_ok(http, f"/v1/dossiers/{code}/{action}", body)
    return code


async def wait_projected(dsn: str, codes: Sequence[str], state: str,
                         within: float = 300.0) -> float:
    """Block until the read model shows every code in `state`; returns when (monotonic)."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + within
        while True:
            n = await conn.fetchval(
                "SELECT count(*) FROM dossiers WHERE code = ANY($1::text[]) AND state = $2",
                list(codes), state)
            if n == len(codes):
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"projection: {n} of {len(codes)} dossiers in {state}")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def roots(run: Running, extra: dict[str, int] | None = None) -> dict[str, int]:
    """The process trees whose CPU time `bench.cpu` counts: each part of the stack, this
    process (the load generator) and any `extra`."""
    stack = run.stack
    assert stack.temporal.proc is not None and stack.postgres.proc is not None
    return {"temporal": stack.temporal.proc.pid, "postgres": stack.postgres.proc.pid,
            **{name: child.pid for name, child in stack.children.items()},
            "bench driver": os.getpid(), **(extra or {})}


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
