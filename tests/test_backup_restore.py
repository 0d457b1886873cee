"""Issue 24.13: a backup that restores. Dossiers are made on a stack, `motcua backup` dumps its
database (keys apart), `motcua restore` puts it into a fresh PostgreSQL, and a worker and API
on the restored database, with the same Temporal, carry on: the open dossiers are there, on
their timers, with their lookup secrets, tokens, users and outbox."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from motcua import lookup
from motcua.access.tokens import create_token
from motcua.access.users import create_user
from motcua.app import create_app
from motcua.config import Settings
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore import outbox
from motcua.eventstore.migrate import migrate
from motcua.eventstore.projector import catch_up
from motcua.payload_codec import Keyring
from motcua.temporal import connect
from tests.api.conftest import act, bearer, receipt_body
from tests.conftest import settings_for
from worker import build_worker

pytestmark = pytest.mark.engine

# A unit no other test receives in: this test's database numbers its dossiers from 1 on the
# session's Temporal server, where the session database's dossiers of other units live.
UNIT = "000.23.39.H39"


def _cli(*args: str, database_url: str, keys: str | None) -> subprocess.CompletedProcess[str]:
    """`motcua <args>` as an operator runs it, with DATABASE_URL and (maybe) the keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env["DATABASE_URL"] = database_url
    if keys is not None:
        env["MOTCUA_PAYLOAD_KEYS"] = keys
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


@asynccontextmanager
async def _stack(settings: Settings, client: Client, pool: asyncpg.Pool
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """A worker and the API on `settings`' database and task queue."""
    async with build_worker(settings, client, pool) as worker, worker:
        app = create_app(settings, client=client, pool=pool)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://motcua.test",
                timeout=30) as http:
            yield http


async def _fresh_database(postgres: EmbeddedPostgres) -> str:
    name = f"backup_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres.dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        # A cluster in service has used many transaction ids, a new one few: age this one, so
        # its events carry ids the restored cluster has not reached yet (as in production).
        await conn.execute("DO $$ BEGIN FOR i IN 1..5000 LOOP PERFORM pg_current_xact_id(); "
                           "COMMIT; END LOOP; END $$")
    finally:
        await conn.close()
    return dsn


async def _events(pool: asyncpg.Pool, code: str, event_type: str, want: int) -> int:
    """How many `event_type` events `code` has, waiting up to 30 s for `want` of them."""
    deadline = time.monotonic() + 30
    while True:
        count = int(await pool.fetchval(
            "SELECT count(*) FROM events WHERE stream = $1 AND event_type = $2",
            code, event_type))
        if count >= want or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


async def test_a_backup_restores_into_a_fresh_postgres_and_the_dossiers_go_on(
        postgres: EmbeddedPostgres, temporal_server: TemporalDevServer, tmp_path: Path) -> None:
    """Backed up with the worker stopped and restored into a new PostgreSQL (refused
    without the keys, into a database that has tables, and whole or not at all), the stack on
    the restored database serves the dossiers with the old tokens and lookup secrets, acts on
    them, fires their timers into the restored event log, and keeps the pending deliveries,
    users and catalog; the projector and the outbox take up the new events (the new cluster's
    transaction ids are lower than the restored ones); the dump holds no key and is readable
    by its owner only, and the keys cannot be written beside it."""
    keys = Keyring.generate("bk1")
    source_dsn = await _fresh_database(postgres)
    queue = f"motcua-backup-{uuid.uuid4().hex[:6]}"
    settings = settings_for(postgres, temporal_server, task_queue=queue).model_copy(update={
        "database_url": source_dsn, "payload_keys": SecretStr(keys),
        "webhook_url": "http://127.0.0.1:9/never-called", "webhook_secret": SecretStr("s")})
    sealed = await connect(settings, interceptors=[])
    skipper = TimeSkipper(sealed, config=TimeSkippingConfig(enabled=False))

    source = await asyncpg.create_pool(source_dsn, min_size=1, max_size=5)
    try:
        token = await create_token(source, name="clerk-bk", roles=["clerk", "leader"])
        await create_user(source, username="leader-bk", password="mật-khẩu-dài-đủ-12",
                          roles=["leader"], unit_code=None)
        async with _stack(settings, skipper.client, source) as http:
            made = []
            for _ in range(3):
                response = await http.post("/v1/dossiers", json=receipt_body(unit_code=UNIT),
                                           headers=bearer(token))
                assert response.status_code == 201, response.text
                made.append(response.json())
            open_code, timed_code, alerted_code = (d["code"] for d in made)
            secrets = {d["code"]: await lookup.issue(source, d["code"], issued_by="clerk-bk")
                       for d in made}
            # One dossier past its due time before the backup: its alerts wait in the outbox.
            alerted = made[2]
            await skipper.fast_forward(
                skipper.client.get_workflow_handle(alerted_code),
                timedelta(days=1) + (_at(alerted["due_at"]) - _at(alerted["received_at"])))
            assert await _events(source, alerted_code, "DeadlineAlertRaised", 3) == 3
        await _project_and_ingest(source)
        before = {t: await source.fetchval(f"SELECT count(*) FROM {t}") for t in (
            "events", "dossiers", "notification_deliveries", "catalog_versions",
            "dossier_lookup", "console_users", "api_tokens", "pii_reads")}
        user_hash = await source.fetchval(
            "SELECT password_hash FROM console_users WHERE username = 'leader-bk'")
    finally:
        await source.close()

    data_dir, key_dir = tmp_path / "data", tmp_path / "keys"
    dump_file = data_dir / "motcua.dump"
    beside = _cli("backup", "--output", str(dump_file), "--keys-output",
                  str(data_dir / "keys"), database_url=source_dsn, keys=keys)
    assert beside.returncode == 1 and "apart" in beside.stderr, beside
    backup = _cli("backup", "--output", str(dump_file), "--keys-output",
                  str(key_dir / "payload-keys"), database_url=source_dsn, keys=keys)
    assert backup.returncode == 0, backup.stderr
    assert stat.S_IMODE(dump_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((key_dir / "payload-keys").stat().st_mode) == 0o600
    key_material = keys.split(":", 1)[1].encode()
    assert key_material not in dump_file.read_bytes()
    assert key_material not in (data_dir / "motcua.dump.manifest.json").read_bytes()
    assert b"bk1" in (data_dir / "motcua.dump.manifest.json").read_bytes()

    fresh = EmbeddedPostgres(tmp_path / "pg-restored", free_port())
    fresh.start()
    try:
        # A dump whose rows differ from its manifest restores nothing (one transaction).
        bad = data_dir / "bad.dump"
        bad.write_bytes(dump_file.read_bytes())
        manifest = json.loads((data_dir / "motcua.dump.manifest.json").read_text())
        manifest["tables"]["events"] += 1
        (data_dir / "bad.dump.manifest.json").write_text(json.dumps(manifest))
        refused = _cli("restore", str(bad), database_url=fresh.dsn, keys=keys)
        assert refused.returncode == 1 and "differ from the manifest: events" in \
            refused.stderr, refused
        no_keys = _cli("restore", str(dump_file), database_url=fresh.dsn, keys=None)
        assert no_keys.returncode == 1 and "bk1" in no_keys.stderr, no_keys
        kept_keys = (key_dir / "payload-keys").read_text(encoding="utf-8").strip()
        restored = _cli("restore", str(dump_file), database_url=fresh.dsn, keys=kept_keys)
        assert restored.returncode == 0, restored.stderr
        again = _cli("restore", str(dump_file), database_url=fresh.dsn, keys=kept_keys)
        assert again.returncode == 1 and "not empty" in again.stderr, again

        target = await asyncpg.create_pool(fresh.dsn, min_size=1, max_size=5)
        try:
            after = {t: await target.fetchval(f"SELECT count(*) FROM {t}") for t in before}
            assert after == before
            assert await target.fetchval("SELECT password_hash FROM console_users WHERE "
                                         "username = 'leader-bk'") == user_hash
            assert await target.fetchval(
                "SELECT count(*) FROM notification_deliveries d JOIN events e "
                "ON e.event_id = d.alert_event_id WHERE e.stream = $1 "
                "AND d.status = 'pending'", alerted_code) == 3
            restored_settings = settings.model_copy(update={
                "database_url": fresh.dsn, "payload_keys": SecretStr(kept_keys)})
            async with _stack(restored_settings, skipper.client, target) as http:
                listed = await http.get("/v1/dossiers", params={"limit": 50},
                                        headers=bearer(token))
                assert listed.status_code == 200, listed.text
                assert {open_code, timed_code} <= {d["code"] for d in listed.json()["items"]}
                for code, secret in secrets.items():
                    public = await http.get(f"/v1/public/dossiers/{code}",
                                            headers={"X-Lookup-Secret": secret})
                    assert public.status_code == 200, (code, public.text)
                assigned = await act(http, token, open_code, "assign", {"officer": "o-bk"})
                assert assigned.status_code == 200, assigned.text
                assert await _events(target, open_code, "OfficerAssigned", 1) == 1
                timed = made[1]
                await skipper.fast_forward(
                    skipper.client.get_workflow_handle(timed_code),
                    timedelta(days=1) + (_at(timed["due_at"]) - _at(timed["received_at"])))
                assert await _events(target, timed_code, "DeadlineAlertRaised", 3) == 3
                positions = [r["position"] for r in await target.fetch(
                    "SELECT position FROM events WHERE stream = $1 ORDER BY position",
                    timed_code)]
                assert positions == list(range(1, len(positions) + 1))
            # The projector and the dispatcher's outbox take up the events stored after the
            # restore (they read in commit order, by transaction id: a fresh cluster's ids
            # start lower than the restored ones).
            await _project_and_ingest(target)
            assert await target.fetchval("SELECT assignee FROM dossiers WHERE code = $1",
                                         open_code) == "o-bk"
            assert await target.fetchval(
                "SELECT count(*) FROM notification_deliveries WHERE stream = $1",
                timed_code) == 3
        finally:
            await target.close()
    finally:
        fresh.destroy()


async def _project_and_ingest(pool: asyncpg.Pool) -> None:
    """What the projector and the dispatcher do, once: read models and outbox up to date."""
    async with pool.acquire() as conn:
        await catch_up(conn)
        while await outbox.ingest_batch(conn):
            pass


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
