"""The fault-injection scenario: a stack with a one-hour procedure and a webhook, dossiers
flowing through the API, and the faults one after another on a fixed timeline (seconds after
the scenario starts; the load starts a second or two in, once the alert dossiers are in):

    8   SIGKILL the worker, start a new one
    18  the webhook receiver answers 500 for 60 s (until 78)
    22  stop the Temporal dev server for 12 s, start it again on the same file
    45  stop PostgreSQL for 30 s, start it again
    86  stop the load; in-progress lifecycles finish; alerts and the projector settle

Seven "alert" dossiers are imported with `original_received_at` just under an hour ago on the
one-hour procedure, so their overdue alerts fall due at chosen instants across the faults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
import yaml

from motcua.catalog.calendar import office_zone
from motcua.devstack.stack import Stack
from tests.faults.load import Api, Call, Load, receipt_body
from tests.faults.receiver import Hit, WebhookReceiver

log = structlog.get_logger(__name__)

ONE_HOUR_PROCEDURE = "L.fault-one-hour"
# When each alert dossier falls overdue, in seconds after the load starts.
ALERT_OFFSETS = (4.0, 10.0, 20.0, 27.0, 40.0, 52.0, 70.0)
ALERTS_PER_DOSSIER = 2  # overdue and overdue-without-apology (no due-soon: 0 days before)
WORKER_KILL_AT = 8.0
WEBHOOK_DOWN = (18.0, 78.0)
TEMPORAL_DOWN_AT, TEMPORAL_DOWN_FOR = 22.0, 12.0
POSTGRES_DOWN_AT, POSTGRES_DOWN_FOR = 45.0, 30.0
LOAD_STOP_AT = 86.0
SETTLE_TIMEOUT = 150.0

_PROCEDURES = """\
procedures:
  - code: "1.004222"
    name: "Đăng ký thường trú"
    level: commune
    prescribed_amount: 7
    prescribed_unit: working_days
    source: "UNVERIFIED: Luật Cư trú 2020 (68/2020/QH14), 07 working days (test copy)"
  - code: "L.fault-one-hour"
    name: "Thủ tục thử nghiệm một giờ"
    level: commune
    prescribed_amount: 1
    prescribed_unit: working_hours
    reduced_amount: 1
    reduced_unit: working_hours
    reduced_is_estimate: false
    due_soon_working_days: 0
    source: "test fixture: falls overdue one hour after receipt"
"""


def write_test_config(folder: Path) -> dict[str, str]:
    """The catalog and calendar files of the scenario, and the settings naming them: office
    hours all day, and yesterday, today and tomorrow (office time) working days."""
    folder.mkdir(parents=True, exist_ok=True)
    procedures = folder / "procedures.yaml"
    procedures.write_text(_PROCEDURES, encoding="utf-8")
    today = datetime.now(office_zone()).date()  # the office date (the default office zone)
    days = [today + timedelta(days=d) for d in (-1, 0, 1)]
    years: dict[int, dict[str, list[dict[str, str]]]] = {}
    for day in days:
        years.setdefault(day.year, {"working_days": []})["working_days"].append(
            {"date": day.isoformat(), "source": "fault-injection test"})
    overrides = folder / "calendar_overrides.yaml"
    overrides.write_text(yaml.safe_dump({"years": years}), encoding="utf-8")
    return {"MOTCUA_OFFICE_HOURS": "00:00-23:59:59",
            "MOTCUA_PROCEDURES_FILE": str(procedures),
            "MOTCUA_CALENDAR_OVERRIDES": str(overrides)}


@dataclass
class Outcome:
    """Everything the scenario saw, for the tests to judge."""

    load_codes: list[str]
    completed: list[str]
    alert_codes: list[str]
    calls: list[Call]
    hits: list[Hit]
    failures: list[str]
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    dead_children: list[str] = field(default_factory=list)
    alerts_settled: bool = False
    projector_caught_up: bool = False

    @property
    def all_codes(self) -> list[str]:
        return [*self.alert_codes, *self.load_codes]

    def during(self, window: str) -> list[Call]:
        """The calls in flight at some moment while `window` (an outage) lasted."""
        start, end = self.windows[window]
        return [c for c in self.calls if c.started <= end and c.ended >= start]


class Timeline:
    """Sleeps until fixed offsets from its start and records named windows."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.windows: dict[str, tuple[float, float]] = {}

    async def at(self, offset: float) -> None:
        await asyncio.sleep(max(0.0, self.t0 + offset - time.monotonic()))

    def since(self) -> float:
        return time.monotonic() - self.t0


async def _outage(timeline: Timeline, name: str, down_at: float, down_for: float,
                  stop: Callable[[], None], start: Callable[[], None]) -> None:
    await timeline.at(down_at)
    began = time.monotonic()
    await asyncio.to_thread(stop)
    await asyncio.sleep(max(0.0, began + down_for - time.monotonic()))
    await asyncio.to_thread(start)
    timeline.windows[name] = (began, time.monotonic())
    log.info("fault.recovered", fault=name, seconds=round(time.monotonic() - began, 1))


async def _webhook_outage(timeline: Timeline, receiver: WebhookReceiver) -> None:
    await timeline.at(WEBHOOK_DOWN[0])
    began = time.monotonic()
    receiver.failing = True
    await timeline.at(WEBHOOK_DOWN[1])
    receiver.failing = False
    timeline.windows["webhook-down"] = (began, time.monotonic())


async def receive_alert_dossiers(api: Api, start_wall: datetime) -> list[str]:
    """The dossiers whose overdue alerts fall due at `ALERT_OFFSETS` after `start_wall`."""
    codes = []
    for i, offset in enumerate(ALERT_OFFSETS):
        received = start_wall + timedelta(seconds=offset) - timedelta(hours=1)
        d = await api.call("POST", "/v1/dossiers", "receive",
                           receipt_body(f"Trần Thị {i}", received, ONE_HOUR_PROCEDURE))
        codes.append(d["code"])
    return codes


# Alerts and their final delivery outcomes, recorded by the dispatcher (notification outbox).
_ALERT_STATUS = """
SELECT a.stream, count(*) AS alerts,
       count(d.alert_event_id) FILTER (WHERE d.status IN ('delivered', 'failed')) AS outcomes
FROM events a LEFT JOIN notification_deliveries d ON d.alert_event_id = a.event_id
WHERE a.stream = ANY($1::text[]) AND a.event_type = 'DeadlineAlertRaised' GROUP BY a.stream
"""

_PROJECTION_BEHIND = """
SELECT count(*) FROM (SELECT stream, max(position) AS v FROM events GROUP BY stream) e
LEFT JOIN dossiers d ON d.code = e.stream WHERE d.version IS DISTINCT FROM e.v
"""


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], within: float) -> bool:
    """Poll `check()` every second until it is true (True) or `within` seconds pass (False)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await check():
                return True
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            log.warning("settle.check_failed", what=what, error=str(err))
        await asyncio.sleep(1.0)
    return False


async def run(stack: Stack, api: Api, receiver: WebhookReceiver, dsn: str) -> Outcome:
    """Play the timeline and let the stack settle; see the module docstring."""
    started = time.monotonic()
    start_wall = datetime.now(UTC)
    alert_codes = await receive_alert_dossiers(api, start_wall)
    timeline = Timeline()
    timeline.t0 = started  # the alert offsets count from before their receipts
    load = Load(api)
    load.start()
    faults = [
        asyncio.create_task(_webhook_outage(timeline, receiver)),
        asyncio.create_task(_outage(timeline, "temporal-down", TEMPORAL_DOWN_AT,
                                    TEMPORAL_DOWN_FOR, stack.temporal.stop,
                                    stack.temporal.start)),
        asyncio.create_task(_outage(timeline, "postgres-down", POSTGRES_DOWN_AT,
                                    POSTGRES_DOWN_FOR, stack.postgres.stop,
                                    stack.postgres.start)),
    ]
    try:
        await timeline.at(WORKER_KILL_AT)
        killed = time.monotonic()
        await asyncio.to_thread(stack.kill, "worker")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(stack.start, "worker")
        timeline.windows["worker-killed"] = (killed, time.monotonic())
        await asyncio.gather(*faults)
    except BaseException:
        load.cancel()
        for task in faults:
            task.cancel()
        receiver.failing = False
        raise
    await timeline.at(LOAD_STOP_AT)
    await load.finish(within=SETTLE_TIMEOUT)
    timings = {"load_stopped": timeline.since()}

    conn = await asyncpg.connect(dsn)
    try:
        async def alerts_settled() -> bool:
            rows = await conn.fetch(_ALERT_STATUS, alert_codes)
            return len(rows) == len(alert_codes) and all(
                r["alerts"] == ALERTS_PER_DOSSIER and r["outcomes"] == r["alerts"]
                for r in rows)

        settled = await wait_for("alerts", alerts_settled, SETTLE_TIMEOUT)
        timings["alerts_settled"] = timeline.since()

        async def projected() -> bool:
            return int(await conn.fetchval(_PROJECTION_BEHIND)) == 0

        caught_up = await wait_for("projector", projected, 60.0)
        timings["projector_caught_up"] = timeline.since()
    finally:
        await conn.close()
    dead = stack.dead_children()
    await asyncio.to_thread(stack.stop, "projector")  # freeze the read models for the checks
    return Outcome(load_codes=list(load.codes), completed=list(load.completed),
                   alert_codes=alert_codes, calls=list(api.calls), hits=list(receiver.hits),
                   failures=list(load.failures), windows=dict(timeline.windows),
                   timings=timings, dead_children=dead, alerts_settled=settled,
                   projector_caught_up=caught_up)


def summary(outcome: Outcome) -> str:
    """A few lines on what happened, printed with the test output."""
    by_status: dict[str, int] = {}
    for c in outcome.calls:
        key = str(c.status) if c.status is not None else "no-answer"
        by_status[key] = by_status.get(key, 0) + 1
    lines = [f"dossiers: {len(outcome.load_codes)} through the lifecycle "
             f"({len(outcome.completed)} completed), {len(outcome.alert_codes)} with alerts",
             f"API answers: {dict(sorted(by_status.items()))}"]
    for name, (start, end) in sorted(outcome.windows.items(), key=lambda w: w[1][0]):
        calls = outcome.during(name)
        unavailable = [c for c in calls if c.status == 503]
        deps: dict[str, int] = {}
        for c in unavailable:
            deps[c.dependency or "?"] = deps.get(c.dependency or "?", 0) + 1
        lines.append(f"{name}: {end - start:.1f}s, {len(calls)} calls in flight, 503s {deps}")
    attempts: dict[str, int] = {}
    for c in outcome.calls:
        if c.key is not None:
            attempts[c.key] = attempts.get(c.key, 0) + 1
    retried = [n for n in attempts.values() if n > 1]
    lines.append(f"commands: {len(attempts)} POSTs, {len(retried)} retried with the same key "
                 f"(at most {max(retried, default=1)} attempts)")
    failed = sum(h.status != 200 for h in outcome.hits)
    lines.append(f"webhook: {len(outcome.hits)} POSTs ({failed} answered 500), "
                 f"{len({h.alert_id for h in outcome.hits})} distinct alerts")
    lines.append("timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in outcome.timings.items()))
    if outcome.failures:
        lines.append("failures: " + "; ".join(outcome.failures[:5]))
    return "\n".join(lines)
