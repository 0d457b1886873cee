"""Benchmark 2: clerk command latency at a fixed arrival rate (open loop).

Commands arrive every 1/rate seconds whatever the server does (a slow answer never delays the
next arrival, so queueing shows in the numbers instead of hiding: no coordinated omission).
Each arrival is the next step of a dossier whose previous step has been answered (assign,
start, complete, return), or, when none is waiting, a new receipt: the mix is one receipt per
four actions, as clerks work. Latency is from the scheduled arrival to the full answer.
The first seconds (warm-up) are run the same way but not counted. The measured window is run
twice, one after the other on the same stack, and both p99s are reported with their spread: at
20 commands/s on two shared cores one window's p99 moves with the machine (96.7 to 168 ms
between runs of the same code on 30 Nov), so a single one cannot say whether a change helped.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path
from typing import Any

from bench.client import Api, ApiError
from bench.harness import ACTION_BODIES, Result, receive_body, running_stack, summary

TARGET_P99_MS = 100.0
STEPS = tuple(ACTION_BODIES)


async def bench(quick: bool, results_dir: Path) -> Result:
    rate = 20.0
    warmup_s, measured_s = (3.0, 6.0) if quick else (10.0, 75.0)
    result = Result("latency", "Command latency, open loop",
                    params={"rate_per_s": rate, "warm_up_s": warmup_s, "measured_s": measured_s,
                            "measured_windows": 2, "client": "bench.client (keep-alive)"})
    async with running_stack("latency") as run, run.http(connections=256) as http:
        first = await open_loop(http, rate, warmup_s, measured_s)
        second = await open_loop(http, rate, 0.0, measured_s)  # warm already
    windows = [[s for s in samples if not s["warm_up"]] for samples in (first, second)]
    counted = [s for window in windows for s in window]
    ok = [s["ms"] for s in counted if s["ok"]]
    failed = [s for s in counted if not s["ok"]]
    stats = summary(ok)
    p99s = [summary([s["ms"] for s in w if s["ok"]])["p99"] for w in windows]
    result.add("commands measured", len(counted), "")
    result.add("p50", stats["p50"], "ms")
    result.add("p95", stats["p95"], "ms")
    # The target holds only if it holds in both windows: the worse one is the verdict.
    result.add("p99", max(p99s), "ms", target=f"< {TARGET_P99_MS:.0f} ms (both windows)",
               met=max(p99s) < TARGET_P99_MS and not failed)
    result.add("p99, first window", p99s[0], "ms")
    result.add("p99, second window", p99s[1], "ms")
    result.add("p99 spread (windows' difference)", abs(p99s[0] - p99s[1]), "ms")
    result.add("max", stats["max"], "ms")
    result.add("failed commands", len(failed), "")
    by_action: dict[str, list[float]] = collections.defaultdict(list)
    for s in counted:
        if s["ok"]:
            by_action[s["action"]].append(s["ms"])
    result.params["by_action_ms"] = {
        a: {"count": len(v), **{k: round(x, 1) for k, x in summary(v).items()}}
        for a, v in sorted(by_action.items())}
    result.params["windows_ms"] = [
        {k: round(x, 1) for k, x in summary([s["ms"] for s in w if s["ok"]]).items()}
        for w in windows]
    result.params["achieved_rate_per_s"] = round(len(counted) / (2 * measured_s), 2)
    if failed:
        result.notes.append(f"failures: {failed[:3]}")
    return result


async def open_loop(http: Api, rate: float, warmup_s: float,
                    measured_s: float) -> list[dict[str, Any]]:
    """Fire commands on schedule; returns one sample per command."""
    ready: collections.deque[tuple[str, int]] = collections.deque()
    samples: list[dict[str, Any]] = []
    tasks: set[asyncio.Task[None]] = set()

    async def command(scheduled: float, warm_up: bool, code: str | None, step: int) -> None:
        if code is None:
            action, path, body = "receive", "/v1/dossiers", receive_body()
        else:
            action = STEPS[step]
            path, body = f"/v1/dossiers/{code}/{action}", ACTION_BODIES[action]
        try:
            response = await http.post(path, json=body)
            ok, status = response.status_code < 300, str(response.status_code)
        except ApiError as err:
            ok, status, response = False, type(err).__name__, None
        ms = (time.monotonic() - scheduled) * 1000
        samples.append({"action": action, "ms": ms, "ok": ok, "status": status,
                        "warm_up": warm_up})
        if ok and response is not None:
            next_code = str(response.json()["code"]) if code is None else code
            next_step = 0 if code is None else step + 1
            if next_step < len(STEPS):
                ready.append((next_code, next_step))

    total = int((warmup_s + measured_s) * rate)
    start = time.monotonic() + 0.2
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        code, step = ready.popleft() if ready else (None, 0)
        task = asyncio.create_task(command(scheduled, k < warmup_s * rate, code, step))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return samples
