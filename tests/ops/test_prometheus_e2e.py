"""End to end with a real Prometheus: the project's scrape config and alert rules, against the
engine's own metrics endpoint, see a dossier's overdue alert firing."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from motcua import dossiers
from motcua.devstack.procs import free_ports, terminate, wait_for_port
from motcua.eventstore import projector
from motcua.health import Readiness, serve
from motcua.metrics import OPEN_DOSSIERS
from tests.conftest import TASK_QUEUE, receipt

pytestmark = pytest.mark.engine

DEPLOY = Path(__file__).parents[2] / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus")


def _fast_rules(target: Path) -> None:
    """The project's rules, evaluated every second and without their `for:` hold time (5 min
    and more in production), so a test can see them fire; expressions are unchanged."""
    for path in (DEPLOY / "rules").glob("*.yml"):
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in rules["groups"]:
            group["interval"] = "1s"
            for rule in group["rules"]:
                rule.pop("for", None)
        (target / path.name).write_text(yaml.safe_dump(rules), encoding="utf-8")


def _config(target: Path, metrics_port: int) -> Path:
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text("utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config.pop("alerting", None)
    api = next(j for j in config["scrape_configs"] if j["job_name"] == "motcua-api")
    api["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    config["scrape_configs"] = [api]
    (target / "rules").mkdir()
    _fast_rules(target / "rules")
    path = target / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real Prometheus scraping a metrics endpoint of this process."""
    if PROMETHEUS is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed (.ci/apt-packages installs it)")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    metrics_port, port = free_ports(2)
    readiness = Readiness()
    readiness.results["test"] = "ok"
    serve(metrics_port, readiness)
    config = _config(tmp_path, metrics_port)
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"),  # noqa: SIM115
        start_new_session=True)
    try:
        wait_for_port(port, 30, proc)
        yield f"http://127.0.0.1:{port}", metrics_port
    finally:
        terminate(proc)


async def test_overdue_dossier_fires_its_alerts(prometheus: tuple[str, int], client: Client,
                                                worker: None, pool: asyncpg.Pool) -> None:
    """A dossier left past its due time (virtual time) shows as overdue in the read model,
    the exported gauge, and Prometheus fires MotcuaDossiersOverdue and
    MotcuaOverdueWithoutApology for its unit."""
    base, _ = prometheus
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    unit = "000.26.39.H39"
    # Received (imported) a month ago: its due instant has passed on the wall clock too, which
    # is what the read model and the gauges judge by (issue 27 item 1); the workflow's timers
    # fire at once, so the alerts' events are there as well.
    d = await dossiers.receive(skipper.client, receipt(
        unit_code=unit, original_received_at=datetime.now(UTC) - timedelta(days=30)),
        task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.due_at < datetime.now(UTC)
    async with pool.acquire() as conn:
        await projector.catch_up(conn)
    snapshot = await OPEN_DOSSIERS.refresh(pool)
    assert snapshot.open.get((unit, "received", "overdue"), 0) >= 1
    wanted = {"MotcuaDossiersOverdue", "MotcuaOverdueWithoutApology"}
    firing: set[str] = set()
    async with httpx.AsyncClient() as http:
        for _ in range(120):
            answer = (await http.get(f"{base}/api/v1/query", params={
                "query": f'ALERTS{{alertstate="firing", unit="{unit}"}}'})).json()
            firing = {r["metric"]["alertname"] for r in answer["data"]["result"]}
            if wanted <= firing:
                break
            await asyncio.sleep(0.5)
    assert wanted <= firing
