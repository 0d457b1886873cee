"""Benchmark 3: deadline storms. Thousands of open dossiers fall due in the same minute (the
spread storm) or at one instant (the same-instant storm: legal due times fall at the close of
office, so a province's overdue dossiers fall due together at 17:00:00). For each: how late is
each overdue alert, is there exactly one per dossier, how long after the due instant do the
gauge (`motcua_dossiers_open`, scraped from /metrics) and the list (`GET /v1/dossiers?sla=`)
show all of them overdue (`bench.storm_watch`), and how late do the webhooks arrive (the
notification dispatcher POSTing to a receiver on loopback). Beside them, on the same server in
the same run, the bare-timer storms of the same two shapes (`bench.bare_storm`): the ceiling.
The order is motcua spread, bare spread, bare same-instant, motcua same-instant (each shape's
later storm runs on a fuller server database, once on each side). The server's work per alert
is read from a sample of both kinds of workflow's histories (events after the timer fired).

The stack runs with a bench catalog (`bench/data/procedures.yaml`: one procedure of 1 working
hour, no due-soon warning), every minute office time (`MOTCUA_OFFICE_HOURS=00:00-23:59:59`)
and an overrides file making yesterday, today and tomorrow working days. Dossiers are imported
through the API with `original_received_at` = due - 1 hour, their due times spread evenly over
one minute (in full mode a whole clock minute) that starts after the import is expected to be
over (estimated from a pilot of receipts that fall due long after the run). Lateness of an
alert = its `at` (workflow time when the timer fired, also `recorded_at`) minus its due time;
end to end = `stored_at` (commit in PostgreSQL) minus the due time. Each storm has its own
unit, so the views can be asked about it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import bare_storm, storm_report, storm_watch
from bench.client import Api, ApiError
from bench.cpu import CpuMeter
from bench.harness import (
    DATA,
    UNIT,
    Result,
    Running,
    receive_body,
    roots,
    running_stack,
)
from bench.lifecycle import start_bare_worker, while_alive
from bench.storm_report import Storm
from motcua.config import Settings
from motcua.runtime import calendar_for

PROCEDURE = "L.bench-storm"
SPREAD_UNIT, INSTANT_UNIT = "000.22.39.H39", "000.23.39.H39"  # the pilot: harness.UNIT
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


RECEIPT_ATTEMPTS = 3


async def receive_at(http: Api, received: datetime, unit: str = UNIT) -> dict[str, Any]:
    """One receipt; a 503 (Temporal did not answer within the API's call timeout: it happens
    on an overloaded machine) is tried again after a pause, up to `RECEIPT_ATTEMPTS` times,
    and counted in the answer's `retried`. A receipt that got its 503 may still have started
    its dossier (under another code): the storms count only the codes they were given."""
    body = receive_body(PROCEDURE, unit, received.isoformat())
    for attempt in range(RECEIPT_ATTEMPTS):
        r = await http.post("/v1/dossiers", json=body)
        if r.status_code != 503 or attempt == RECEIPT_ATTEMPTS - 1:
            break
        await asyncio.sleep(2.0)
    if r.status_code >= 300:
        raise RuntimeError(f"POST /v1/dossiers: {r.status_code} {r.text[:300]}")
    answer: dict[str, Any] = r.json()
    return {**answer, "retried": attempt}


async def import_all(http: Api, receipts: list[datetime], concurrency: int,
                     unit: str = UNIT) -> list[dict[str, Any]]:
    """Receive one dossier per receipt time (in order), `concurrency` at a time."""
    out: list[dict[str, Any]] = []
    todo = iter(receipts)

    async def loop() -> None:
        for received in todo:
            answer = await receive_at(http, received, unit)
            out.append({"code": answer["code"], "due_at": answer["due_at"],
                        "answered_at": datetime.now(UTC).isoformat(),
                        "retried": answer["retried"]})

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return out


async def bench(quick: bool, results_dir: Path) -> Result:
    n, window_s, concurrency = (60, 5.0, 8) if quick else (5000, 60.0, 16)
    result = Result("storm", "Deadline storm", params={
        "dossiers": n, "due_window_s": window_s, "import_concurrency": concurrency,
        "import": "HTTP API, original_received_at = due - 1 working hour",
        "units": {"spread": SPREAD_UNIT, "same instant": INSTANT_UNIT}})
    folder = Path(tempfile.mkdtemp(prefix="motcua-bench-storm-cal-"))
    receiver = storm_watch.WebhookReceiver()
    port = await receiver.start()
    env = {"MOTCUA_PROCEDURES_FILE": str(DATA / "procedures.yaml"),
           "MOTCUA_CALENDAR_OVERRIDES": str(overrides_file(folder)),
           "MOTCUA_OFFICE_HOURS": "00:00-23:59:59",
           "MOTCUA_WEBHOOK_URL": f"http://127.0.0.1:{port}/motcua"}
    try:
        return await _storms(result, quick, env, receiver)
    finally:
        receiver.close()
        shutil.rmtree(folder, ignore_errors=True)


async def _storms(result: Result, quick: bool, env: dict[str, str],
                  receiver: storm_watch.WebhookReceiver) -> Result:
    """Both motcua storms and both bare ones on one stack, then the histories."""
    p = result.params
    n, window_s, concurrency = p["dossiers"], p["due_window_s"], p["import_concurrency"]
    async with running_stack("storm", env=env,
                             children=("worker", "projector", "dispatcher", "api")) as run:
        async with run.http(connections=concurrency + 4) as http:
            pilot_n = 4 * concurrency
            started = time.monotonic()
            # The pilot falls due in about an hour: after the run.
            now = datetime.now(UTC)
            await import_all(http, [now - timedelta(minutes=1)] * pilot_n, concurrency)
            rate = pilot_n / (time.monotonic() - started)
            spread = await _motcua_storm(run, http, receiver, quick=quick, n=n,
                                         window_s=window_s, unit=SPREAD_UNIT, rate=rate,
                                         concurrency=concurrency)
            # Quick: 60 starts take a second or two; starts answered late are counted.
            lead = 4.0 if quick else None
            bare, bare_cpu = await _bare_storm(run, n, window_s, "bspread", lead)
            bare_i, bare_i_cpu = await _bare_storm(run, n, 0.0, "binstant", lead)
            instant = await _motcua_storm(run, http, receiver, quick=quick, n=n,
                                          window_s=0.0, unit=INSTANT_UNIT, rate=rate,
                                          concurrency=concurrency)
        sample = list(range(0, n, max(1, n // 20)))
        address = run.stack.temporal.address
        motcua_share = await storm_watch.per_alert(address, [instant.codes[i] for i in sample])
        bare_share = await storm_watch.per_alert(address, [f"binstant-{i:06d}" for i in sample])
    storm_report.spread(result, spread, bare, bare_cpu, rate)
    storm_report.instant(result, instant, bare_i, bare_i_cpu)
    result.add("history events per alert, motcua", motcua_share.get("events"), "")
    result.add("history events per alert, bare", bare_share.get("events"), "")
    result.params["per_alert_history"] = {"motcua": motcua_share, "bare": bare_share}
    return result


async def _motcua_storm(run: Running, http: Api, receiver: storm_watch.WebhookReceiver, *,
                        quick: bool, n: int, window_s: float, unit: str, rate: float,
                        concurrency: int) -> Storm:
    """Import `n` dossiers of `unit` due over `window_s` (0: at one instant) after the import
    is expected to be over, and measure their storm."""
    drain_s = 120.0 if quick else 600.0
    lead = n / rate * 1.3 + (4 if quick else 30)  # imports answered late are counted
    first_due = datetime.now(UTC) + timedelta(seconds=lead)
    if not quick:  # a whole clock minute (17:00:00)
        first_due = first_due.replace(second=0, microsecond=0) + timedelta(minutes=1)
    receipts = [first_due - timedelta(hours=1) + timedelta(seconds=window_s * i / n)
                for i in range(n)]
    t0 = time.monotonic()
    imported = await import_all(http, receipts, concurrency, unit)
    import_s = time.monotonic() - t0
    late_imports = sum(1 for d in imported if datetime.fromisoformat(d["answered_at"])
                       > datetime.fromisoformat(d["due_at"]))
    retried = sum(d["retried"] for d in imported)
    codes = [d["code"] for d in imported]
    last_due = first_due + timedelta(seconds=window_s)
    # Every dossier in the read model before its due instant, else the views cannot show it.
    listed = 0
    while listed < n and datetime.now(UTC) < first_due - timedelta(seconds=2):
        with contextlib.suppress(ApiError):  # overloaded: ask again
            listed = await storm_watch.count_listed(http, unit)
        if listed < n:
            await asyncio.sleep(0.5)
    meter = CpuMeter(roots(run))
    until = (last_due + timedelta(seconds=drain_s)).timestamp()
    await asyncio.sleep(max(0.0, (first_due - datetime.now(UTC)).total_seconds() - 1.0))
    exporter = Api(f"http://127.0.0.1:{run.stack.ports.projector_metrics}", connections=2)
    async with exporter:
        watch = asyncio.create_task(storm_watch.watch_overdue(http, exporter, unit, n, until))
        await asyncio.sleep(max(0.0, (first_due - datetime.now(UTC)).total_seconds()))
        meter.start()
        rows = await wait_alerts(run.stack.postgres.dsn, codes, first_due, last_due,
                                 datetime.fromtimestamp(until, UTC))
        cpu = meter.stop()
        seen = await watch
    await receiver.wait_for(codes, "overdue", time.time() + (30 if quick else 120))
    return Storm(unit, codes, first_due, last_due, import_s, late_imports, rows, cpu, seen,
                 receiver.summary(codes, "overdue"), listed, retried)


async def _bare_storm(run: Running, n: int, window_s: float, prefix: str,
                      lead_s: float | None) -> tuple[bare_storm.StormRun, dict[str, float]]:
    """The bare-timer storm (`bench.bare_storm`; workflow ids `<prefix>-000000`, ...) on this
    run's Temporal server, and the CPU seconds of each process from its first due instant to
    its last alert."""
    queue = f"bench-bare-storm-{prefix}"
    worker = start_bare_worker(run, queue, max_cached=n + 1000, module="bench.bare_storm")
    meter = CpuMeter(roots(run, {"bare worker": worker.pid}))
    try:
        storm = await while_alive(worker, bare_storm.storm(
            run.stack.temporal.address, queue, n, window_s, prefix, lead_s=lead_s,
            at_first_due=meter.start))
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
                "'DeadlineAlertRaised' AND recorded_at >= $1 AND payload->>'kind' = 'overdue' "
                "AND stream = ANY($2::text[])", first_due - timedelta(seconds=1), codes)
            if found >= len(codes):
                break
            await asyncio.sleep(2.0)
        await asyncio.sleep(2.0)  # a duplicate, if any, would come just after
        return await conn.fetch(_ALERTS, codes)
    finally:
        await conn.close()
