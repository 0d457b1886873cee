"""motcua.metrics: every metric exposes cleanly (promtool check metrics), with the contract's
names, bounded labels and buckets; the open-dossier collector never touches the DB in collect()."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from motcua import metrics as m
from tests.deploy._support import run

FORBIDDEN_LABELS = {"code", "dossier", "dossier_id", "dossier_code", "id", "name", "person",
                    "citizen", "assignee", "officer", "user", "path", "url", "token"}


def populated_registry() -> tuple[CollectorRegistry, m.Metrics]:
    """A fresh registry with at least one sample in every motcua metric (no DB involved)."""
    registry, mx = m.fresh_registry()
    mx.dossiers_received.labels("000.00.15.H35", "direct").inc()
    for t in m.TIMELINESS:
        mx.dossiers_returned.labels("000.00.15.H35", t).inc()
    mx.sla_breaches.labels("000.00.15.H35", "overdue").inc()
    mx.sla_alerts.labels("due_soon").inc()
    mx.notifications.labels("overdue", "delivered").inc()
    mx.dossier_turnaround.observe(3 * m.DAY)
    mx.event_store_append.observe(0.004)
    mx.projection_lag.set(1.5)
    mx.http_request_duration.labels("/v1/dossiers/{code}", "GET", "200").observe(0.02)
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
        "motcua_notifications_total": {"kind", "outcome"},
        "motcua_dossier_turnaround_seconds_bucket": {"le"},
        "motcua_event_store_append_seconds_bucket": {"le"},
        "motcua_projection_lag_seconds": set(),
        "motcua_http_request_duration_seconds_bucket": {"route", "method", "status", "le"},
        "motcua_dossiers_open": {"unit", "state", "sla_status"},
        "motcua_dossiers_overdue_without_apology": {"unit"},
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


def test_turnaround_buckets_run_from_an_hour_to_two_months() -> None:
    days = [b / m.DAY for b in m.TURNAROUND_BUCKETS]
    assert days == [1 / 24, 4 / 24, 8 / 24, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60]


def test_empty_snapshot_exports_no_samples_and_fresh_registries_are_independent() -> None:
    registry, _ = m.fresh_registry()
    families = exported_families(registry)
    assert families["motcua_dossiers_open"].samples == []
    assert families["motcua_dossiers_snapshot_timestamp_seconds"].samples == []
    other, _ = m.fresh_registry()  # building twice must not collide
    assert other is not registry


def test_prime_creates_zero_children_so_first_increments_are_seen() -> None:
    registry, mx = m.fresh_registry()
    mx.prime(["U1"], channels=["direct", "online"])
    value = registry.get_sample_value
    assert value("motcua_dossiers_returned_total", {"unit": "U1", "timeliness": "late"}) == 0
    assert value("motcua_dossiers_received_total", {"unit": "U1", "channel": "online"}) == 0
    assert value("motcua_notifications_total", {"kind": "overdue", "outcome": "failed"}) == 0


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


def test_start_metrics_server_serves_the_default_registry() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    m.start_metrics_server(port, addr="127.0.0.1")
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "motcua_dossiers_received_total" in body


class _Rollback(Exception):
    pass


@pytest.mark.engine
async def test_refresh_sql_runs_against_the_real_read_model(pool: Any) -> None:
    """The GROUP BY against the migrated schema, inside a transaction that is rolled back."""
    _, mx = m.fresh_registry()
    insert = """
        INSERT INTO dossiers (code, unit_code, procedure_code, state, status_code, sla_status,
                              channel, received_at, due_at, apology_sent, version, updated_at,
                              snapshot)
        VALUES ($1, 'TEST.METRICS', '1.004222', $2, 4, $3, 'direct', now(), now(), $4, 1, now(),
                '{}'::jsonb)
    """
    async with pool.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                await conn.execute(insert, "M-1", "processing", "overdue", False)
                await conn.execute(insert, "M-2", "processing", "overdue", True)
                await conn.execute(insert, "M-3", "received", "on_track", False)
                await conn.execute(insert, "M-4", "returned", "closed", False)  # not open
                snap = await mx.open_dossiers.refresh(conn)
                raise _Rollback
    mine = {k: v for k, v in snap.open.items() if k[0] == "TEST.METRICS"}
    assert mine == {("TEST.METRICS", "processing", "overdue"): 2,
                    ("TEST.METRICS", "received", "on_track"): 1}
    assert snap.overdue_without_apology.get("TEST.METRICS") == 1
