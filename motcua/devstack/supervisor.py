"""`motcua dev`: PostgreSQL, the Temporal dev server, migrations, worker, projector and API,
all data in one folder, stopped together on Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import asyncpg

from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import StackError, port_free, terminate, wait_for_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore.migrate import migrate


def _lock(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on the data folder for as long as this process lives."""
    handle = open(data_dir / "dev.lock", "a+")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        raise StackError(f"another `motcua dev` (pid {pid}) is already using {data_dir}") \
            from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _child(name: str, args: list[str], env: dict[str, str],
           log_dir: Path) -> subprocess.Popen[bytes]:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen([sys.executable, "-m", "motcua.cli", *args], env=env,
                            stdout=log, stderr=log, start_new_session=True)


async def _prepare_database(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def _dev_token(data_dir: Path, env: dict[str, str]) -> str | None:
    """Create, once, a development token with every role; None until the API has tokens."""
    path = data_dir / "dev-token"
    if path.exists():
        return path.read_text().strip()
    try:
        from motcua.api.tokens import create_dev_token
    except ImportError:
        return None
    token = asyncio.run(create_dev_token(env["DATABASE_URL"]))
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def run_dev(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    children: dict[str, subprocess.Popen[bytes]] = {}
    lock: IO[str] | None = None
    pg: EmbeddedPostgres | None = None
    temporal: TemporalDevServer | None = None
    stop = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    try:
        lock = _lock(data_dir)
        if not port_free(args.port):
            raise StackError(f"port {args.port} is already in use (API); use --port")
        pg = EmbeddedPostgres(data_dir / "postgres", args.pg_port)
        temporal = TemporalDevServer(data_dir / "temporal.db", args.temporal_port,
                                     ui_port=args.temporal_ui_port,
                                     log_file=data_dir / "temporal.log")
        pg.start()
        temporal.start()
        asyncio.run(_prepare_database(pg.dsn))
        env = {**os.environ, "DATABASE_URL": pg.dsn,
               "MOTCUA_TEMPORAL_ADDRESS": temporal.address}
        env.setdefault("MOTCUA_LOG_FORMAT", "json")
        token = _dev_token(data_dir, env)
        children["worker"] = _child("worker", ["worker"], {
            **env, "MOTCUA_METRICS_PORT": "9464", "MOTCUA_SDK_METRICS_PORT": "9465"}, data_dir)
        children["projector"] = _child("projector", ["projector"], {
            **env, "MOTCUA_METRICS_PORT": "9466", "MOTCUA_SDK_METRICS_PORT": "0"}, data_dir)
        children["api"] = _child(
            "api", ["api", "--host", "127.0.0.1", "--port", str(args.port)],
            {**env, "MOTCUA_METRICS_PORT": "0", "MOTCUA_SDK_METRICS_PORT": "0"}, data_dir)
        wait_for_port(args.port, 30, children["api"])
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        print(f"motcua dev is ready in {time.monotonic() - started:.1f}s (data in {data_dir})")
        print(f"  API            http://127.0.0.1:{args.port}  (docs: /docs, /openapi.json)")
        print(f"  metrics        http://127.0.0.1:{args.port}/metrics, worker :9464, "
              f"Temporal SDK :9465, projector :9466")
        print(f"  Temporal       {temporal.address}  (UI http://127.0.0.1:{args.temporal_ui_port})")
        print(f"  PostgreSQL     {pg.dsn}")
        if token:
            print(f"  dev token      {token}  (also in {data_dir / 'dev-token'})")
        print(f"  logs           {data_dir}/*.log   — Ctrl-C stops everything", flush=True)
        while not stop:
            for name, child in children.items():
                if child.poll() is not None:
                    raise StackError(f"{name} exited with code {child.returncode}; "
                                     f"see {data_dir}/{name}.log")
            time.sleep(0.5)
        print("stopping…", flush=True)
        return 0
    except StackError as err:
        print(f"motcua dev: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for child in reversed(children.values()):
            terminate(child, timeout=40)
        if temporal is not None:
            temporal.stop()
        if pg is not None:
            pg.stop()
        if lock is not None:
            lock.close()
