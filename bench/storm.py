"""Benchmark 3: deadline storm. Thousands of open dossiers fall due in the same minute; how
late is each overdue alert, and is there exactly one per dossier?

The stack runs with a bench catalog (`bench/data/procedures.yaml`: one procedure of 1 working
hour, no due-soon warning), every minute office time (`MOTCUA_OFFICE_HOURS=00:00-23:59:59`)
and an overrides file making yesterday, today and tomorrow working days. Dossiers are imported
through the API with `original_received_at` = due - 1 hour, their due times spread evenly over
one minute (in full mode a whole clock minute) that starts after the import is expected to be
over (estimated from a pilot of receipts that fall due long after the run). Lateness of an
alert = its `at` (workflow time when the timer fired, also `recorded_at`) minus its due time;
end to end = `stored_at` (commit in PostgreSQL) minus the due time.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import bare_storm
from bench.cpu import CpuMeter
from bench.harness import (
    DATA,
    UNIT,
    Result,
    Running,
    post_ok,
    receive_body,
    roots,
    running_stack,
    summary,
)
from bench.lifecycle import start_bare_worker, while_alive
from motcua.config import Settings
from motcua.runtime import calendar_for

PROCEDURE = "L.bench-storm"
TARGET_P99_S = 2.0
TARGET_RATIO = 1.5  # motcua's lateness p99 within 1.5x the bare-timer p99 of the same run
_ALERTS = """
SELECT stream, extract(epoch FROM (payload->>'at')::timestamptz
                                  - (payload->>'due_at')::timestamptz) AS late,
       extract(epoch FROM stored_at - (payload->>'due_at')::timestamptz) AS late_stored,
       extract(epoch FROM stored_at) AS stored_epoch
FROM events
WHERE event_type = 'DeadlineAlertRaised' AND payload->>'kind' = 'overdue'
  AND stream = ANY($1::text[])
"""


def overrides_file(folder: Path) -> Path:
    """Yesterday, today and tomorrow (office dates) as working days."""
    today = calendar_for(Settings()).local(datetime.now(UTC)).date()
    by_year: dict[int, list[str]] = {}
    for d in (today - timedelta(days=1), today, today + timedelta(days=1)):
        by_year.setdefault(d.year, []).append(d.isoformat())
    lines = ["years:"]
    for year, days in by_year.items():
        lines += [f"  {year}:", "    working_days:"]
        lines += [f'      - date: {d}\n        source: "benchmark"' for d in days]
    path = folder / "calendar_overrides.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def receive_at(http: httpx.AsyncClient, received: datetime) -> dict[str, Any]:
    body = receive_body(PROCEDURE, UNIT, received.isoformat())
    return await post_ok(http, "/v1/dossiers", body)


async def import_all(http: httpx.AsyncClient, receipts: list[datetime],
                     concurrency: int) -> list[dict[str, Any]]:
    """Receive one dossier per receipt time (in order), `concurrency` at a time."""
    out: list[dict[str, Any]] = []
    todo = iter(receipts)

    async def loop() -> None:
        for received in todo:
            answer = await receive_at(http, received)
            out.append({"code": answer["code"], "due_at": answer["due_at"],
                        "answered_at": datetime.now(UTC).isoformat()})

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return out


async def bench(quick: bool, results_dir: Path) -> Result:
    n, window_s, concurrency = (60, 5.0, 8) if quick else (5000, 60.0, 16)
    result = Result("storm", "Deadline storm", params={
        "dossiers": n, "due_window_s": window_s, "import_concurrency": concurrency,
        "import": "HTTP API, original_received_at = due - 1 working hour"})
    folder = Path(tempfile.mkdtemp(prefix="motcua-bench-storm-cal-"))
    env = {"MOTCUA_PROCEDURES_FILE": str(DATA / "procedures.yaml"),
           "MOTCUA_CALENDAR_OVERRIDES": str(overrides_file(folder)),
           "MOTCUA_OFFICE_HOURS": "00:00-23:59:59"}
    try:
        return await _storm(result, quick, env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _storm(result: Result, quick: bool, env: dict[str, str]) -> Result:
    """Import, wait for the storm, collect and summarise the overdue alerts."""
    p = result.params
    n, window_s, concurrency = p["dossiers"], p["due_window_s"], p["import_concurrency"]
    drain_s = 120.0 if quick else 600.0
    async with running_stack("storm", env=env) as run:
        async with run.http(connections=concurrency) as http:
            pilot_n = 4 * concurrency
            started = time.monotonic()
            # The pilot falls due in about an hour: after the run.
            now = datetime.now(UTC)
            await import_all(http, [now - timedelta(minutes=1)] * pilot_n, concurrency)
            rate = pilot_n / (time.monotonic() - started)
            lead = n / rate * 1.3 + (10 if quick else 30)
            first_due = datetime.now(UTC) + timedelta(seconds=lead)
            if not quick:  # a whole clock minute
                first_due = first_due.replace(second=0, microsecond=0) + timedelta(minutes=1)
            receipts = [first_due - timedelta(hours=1) + timedelta(seconds=window_s * i / n)
                        for i in range(n)]
            t0 = time.monotonic()
            imported = await import_all(http, receipts, concurrency)
            import_s = time.monotonic() - t0
        late_imports = sum(1 for d in imported
                           if datetime.fromisoformat(d["answered_at"])
                           > datetime.fromisoformat(d["due_at"]))
        codes = [d["code"] for d in imported]
        last_due = first_due + timedelta(seconds=window_s)
        meter = CpuMeter(roots(run))
        await asyncio.sleep(max(0.0, (first_due - datetime.now(UTC)).total_seconds()))
        meter.start()
        rows = await wait_alerts(run.stack.postgres.dsn, codes, first_due, last_due,
                                 last_due + timedelta(seconds=drain_s))
        cpu = meter.stop()
        # The ceiling, on the same server in the same run, once motcua's storm is over.
        bare, bare_cpu = await _bare_storm(run, n, window_s)
    late = [float(r["late"]) for r in rows]
    stored = [float(r["late_stored"]) for r in rows]
    streams = {r["stream"] for r in rows}
    duplicates = len(rows) - len(streams)
    span = max((float(r["stored_epoch"]) for r in rows), default=math.nan) \
        - first_due.timestamp()
    s, e = summary(late), summary(stored)
    result.add("overdue alerts", len(rows), f"of {n}", target=f"exactly {n}, no duplicates",
               met=len(rows) == n and duplicates == 0)
    result.add("lateness p50", s["p50"], "s")
    result.add("lateness p99", s["p99"], "s", target=f"< {TARGET_P99_S:.0f} s",
               met=s["p99"] < TARGET_P99_S)
    result.add("lateness max", s["max"], "s")
    result.add("stored - due p99", e["p99"], "s")
    result.add("overdue alerts recorded per s", len(rows) / span if span > 0 else None, "/s")
    b = summary(bare.lateness_s)
    fired = [bare.first_due.timestamp() + window_s * i / n + late
             for i, late in enumerate(bare.lateness_s)]
    bare_span = max(fired) - bare.first_due.timestamp()
    result.add("bare-timer storm alerts per s", n / bare_span if bare_span > 0 else None, "/s")
    result.add("bare-timer lateness p99", b["p99"], "s")
    ratio = s["p99"] / b["p99"] if b["p99"] > 0 else None
    result.add("lateness p99 / bare p99", ratio, "x", target=f"<= {TARGET_RATIO}",
               met=ratio is not None and ratio <= TARGET_RATIO)
    # Whether the machine can keep up at all: the alerts arrive at n / window_s per second;
    # the Temporal server alone (the same work per alert for both storms: a timer, a workflow
    # task, a local activity's marker) needs `server_ms` of CPU for each, so even with a worker
    # that cost nothing the cores settle at most cores / server_ms alerts per second. Below the
    # arrival rate a backlog builds up during the window, and the p99 grows with it.
    cores = os.cpu_count() or 1
    arrival = n / window_s
    server_ms = 1000 * bare_cpu.get("temporal", 0.0) / n
    result.add("Temporal CPU per alert, bare storm", server_ms, "ms")
    result.add("Temporal CPU per alert, motcua storm", 1000 * cpu.get("temporal", 0.0) / n, "ms")
    result.add("alerts arriving per s", arrival, "/s")
    if server_ms > 0:
        server_bound = 1000 * cores / server_ms
        result.add("alerts/s the server's CPU alone allows", server_bound, "/s")
        if server_bound < arrival:
            result.notes.append(
                f"the storm arrives at {arrival:.0f} alerts/s; the Temporal server alone needs "
                f"{server_ms:.1f} ms of CPU per alert, so {cores} cores settle at most "
                f"{server_bound:.0f}/s even with a worker that cost nothing: a p99 under "
                f"{TARGET_P99_S:.0f} s is out of reach on this machine, the ratio to bare is not")
    result.params.update({
        "pilot_receipts_per_s": round(rate, 2), "import_seconds": round(import_s, 1),
        "import_receipts_per_s": round(n / import_s, 2), "first_due": first_due.isoformat(),
        "imports_answered_after_their_due_time": late_imports, "duplicates": duplicates,
        "seconds_from_first_due_to_last_alert": round(span, 1),
        "overdue_alerts_per_s": round(len(rows) / span, 1) if span > 0 else None,
        "cpu_seconds_first_due_to_last_alert": cpu,
        "lateness_s": {k: round(v, 3) for k, v in s.items()},
        "stored_minus_due_s": {k: round(v, 3) for k, v in e.items()},
        "bare_storm": {"workflows": n, "start_seconds": round(bare.start_s, 1),
                       "starts": "update-with-start, 100 at a time",
                       "started_after_their_due_time": bare.started_after_due,
                       "lateness_s": {k: round(v, 3) for k, v in b.items()},
                       "seconds_from_first_due_to_last_alert": round(bare_span, 1),
                       "cpu_seconds_first_due_to_last_alert": bare_cpu,
                       "worker": "one process, max_concurrent_workflow_tasks=200"}})
    if late_imports:
        result.notes.append(f"{late_imports} dossiers were imported after their due time "
                            "(the import ran longer than estimated): their alerts are late "
                            "by the import delay")
    if bare.started_after_due:
        result.notes.append(f"{bare.started_after_due} bare-timer workflows were started after "
                            "their due time: their lateness includes the start delay")
    return result


async def _bare_storm(run: Running, n: int,
                      window_s: float) -> tuple[bare_storm.StormRun, dict[str, float]]:
    """The bare-timer storm (`bench.bare_storm`) on this run's Temporal server, and the CPU
    seconds of each process from its first due instant to its last alert."""
    queue = "bench-bare-storm"
    worker = start_bare_worker(run, queue, max_cached=n + 1000, module="bench.bare_storm")
    meter = CpuMeter(roots(run, {"bare worker": worker.pid}))
    try:
        storm = await while_alive(worker, bare_storm.storm(
            run.stack.temporal.address, queue, n, window_s, "bstorm", at_first_due=meter.start))
        return storm, meter.stop()
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 20)


async def wait_alerts(dsn: str, codes: list[str], first_due: datetime, last_due: datetime,
                      deadline: datetime) -> list[asyncpg.Record]:
    """Wait until every dossier has an overdue alert (or `deadline`); returns the alerts.
    Polls a cheap indexed count, and only once the last due time has passed."""
    await asyncio.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds()))
    conn = await asyncpg.connect(dsn)
    try:
        while datetime.now(UTC) < deadline:
            found = await conn.fetchval(
                "SELECT count(DISTINCT stream) FROM events WHERE event_type = "
                "'DeadlineAlertRaised' AND recorded_at >= $1 AND payload->>'kind' = 'overdue'",
                first_due - timedelta(seconds=1))
            if found >= len(codes):
                break
            await asyncio.sleep(2.0)
        await asyncio.sleep(2.0)  # a duplicate, if any, would come just after
        return await conn.fetch(_ALERTS, codes)
    finally:
        await conn.close()
