"""motcua.metrics: every metric exposes cleanly (promtool check metrics), with the contract's
names, bounded labels and buckets; the open-dossier collector never touches the DB in collect()."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from domain import events as ev
from domain.clock import due_at
from domain.dossier import Dossier
from domain.states import AlertKind, Channel, Timeliness
from motcua import metrics as m
from motcua.catalog.calendar import load_calendar
from motcua.catalog.source import load_catalog
from motcua.eventstore import counting
from tests.deploy._support import run

FORBIDDEN_LABELS = {"code", "dossier", "dossier_id", "dossier_code", "id", "name", "person",
                    "citizen", "assignee", "officer", "user", "path", "url", "token"}


def populated_registry() -> tuple[CollectorRegistry, m.Metrics]:
    """A fresh registry with at least one sample in every motcua metric (no DB involved)."""
    registry, mx = m.fresh_registry()
    mx.dossiers_received.labels("000.00.15.H35", Channel.COUNTER.value).inc()
    for t in Timeliness:
        mx.dossiers_returned.labels("000.00.15.H35", t.value).inc()
    mx.sla_breaches.labels("000.00.15.H35", "overdue").inc()
    mx.sla_alerts.labels("due_soon").inc()
    mx.step_alerts.labels("000.00.15.H35", "officer", "overdue").inc()
    mx.notifications.labels("overdue", "delivered").inc()
    mx.dossier_turnaround.observe(3 * m.DAY)
    mx.event_store_append.observe(0.004)
    mx.projection_lag.set(1.5)
    mx.http_request_duration.labels("/v1/dossiers/{code}", "GET", "200").observe(0.02)
    mx.dossiers_at_risk.labels("000.00.15.H35").set(2)
    mx.deliveries.labels("portal", "retried").inc()
    mx.delivery_backlog.labels("portal").set(3)
    mx.delivery_oldest_pending.labels("portal").set(120.0)
    mx.deliveries_failed.labels("sms").set(1)
    mx.open_dossiers.set_snapshot(m.OpenDossiersSnapshot(
        open={("000.00.15.H35", "processing", "overdue"): 3,
              ("000.00.15.H35", "received", "on_track"): 7},
        overdue_without_apology={"000.00.15.H35": 1},
        taken_at=1_760_000_000.0,
    ))
    return registry, mx


def exported_families(registry: CollectorRegistry) -> dict[str, Any]:
    return {f.name: f for f in registry.collect()}


def test_exposition_passes_promtool_check_metrics(promtool: str) -> None:
    registry, _ = populated_registry()
    text = generate_latest(registry).decode()
    out = run([promtool, "check", "metrics"], stdin=text)
    assert out.strip() == "", f"promtool lint findings:\n{out}"


def test_contract_metric_names_and_labels() -> None:
    registry, _ = populated_registry()
    samples = {s.name: s.labels for f in registry.collect() for s in f.samples}
    expected = {
        "motcua_dossiers_received_total": {"unit", "channel"},
        "motcua_dossiers_returned_total": {"unit", "timeliness"},
        "motcua_sla_breaches_total": {"unit", "kind"},
        "motcua_sla_alerts_total": {"kind"},
        # A step's own alerts, by the step's actor (issue 22 item 2).
        "motcua_step_alerts_total": {"unit", "role", "kind"},
        "motcua_notifications_total": {"kind", "outcome"},
        "motcua_notifications_oldest_undelivered_seconds": set(),
        "motcua_dossier_turnaround_seconds_bucket": {"le"},
        "motcua_event_store_append_seconds_bucket": {"le"},
        "motcua_projection_lag_seconds": set(),
        "motcua_http_request_duration_seconds_bucket": {"route", "method", "status", "le"},
        "motcua_dossiers_open": {"unit", "state", "sla_status"},
        "motcua_dossiers_overdue_without_apology": {"unit"},
        "motcua_dossiers_at_risk": {"unit"},
        # The delivery layer (issue 25), by destination.
        "motcua_deliveries_total": {"destination", "outcome"},
        "motcua_delivery_backlog": {"destination"},
        "motcua_delivery_oldest_pending_seconds": {"destination"},
        "motcua_deliveries_failed": {"destination"},
    }
    for name, labels in expected.items():
        assert name in samples, f"{name} not exported"
        assert set(samples[name]) == labels, (name, samples[name])


def test_every_metric_has_help_and_no_identifying_label() -> None:
    registry, _ = populated_registry()
    for family in registry.collect():
        assert family.name.startswith("motcua_"), family.name
        assert len(family.documentation) > 20, f"{family.name}: help text too thin"
        for sample in family.samples:
            assert not FORBIDDEN_LABELS & set(sample.labels), (family.name, sample.labels)


def test_help_text_names_the_label_values_the_domain_uses() -> None:
    """Where a help text lists a label's values, they are the values the events carry."""
    registry, _ = populated_registry()
    docs = {f.name: f.documentation for f in registry.collect()}
    listed = {name: re.search(r"\(([a-z_, ]+)\)\.$", doc) for name, doc in docs.items()}
    expected = {
        "motcua_dossiers_received": {c.value for c in Channel},
        "motcua_dossiers_returned": {t.value for t in Timeliness},
        # A breach is an alert at or past a due time: every kind but the due-soon warning.
        "motcua_sla_breaches": {k.value for k in AlertKind if k is not AlertKind.DUE_SOON},
        "motcua_sla_alerts": {k.value for k in AlertKind},
        "motcua_step_alerts": {AlertKind.DUE_SOON.value, AlertKind.OVERDUE.value},
    }
    for name, values in expected.items():
        match = listed[name]
        assert match is not None, f"{name}: help text lists no values: {docs[name]}"
        assert set(match[1].split(", ")) == values, (name, docs[name])


def _bucket_of(seconds: float) -> float:
    """The upper bound of the finest turnaround bucket that counts an observation of
    `seconds`."""
    _, mx = m.fresh_registry()
    mx.dossier_turnaround.observe(seconds)
    return min(float(s.labels["le"]) for f in mx.dossier_turnaround.collect()
               for s in f.samples if s.name.endswith("_bucket") and s.value == 1)


def test_turnaround_buckets_tell_legal_processing_times_apart() -> None:
    """Four hours, three days, three weeks and the longest legal time in the packaged catalog
    (received just before Tết, the longest holiday) each land in a different finite bucket,
    so p50/p95 over real dossiers say something."""
    cal = load_calendar()
    received = datetime(2026, 2, 12, 16, tzinfo=cal.tz)
    longest = max(due_at(cal, received, p.prescribed_amount, p.prescribed_unit,
                         p.counting_rule) - received for p in load_catalog().procedures.values())
    times = [4 * m.HOUR, 3 * m.DAY, 21 * m.DAY, longest.total_seconds()]
    buckets = [_bucket_of(t) for t in times]
    assert all(b != float("inf") for b in buckets), (longest, buckets)
    assert len(set(buckets)) == len(buckets), (longest, buckets)


def test_fresh_registries_are_independent_and_start_empty() -> None:
    registry, mx = m.fresh_registry()
    families = exported_families(registry)
    assert families["motcua_dossiers_open"].samples == []
    assert families["motcua_dossiers_snapshot_timestamp_seconds"].samples == []
    other, _ = m.fresh_registry()  # building twice must not collide
    mx.sla_alerts.labels(AlertKind.OVERDUE.value).inc()
    assert registry.get_sample_value("motcua_sla_alerts_total", {"kind": "overdue"}) == 1
    assert other.get_sample_value("motcua_sla_alerts_total", {"kind": "overdue"}) is None


def _series(name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of counter `name` in the default registry, by its labels."""
    return {tuple(sorted(s.labels.items())): s.value for f in REGISTRY.collect()
            for s in f.samples if s.name == name}


def test_prime_makes_every_series_the_projector_moves_start_at_zero() -> None:
    """After `prime`, counting real events (as the projector does) only moves series that
    were already exported at 0: each first event is an increase that `increase()` sees,
    as the `MotcuaLateReturns` alert needs."""
    unit = "TEST.PRIME"
    m.METRICS.prime([unit])
    names = ("motcua_dossiers_received_total", "motcua_dossiers_returned_total",
             "motcua_sla_breaches_total", "motcua_sla_alerts_total")
    before = {name: _series(name) for name in names}
    primed = [v for series in before.values() for k, v in series.items() if ("unit", unit) in k]
    breaches = len(AlertKind) - 1  # every kind but due soon
    assert len(primed) == len(Channel) + len(Timeliness) + breaches and set(primed) == {0}
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    dossier = Dossier(unit_code=unit)
    applied: list[tuple[ev.Event, Dossier]] = [
        *((ev.DossierReceived(at=at, code=f"{unit}-{c.value}", unit_code=unit,
                              procedure_code="1.001193", channel=c, applicant_name="A"),
           dossier) for c in Channel),
        *((ev.ResultReturned(at=at, timeliness=t, turnaround_seconds=3600), dossier)
          for t in Timeliness),
        *((ev.DeadlineAlertRaised(at=at, kind=k, deadline_version=1, due_at=at), dossier)
          for k in AlertKind),
    ]
    counting.count(applied)
    for name in names:
        after = _series(name)
        assert set(after) == set(before[name]), f"{name}: a series appeared only at 1"
        moved = [k for k in after if after[k] != before[name][k]]
        assert moved and all(after[k] == before[name][k] + 1 for k in moved), name


def test_prime_notifications_covers_every_kind_and_outcome() -> None:
    registry, mx = m.fresh_registry()
    mx.prime_notifications()
    seen = {(s.labels["kind"], s.labels["outcome"]) for f in registry.collect()
            for s in f.samples if s.name == "motcua_notifications_total"}
    kinds = {*(k.value for k in AlertKind), "step_due_soon", "step_overdue"}  # + step alerts
    assert seen == {(k, o) for k in kinds for o in ("delivered", "failed", "retried")}
    assert {s.value for f in registry.collect() for s in f.samples
            if s.name == "motcua_notifications_total"} == {0}


class FakePool:
    """Stands in for asyncpg.Pool: returns grouped rows, or raises, and counts calls."""

    def __init__(self, rows: list[dict[str, Any]], fail_first: bool = False) -> None:
        self.rows = rows
        self.fail_first = fail_first
        self.calls = 0
        self.sql = ""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        self.calls += 1
        self.sql = sql
        if self.fail_first and self.calls == 1:
            raise ConnectionError("database unavailable")
        return self.rows


ROWS = [
    {"unit": "H35", "state": "processing", "sla_status": "overdue", "n": 4,
     "overdue_without_apology": 3},
    {"unit": "H35", "state": "assigned", "sla_status": "overdue", "n": 2,
     "overdue_without_apology": 1},
    {"unit": "X01", "state": "received", "sla_status": "on_track", "n": 9,
     "overdue_without_apology": 0},
]


async def test_refresh_builds_the_snapshot_that_collect_serves() -> None:
    registry, mx = m.fresh_registry()
    pool = FakePool(ROWS)
    await mx.open_dossiers.refresh(pool)  # type: ignore[arg-type]
    assert "GROUP BY" in pool.sql and "dossiers" in pool.sql
    value = registry.get_sample_value
    assert value("motcua_dossiers_open",
                 {"unit": "H35", "state": "processing", "sla_status": "overdue"}) == 4
    assert value("motcua_dossiers_overdue_without_apology", {"unit": "H35"}) == 4
    assert value("motcua_dossiers_overdue_without_apology", {"unit": "X01"}) is None
    assert (value("motcua_dossiers_snapshot_timestamp_seconds") or 0) > 0
    calls = pool.calls
    generate_latest(registry)  # a scrape
    assert pool.calls == calls, "collect() must not query the database"


async def test_refresher_survives_a_failed_read_and_stops_on_cancel() -> None:
    _, mx = m.fresh_registry()
    pool = FakePool(ROWS, fail_first=True)
    task = asyncio.create_task(mx.open_dossiers.run_refresher(pool, interval=0.01))  # type: ignore[arg-type]
    for _ in range(200):
        if mx.open_dossiers.snapshot.taken_at:
            break
        await asyncio.sleep(0.01)
    assert pool.calls >= 2 and mx.open_dossiers.snapshot.open
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class _Rollback(Exception):
    pass


@pytest.mark.engine
async def test_refresh_sql_runs_against_the_real_read_model(pool: Any) -> None:
    """The GROUP BY against the migrated schema, inside a transaction that is rolled back: the
    SLA status comes from the due instants and the refresh's instant, not from the stored
    `sla_status` (issue 27 item 1), and the snapshot knows when it next changes."""
    _, mx = m.fresh_registry()
    # Far past every other test's dossiers (the database is shared): their due instants are
    # all behind `at`, so the next change is this test's own (a 2026 instant met other tests'
    # due-soon instants on the day it was run).
    at = datetime(2090, 12, 7, 10, 0, tzinfo=UTC)
    insert = """
        INSERT INTO dossiers (code, unit_code, procedure_code, state, status_code, sla_status,
                              channel, received_at, due_at, due_soon_at, judged_due_at,
                              apology_sent, version, updated_at, snapshot)
        VALUES ($1, 'TEST.METRICS', '1.004222', $2, 4, $3, 'counter', $5, $6, $7, $6, $4, 1,
                now(), '{}'::jsonb)
    """
    hour = timedelta(hours=1)
    async with pool.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                # Due an hour ago, no timer event projected yet: the stored status is stale.
                await conn.execute(insert, "M-1", "processing", "on_track", False,
                                   at - 48 * hour, at - hour, at - 9 * hour)
                await conn.execute(insert, "M-2", "processing", "on_track", True,
                                   at - 48 * hour, at - hour, at - 9 * hour)
                # Due tomorrow, due soon in two hours (whatever the stored status says).
                await conn.execute(insert, "M-3", "received", "overdue", False,
                                   at - hour, at + 24 * hour, at + 2 * hour)
                await conn.execute(insert, "M-4", "returned", "closed", False,  # not open
                                   at - 48 * hour, at - hour, at - 9 * hour)
                snap = await mx.open_dossiers.refresh(conn, at)
                later = await mx.open_dossiers.refresh(conn, at + 2 * hour)
                raise _Rollback
    mine = {k: v for k, v in snap.open.items() if k[0] == "TEST.METRICS"}
    assert mine == {("TEST.METRICS", "processing", "overdue"): 2,
                    ("TEST.METRICS", "received", "on_track"): 1}
    assert snap.overdue_without_apology.get("TEST.METRICS") == 1
    assert snap.next_change == (at + 2 * hour).timestamp()
    assert later.open[("TEST.METRICS", "received", "due_soon")] == 1
