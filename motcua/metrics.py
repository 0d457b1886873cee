"""Every Prometheus metric motcua exports, defined once.

Rules that keep the series count bounded and the data honest:
- labels are unit codes, procedure-independent enums and route templates; never a dossier code,
  a person, or a concrete URL path (use the route template, e.g. ``/v1/dossiers/{code}``);
- counters move only in activities / API / projector code, never in workflow code (a replay
  would count twice);
- gauges about dossiers come from the read model (``OpenDossiersCollector``), so they are right
  however many workers run. Several processes may export them; queries use ``max by (...)`` to
  de-duplicate identical series from replicas.

``METRICS`` is registered in prometheus_client's default registry on import. Tests that want
isolation call ``fresh_registry()``, which builds the same set into a new ``CollectorRegistry``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from domain.catalog import StepRole
from domain.states import TERMINAL_STATES, AlertKind, Channel, Timeliness
from motcua.eventstore.due import next_change_sql, status_sql

log = structlog.get_logger(__name__)

HOUR = 3600.0
DAY = 24 * HOUR
# Legal processing times run from hours (same-day procedures) to months; p50/p95 must land in
# a bucket that means something to an operator, so buckets follow calendar intuition.
TURNAROUND_BUCKETS: tuple[float, ...] = (
    1 * HOUR, 4 * HOUR, 8 * HOUR,
    1 * DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 10 * DAY, 15 * DAY, 20 * DAY, 30 * DAY,
    45 * DAY, 60 * DAY,
)  # fmt: skip
# A single-row INSERT ... ON CONFLICT: milliseconds normally, seconds means trouble.
APPEND_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
# The clerk-command target is p99 < 100 ms, so resolution is finest around 0.1 s.
HTTP_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

# Closed label vocabularies. Channels, timeliness and alert kinds are the domain's own values
# (the events carry them); a breach is an alert at or past the due time (every kind but
# due_soon); the outcomes are those `activities/notify.py` counts.
BREACH_KINDS = tuple(kind for kind in AlertKind if kind is not AlertKind.DUE_SOON)
NOTIFICATION_OUTCOMES = ("delivered", "failed", "retried")
# The delivery layer's destinations (motcua.eventstore.outbox.DESTINATIONS) and outcomes.
DELIVERY_DESTINATIONS = ("webhook", "portal", "sms", "zalo", "email")
DELIVERY_OUTCOMES = ("delivered", "failed", "retried", "disabled")
CLOSED_STATES = tuple(sorted(state.value for state in TERMINAL_STATES))
# A step's own alerts (issue 22 item 2): the two kinds a step raises, the webhook's kind names
# for them (`motcua.eventstore.outbox.STEP_KINDS`), and the catalog's step roles.
STEP_ALERT_KINDS = (AlertKind.DUE_SOON.value, AlertKind.OVERDUE.value)
STEP_NOTIFICATION_KINDS = tuple(f"step_{kind}" for kind in STEP_ALERT_KINDS)
STEP_ROLES = tuple(role.value for role in StepRole)


def _listed(values: Iterable[str]) -> str:
    return ", ".join(values)


# Open = not in a terminal state. The SLA status is judged from the due instants and the clock
# at the refresh's instant ($2; `domain.due` through `motcua.eventstore.due`), not from the
# stored status the projector sets when the timer's alert event arrives, so a storm of timers
# does not delay "overdue" (issue 27 item 1). `next_change`: the next instant a status of the
# group changes by the clock alone, when the refresher runs again.
_STATUS = status_sql("$2")
OPEN_DOSSIERS_SQL = f"""
SELECT coalesce(holding_unit_code, unit_code, '') AS unit,
       state,
       {_STATUS} AS sla_status,
       count(*) AS n,
       count(*) FILTER (WHERE {_STATUS} = 'overdue' AND NOT coalesce(apology_sent, false))
           AS overdue_without_apology,
       min({next_change_sql("$2")}) AS next_change
FROM dossiers
WHERE state <> ALL($1::text[])
GROUP BY 1, 2, 3
"""
# What moves when the read model changes: the projector's checkpoint.
_CHANGED_SQL = ("SELECT tx_id::text AS tx, global_position FROM projection_checkpoints "
                "WHERE name = 'dossiers'")


@dataclass(frozen=True)
class OpenDossiersSnapshot:
    """Counts from one read of the read model."""

    open: Mapping[tuple[str, str, str], int] = field(default_factory=dict)  # (unit, state, sla)
    overdue_without_apology: Mapping[str, int] = field(default_factory=dict)  # unit -> count
    taken_at: float = 0.0  # unix time; 0 means never refreshed
    next_change: float | None = None  # unix time a status changes by the clock alone


class OpenDossiersCollector(Collector):
    """Gauges over the read model, served from a cached snapshot.

    ``collect()`` runs inside a scrape and must never wait on PostgreSQL, so it only reads the
    snapshot that ``refresh()`` (driven by ``run_refresher``) replaces atomically.
    """

    def __init__(self) -> None:
        self._snapshot = OpenDossiersSnapshot()

    @property
    def snapshot(self) -> OpenDossiersSnapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: OpenDossiersSnapshot) -> None:
        self._snapshot = snapshot  # a single reference swap: scrapes see old or new, never half

    async def refresh(self, pool: asyncpg.Pool | asyncpg.Connection,
                      now: datetime | None = None) -> OpenDossiersSnapshot:
        """Count the open dossiers with their SLA status at `now` (default: the clock)."""
        at = now or datetime.now(UTC)
        rows = await pool.fetch(OPEN_DOSSIERS_SQL, list(CLOSED_STATES), at)
        open_counts: dict[tuple[str, str, str], int] = {}
        without_apology: dict[str, int] = {}
        changes: list[datetime] = []
        for row in rows:
            unit = str(row["unit"])
            open_counts[(unit, str(row["state"]), str(row["sla_status"]))] = int(row["n"])
            if row["overdue_without_apology"]:
                without_apology[unit] = without_apology.get(unit, 0) + int(
                    row["overdue_without_apology"]
                )
            if row.get("next_change") is not None:
                changes.append(row["next_change"])
        snapshot = OpenDossiersSnapshot(
            open_counts, without_apology, at.timestamp(),
            min(changes).timestamp() if changes else None)
        self.set_snapshot(snapshot)
        return snapshot

    async def run_refresher(self, pool: asyncpg.Pool, interval: float = 15.0, *,
                            poll: float = 1.0) -> None:
        """Refresh forever: at the next instant a status changes by the clock (the earliest
        due-soon or judged due instant among the open dossiers), when the read model changes
        (the projector's checkpoint, looked at every `poll` seconds), and at least every
        `interval` seconds. A failed read keeps the previous snapshot (its age shows it)."""
        seen: object = None
        while True:
            try:
                changed = await pool.fetch(_CHANGED_SQL)
                marker = tuple(changed[0].values()) if changed else None
                snap, wall = self._snapshot, time.time()
                if (not snap.taken_at or marker != seen or wall - snap.taken_at >= interval
                        or (snap.next_change is not None and wall >= snap.next_change)):
                    await self.refresh(pool)
                    seen = marker
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("open_dossiers_refresh_failed", exc_info=True)
            wait = min(poll, interval)
            upcoming = self._snapshot.next_change
            if upcoming is not None and upcoming > time.time():  # (past: the refresh failed)
                wait = min(wait, upcoming - time.time())
            await asyncio.sleep(wait)

    def describe(self) -> Iterable[Metric]:
        # Describing without data lets the registry check names at registration time.
        return self._families(OpenDossiersSnapshot())

    def collect(self) -> Iterable[Metric]:
        return self._families(self._snapshot)

    @staticmethod
    def _families(snap: OpenDossiersSnapshot) -> list[Metric]:
        open_family = GaugeMetricFamily(
            "motcua_dossiers_open",
            "Dossiers not yet closed (not returned/refused/withdrawn/stopped), from the read "
            "model, by the unit holding them, lifecycle state and SLA status.",
            labels=["unit", "state", "sla_status"],
        )
        for (unit, state, sla), n in sorted(snap.open.items()):
            open_family.add_metric([unit, state, sla], n)
        overdue = GaugeMetricFamily(
            "motcua_dossiers_overdue_without_apology",
            "Open dossiers past their due time whose citizen has no apology: none recorded, or "
            "recorded but not yet delivered on a channel the citizen chose, by unit.",
            labels=["unit"],
        )
        for unit, n in sorted(snap.overdue_without_apology.items()):
            overdue.add_metric([unit], n)
        taken = GaugeMetricFamily(
            "motcua_dossiers_snapshot_timestamp_seconds",
            "Unix time of the read-model snapshot behind motcua_dossiers_open (staleness check).",
        )
        if snap.taken_at:
            taken.add_metric([], snap.taken_at)
        return [open_family, overdue, taken]


@dataclass(frozen=True)
class Metrics:
    dossiers_received: Counter
    dossiers_returned: Counter
    sla_breaches: Counter
    sla_alerts: Counter
    step_alerts: Counter
    notifications: Counter
    notifications_undelivered: Gauge
    deliveries: Counter
    delivery_backlog: Gauge
    delivery_oldest_pending: Gauge
    deliveries_failed: Gauge
    notice_events_owed: Gauge
    dossier_turnaround: Histogram
    event_store_append: Histogram
    projection_lag: Gauge
    http_request_duration: Histogram
    open_dossiers: OpenDossiersCollector
    dossiers_at_risk: Gauge

    def prime(self, units: Iterable[str]) -> None:
        """Create at 0 every child of the counters the projector moves, for `units` (the unit
        catalogue's codes); the projector calls it at start-up.

        A counter series that first appears at 1 is invisible to ``increase()``/``rate()``
        (there is no earlier sample), so without this the first late return of a unit after a
        restart would never fire ``MotcuaLateReturns`` (deploy/prometheus/rules).
        """
        for unit in units:
            for channel in Channel:
                self.dossiers_received.labels(unit, channel.value)
            for timeliness in Timeliness:
                self.dossiers_returned.labels(unit, timeliness.value)
            for breach in BREACH_KINDS:
                self.sla_breaches.labels(unit, breach.value)
        for kind in AlertKind:
            self.sla_alerts.labels(kind.value)
        for unit in units:
            for role in STEP_ROLES:
                for step_kind in STEP_ALERT_KINDS:
                    self.step_alerts.labels(unit, role, step_kind)

    def prime_notifications(self) -> None:
        """Create at 0 every child of the notification counter (the worker calls it at
        start-up), so the first failures after a restart count in ``rate()``."""
        for name in (*(k.value for k in AlertKind), *STEP_NOTIFICATION_KINDS):
            for outcome in NOTIFICATION_OUTCOMES:
                self.notifications.labels(name, outcome)
        for destination in DELIVERY_DESTINATIONS:
            for result in DELIVERY_OUTCOMES:
                self.deliveries.labels(destination, result)


def build_metrics(registry: CollectorRegistry) -> Metrics:
    """Create every motcua metric in ``registry`` (raises if they are already there)."""
    open_dossiers = OpenDossiersCollector()
    registry.register(open_dossiers)
    return Metrics(
        dossiers_received=Counter(
            "motcua_dossiers_received",
            f"Dossiers received, by receiving unit and channel ({_listed(Channel)}).",
            ["unit", "channel"],
            registry=registry,
        ),
        dossiers_returned=Counter(
            "motcua_dossiers_returned",
            f"Dossiers whose result was returned, by unit and timeliness "
            f"({_listed(Timeliness)}).",
            ["unit", "timeliness"],
            registry=registry,
        ),
        sla_breaches=Counter(
            "motcua_sla_breaches",
            f"Deadline breaches recorded, by unit and kind ({_listed(BREACH_KINDS)}).",
            ["unit", "kind"],
            registry=registry,
        ),
        sla_alerts=Counter(
            "motcua_sla_alerts",
            f"SLA alerts fired, once per deadline version, by kind ({_listed(AlertKind)}).",
            ["kind"],
            registry=registry,
        ),
        step_alerts=Counter(
            "motcua_step_alerts",
            f"Step alerts raised (issue 22 item 2), by the unit and role of the step's actor "
            f"({_listed(STEP_ROLES)}) and kind ({_listed(STEP_ALERT_KINDS)}).",
            ["unit", "role", "kind"],
            registry=registry,
        ),
        notifications=Counter(
            "motcua_notifications",
            f"Notification delivery attempts, by notification kind and outcome "
            f"({_listed(NOTIFICATION_OUTCOMES)}).",
            ["kind", "outcome"],
            registry=registry,
        ),
        notifications_undelivered=Gauge(
            "motcua_notifications_oldest_undelivered_seconds",
            "Age of the oldest deadline alert whose notification is neither delivered nor "
            "recorded as failed yet, in seconds (0 when none); set by the dispatcher.",
            registry=registry,
        ),
        deliveries=Counter(
            "motcua_deliveries",
            f"Delivery attempts, by destination ({_listed(DELIVERY_DESTINATIONS)}) and outcome "
            f"({_listed(DELIVERY_OUTCOMES)}).",
            ["destination", "outcome"],
            registry=registry,
        ),
        delivery_backlog=Gauge(
            "motcua_delivery_backlog",
            "Deliveries not yet delivered nor finally failed, by destination (for the portal: "
            "changes the national portal has not acknowledged); set by the dispatcher.",
            ["destination"],
            registry=registry,
        ),
        delivery_oldest_pending=Gauge(
            "motcua_delivery_oldest_pending_seconds",
            "Age of the oldest change whose delivery is still pending, by destination, in "
            "seconds (0 when none); set by the dispatcher.",
            ["destination"],
            registry=registry,
        ),
        deliveries_failed=Gauge(
            "motcua_deliveries_failed",
            "Deliveries recorded as finally failed (kept until resent or purged), by "
            "destination; set by the dispatcher.",
            ["destination"],
            registry=registry,
        ),
        notice_events_owed=Gauge(
            "motcua_notice_events_oldest_owed_seconds",
            "Age of the oldest citizen's notice delivered whose NoticeDelivered event is not "
            "yet on its dossier, in seconds (0 when none); set by the dispatcher. While owed, "
            "an apology delivered does not yet count for overdue without apology.",
            registry=registry,
        ),
        dossier_turnaround=Histogram(
            "motcua_dossier_turnaround_seconds",
            "Time from receipt to result returned, in seconds (wall clock, pauses included).",
            buckets=TURNAROUND_BUCKETS,
            registry=registry,
        ),
        event_store_append=Histogram(
            "motcua_event_store_append_seconds",
            "Latency of appending events to the PostgreSQL event store, in seconds.",
            buckets=APPEND_BUCKETS,
            registry=registry,
        ),
        projection_lag=Gauge(
            "motcua_projection_lag_seconds",
            "Age of the newest event not yet applied to the read models, in seconds "
            "(0 when the projector is caught up).",
            registry=registry,
        ),
        http_request_duration=Histogram(
            "motcua_http_request_duration_seconds",
            "HTTP request latency in seconds, by route template, method and status code.",
            ["route", "method", "status"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        ),
        open_dossiers=open_dossiers,
        dossiers_at_risk=Gauge(
            "motcua_dossiers_at_risk",
            "Open dossiers forecast to finish late with probability >= 0.8, by unit (empirical "
            "distribution of working time used; refreshed by motcua.whatif.forecast).",
            ["unit"],
            registry=registry,
        ),
    )


def fresh_registry() -> tuple[CollectorRegistry, Metrics]:
    """A new registry holding only motcua's metrics (no process/GC collectors)."""
    registry = CollectorRegistry(auto_describe=True)
    return registry, build_metrics(registry)


METRICS = build_metrics(REGISTRY)

DOSSIERS_RECEIVED = METRICS.dossiers_received
DOSSIERS_RETURNED = METRICS.dossiers_returned
SLA_BREACHES = METRICS.sla_breaches
SLA_ALERTS = METRICS.sla_alerts
STEP_ALERTS = METRICS.step_alerts
NOTIFICATIONS = METRICS.notifications
NOTIFICATIONS_UNDELIVERED = METRICS.notifications_undelivered
DELIVERIES = METRICS.deliveries
DELIVERY_BACKLOG = METRICS.delivery_backlog
DELIVERY_OLDEST_PENDING = METRICS.delivery_oldest_pending
DELIVERIES_FAILED = METRICS.deliveries_failed
NOTICE_EVENTS_OWED = METRICS.notice_events_owed
DOSSIER_TURNAROUND = METRICS.dossier_turnaround
EVENT_STORE_APPEND = METRICS.event_store_append
PROJECTION_LAG = METRICS.projection_lag
HTTP_REQUEST_DURATION = METRICS.http_request_duration
OPEN_DOSSIERS = METRICS.open_dossiers
DOSSIERS_AT_RISK = METRICS.dossiers_at_risk


async def run_refresher(pool: asyncpg.Pool, interval: float = 15.0) -> None:
    """Keep ``OPEN_DOSSIERS`` fresh; run it as a task (``asyncio.create_task``), cancel on exit.

    Run it in the processes that export the open-dossier gauges (the API and the projector).
    """
    await OPEN_DOSSIERS.run_refresher(pool, interval)
